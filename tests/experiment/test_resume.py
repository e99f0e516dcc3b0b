"""Acceptance: SIGKILL `nas search` mid-run, rerun it, and get exactly the uninterrupted search."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from nas_core.experiment import Experiment, TrialStore

import nas_exp_testkit as kit

from exp_configs import write_toy

HERE = os.path.dirname(os.path.abspath(__file__))


def _search(config, **popen):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, os.environ.get("PYTHONPATH", "")]))
    return subprocess.Popen([sys.executable, "-m", "nas_core.cli.main", "search", str(config), "--no-progress"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)


def _finished(db) -> int:
    if not os.path.exists(db):
        return 0
    try:
        con = sqlite3.connect(db, timeout=5)
        n = con.execute("SELECT COUNT(*) FROM trials WHERE status NOT IN ('rejected', 'running')").fetchone()[0]
        con.close()
        return n
    except sqlite3.OperationalError:  # the table is not created yet
        return 0


def _table(workdir):
    return [(t.id, t.batch, t.sample, t.status, t.metrics, t.costs, t.told) for t in TrialStore(workdir).trials()]


@pytest.mark.slow
def test_sigkill_then_rerun_continues_exactly(tmp_path):
    # an uninterrupted reference run, alongside the same search that gets killed after 4 finished trials
    # batches of 3: the kill lands inside a batch, whose finished trials the rerun must reuse
    ref_cfg = write_toy(tmp_path, "ref.toml", max_trials=10, sleep=0.2, workdir="ref", batch_size=3)
    cfg = write_toy(tmp_path, "run.toml", max_trials=10, sleep=0.2, workdir="run", batch_size=3)
    ref = _search(ref_cfg)
    db = tmp_path / "run" / "trials.db"
    proc = _search(cfg)
    deadline = time.time() + 180
    while _finished(db) < 4:
        assert proc.poll() is None, proc.stdout.read()
        assert time.time() < deadline, "the search recorded no trial in time"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    ref_out, _ = ref.communicate(timeout=240)
    assert ref.returncode == 0, ref_out
    before = [t[:6] for t in _table(tmp_path / "run") if t[3] != "running"]
    assert 4 <= sum(t[3] != "rejected" for t in before) < 10  # killed mid-run
    # the same command again
    again = _search(cfg)
    out, _ = again.communicate(timeout=240)
    assert again.returncode == 0, out
    assert "(resuming)" in out
    after = _table(tmp_path / "run")
    assert all(t[:6] in [a[:6] for a in after] for t in before)  # no finished trial lost or changed
    trained = [t for t in after if t[3] != "rejected"]
    assert len(trained) == 10  # the count continued to the budget
    keys = [str(sorted(t[2].items())) for t in trained]
    assert len(set(keys)) == len(keys)  # none repeated
    assert [t[0] for t in after] == list(range(1, len(after) + 1))
    assert after == _table(tmp_path / "ref")  # exactly the uninterrupted search
    assert (tmp_path / "run" / "best_architecture.json").read_text() == (tmp_path / "ref" / "best_architecture.json").read_text()
    printed = [out[out.index("best architecture"):] for out in (out, ref_out)]
    assert printed[0].split("files:")[0] == printed[1].split("files:")[0]  # same best, same metrics


class _Interrupt(kit.CheapTrainer):
    """Presses Ctrl-C (KeyboardInterrupt) when it reaches the given trial, once."""

    def __init__(self, at: int, flag):
        super().__init__()
        self.at, self.flag, self.n = at, flag, 0

    def fit(self, model):
        self.n += 1
        if self.n == self.at and not self.flag.exists():
            self.flag.write_text("x")
            raise KeyboardInterrupt
        return super().fit(model)


def test_interrupted_batch_reuses_its_finished_trials(tmp_path):
    def exp(wd, trainer):
        space = kit.toy_space()
        return Experiment(space, trainer, kit.HillClimb(), profilers={"params": kit.ParamsCost(space)},
                          max_trials=9, schedule="sync", batch_size=3, seed=4, workdir=wd, progress=False)

    with pytest.raises(KeyboardInterrupt):
        exp(tmp_path / "run", _Interrupt(5, tmp_path / "flag")).run()  # trial 4 of batch 2 done, 5 interrupted
    store = TrialStore(tmp_path / "run")
    assert [(t.status, t.told) for t in store.trials() if t.status != "rejected"] == [
        ("succeeded", 1), ("succeeded", 2), ("succeeded", 3), ("succeeded", None), ("running", None),
        ("running", None)]  # batch 2: trial 4 finished, not told yet; 5 interrupted, 6 asked
    assert store.resume_point().batch == 2
    first = store.trial(4)
    resumed = exp(tmp_path / "run", _Interrupt(5, tmp_path / "flag"))
    resumed.run()
    assert resumed.store.trial(4).finished == first.finished  # reused, not rerun
    exp(tmp_path / "ref", kit.CheapTrainer()).run()
    assert _table(tmp_path / "run") == _table(tmp_path / "ref")


class _InterruptTell(kit.HillClimb):
    """Ctrl-C while being told its 5th trial, once: the kill lands between two tells of a batch."""

    def __init__(self, flag):
        self.flag = flag

    def tell(self, sample, result):
        if self.told == 4 and not self.flag.exists():
            self.flag.write_text("x")
            raise KeyboardInterrupt
        super().tell(sample, result)


def test_sync_batch_interrupted_between_tells_is_completed_not_refilled(tmp_path):
    def exp(wd, strategy):
        return Experiment(kit.toy_space(), kit.CheapTrainer(), strategy, max_trials=9, schedule="sync",
                          batch_size=3, seed=4, workdir=wd, progress=False)

    with pytest.raises(KeyboardInterrupt):
        exp(tmp_path / "run", _InterruptTell(tmp_path / "flag")).run()
    store = TrialStore(tmp_path / "run")
    assert [t.told for t in store.trials()] == [1, 2, 3, 4, None, None]  # batch 2: one told, two finished
    exp(tmp_path / "run", _InterruptTell(tmp_path / "flag")).run()
    exp(tmp_path / "ref", kit.HillClimb()).run()
    assert _table(tmp_path / "run") == _table(tmp_path / "ref")
