"""kill -9 of the search: asynchronous resume loses and repeats nothing; no worker outlives the search."""
from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from nas_core.experiment import TrialStore

HERE = os.path.dirname(os.path.abspath(__file__))

ASYNC = """
[experiment]
seed = 5
max_trials = 12
workdir = "out"

[space]
class = "nas_exp_testkit:ToySpace"

[strategy]
factory = "nas_exp_testkit:ToyRandom"

[trainer]
factory = "sched_kit:SleepTrainer"
seconds = {{ 4 = 0.5, 8 = 1.0, 16 = 1.5 }}

[executor]
name = "process-pool"
max_workers = 3
"""


def _search(config):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, os.environ.get("PYTHONPATH", "")]))
    return subprocess.Popen([sys.executable, "-m", "nas_core.cli.main", "search", str(config), "--no-progress"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _rows(db):
    if not os.path.exists(db):
        return []
    try:
        con = sqlite3.connect(db, timeout=5)
        rows = con.execute("SELECT id, sample, status, metrics, finished, told FROM trials ORDER BY id").fetchall()
        con.close()
        return rows
    except sqlite3.OperationalError:  # not created yet
        return []


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    out, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - out
        out |= frontier
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_sigkill_at_random_moments_under_async_scheduling_loses_and_repeats_nothing(tmp_path):
    cfg = tmp_path / "async.toml"
    cfg.write_text(ASYNC.format())
    db = tmp_path / "out" / "trials.db"
    rng = random.Random()
    finished_before: dict[int, tuple] = {}
    running_before: dict[int, str] = {}
    kills, done, fresh_starts = 0, False, 0
    while kills < 2 and not done:
        proc = _search(cfg)
        n0 = sum(r[2] != "running" for r in _rows(db))
        deadline = time.time() + 120
        while sum(r[2] != "running" for r in _rows(db)) < n0 + 1 and proc.poll() is None:  # one more finished
            assert time.time() < deadline, "no trial finished in time"
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.8))  # then a random moment
        if proc.poll() is not None:  # the search ended before the kill landed (a loaded machine)
            assert proc.returncode == 0, proc.stdout.read()
            if kills == 0 and fresh_starts < 4:  # nothing was killed yet: start over in an empty folder
                fresh_starts += 1
                shutil.rmtree(tmp_path / "out")
                continue
            done = True
            break
        workers = _descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        kills += 1
        # no worker process outlives its parent by more than 5 s
        t_kill = time.monotonic()
        while any(_alive(p) for p in workers) and time.monotonic() - t_kill < 5:
            time.sleep(0.1)
        assert not any(_alive(p) for p in workers), "worker processes survived the search"
        rows = _rows(db)
        for r in rows:
            if r[2] == "running":
                running_before.setdefault(r[0], r[1])
            else:
                finished_before.setdefault(r[0], r)
    assert kills >= 1
    final = _search(cfg)
    out, _ = final.communicate(timeout=240)
    assert final.returncode == 0, out
    rows = {r[0]: r for r in _rows(db)}
    assert sorted(rows) == list(range(1, len(rows) + 1))
    assert all(r[2] == "succeeded" for r in rows.values())
    assert len(rows) == 12 and len({r[1] for r in rows.values()}) == 12  # the whole space, no sample twice
    for tid, row in finished_before.items():
        assert rows[tid] == row  # no finished trial lost, rerun or changed
    for tid, sample in running_before.items():
        assert rows[tid][1] == sample  # running at a kill: run again with the same sample
    assert sorted(r[5] for r in rows.values()) == list(range(1, 13))  # each told exactly once
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM search_state").fetchone()[0] == 1  # one state, replaced
    con.close()
    assert TrialStore(tmp_path / "out").resume_point().told == 12
