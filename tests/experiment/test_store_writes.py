"""The store's write side: a trial recorded when asked and when told, one state row, linear growth."""
from __future__ import annotations

import os
import sqlite3

from nas_core.experiment import Experiment, TrialRecord, TrialStore
from nas_core.experiment.query import best_trial
from nas_core.experiment.store import ResumePoint

import nas_exp_testkit as kit
import sched_kit


def test_ask_and_tell_each_write_the_trial_and_replace_the_one_state(tmp_path):
    store = TrialStore(tmp_path)
    assert store.resume_point() is None
    store.record([TrialRecord(id=1, batch=0, sample={"w": 4}, status="rejected", score=0.0, told=1),
                  TrialRecord(id=2, batch=0, sample={"w": 8}, status="running", attempts=0)],
                 ResumePoint(next_id=3, told=1, batch=0, elapsed=1.5, state={"i": 2}))
    store.record([TrialRecord(id=3, batch=0, sample={"w": 16}, status="running", attempts=0)],
                 ResumePoint(4, 1, 0, 2.0, {"i": 3}))
    assert [r.id for r in store.untold_trials()] == [2, 3]
    store.record([TrialRecord(id=3, batch=0, sample={"w": 16}, status="pruned", score=0.7, metrics={"acc": 0.7},
                              costs={"flops": 9.0}, told=2, partial=True)], ResumePoint(4, 2, 0, 3.0, {"i": 3}))
    store.record([TrialRecord(id=2, batch=0, sample={"w": 8}, status="succeeded", score=0.6, told=3)],
                 ResumePoint(4, 3, 0, 4.0, {"i": 3, "best": 0.7}))
    point = store.resume_point()
    assert (point.next_id, point.told, point.elapsed, point.state) == (4, 3, 4.0, {"i": 3, "best": 0.7})
    history = store.told_history()
    assert [(s, r.status, r.score, r.partial) for s, r in history] == [
        ({"w": 4}, "rejected", 0.0, False), ({"w": 16}, "pruned", 0.7, True), ({"w": 8}, "succeeded", 0.6, False)]
    assert history[1][1].metrics == {"acc": 0.7, "flops": 9.0}
    assert store.untold_trials() == [] and store.count_asked() == 2
    assert store.trial(3).partial and store.trial(3).told == 2
    assert best_trial(store).id == 2  # the pruned one's score is partial: not a best trial
    con = sqlite3.connect(store.path)
    assert con.execute("SELECT COUNT(*) FROM search_state").fetchone()[0] == 1
    assert {r[0] for r in con.execute("SELECT name FROM sqlite_master")} >= {"trials", "search_state", "meta"}


def _size_after(tmp_path, n: int) -> int:
    exp = Experiment(kit.toy_space, sched_kit.SleepTrainer({4: 0, 8: 0, 16: 0}), sched_kit.GrowingState(),
                     max_trials=n, workdir=tmp_path / str(n), progress=False, keep_weights=False)
    exp.run()
    store = TrialStore(tmp_path / str(n))
    assert store.count() == n
    store.close()
    con = sqlite3.connect(tmp_path / str(n) / "trials.db")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("VACUUM")
    con.close()
    return os.path.getsize(tmp_path / str(n) / "trials.db")


def test_the_store_grows_linearly_with_the_trials(tmp_path):
    small, large = _size_after(tmp_path, 100), _size_after(tmp_path, 400)
    per_trial_small, per_trial_large = small / 100, large / 400
    # this state grows with the trials: kept once per trial (the old strategy_states table), the store would grow
    # quadratically and the large one be ~4x bigger per trial
    assert per_trial_large < 1.25 * per_trial_small, (small, large)


def test_a_store_without_a_resume_point_is_not_resumed_over(tmp_path):
    import pytest

    from nas_core.errors import ConfigError

    TrialStore(tmp_path).add_trial(TrialRecord(id=1, batch=1, sample={"width": 4}, status="succeeded", score=0.5))
    exp = Experiment(kit.toy_space, kit.CheapTrainer(), kit.ToyRandom(), max_trials=2, workdir=tmp_path,
                     progress=False)
    with pytest.raises(ConfigError, match="holds trials but no resume point .* overwrite=True"):
        exp.run()
    assert TrialStore(tmp_path).trial(1).sample == {"width": 4}  # left as it was
