"""The SQLite trial store: round trips, WAL mode, and several processes writing at once."""
from __future__ import annotations

import math
import multiprocessing as mp
import sqlite3

from nas_core.experiment import TrialRecord, TrialStore


def test_round_trip_and_duplicate_ids(tmp_path):
    store = TrialStore(tmp_path)
    rec = TrialRecord(id=1, batch=1, sample={"a": 1, "b": [0, 2]}, status="failed", score=None,
                      metrics={"accuracy": math.nan}, costs={"flops": 1200.0}, feasible=False,
                      error="ValueError: boom", duration=0.5, worker="host:1", attempts=2)
    assert store.add_trial(rec) is True
    assert store.add_trial(rec) is False  # never twice
    got = store.trial(1)
    assert got.sample == {"a": 1, "b": [0, 2]} and got.costs == {"flops": 1200.0}
    assert math.isnan(got.metrics["accuracy"]) and got.error == "ValueError: boom" and got.attempts == 2
    assert store.count() == 1 and store.count("failed") == 1 and store.count("succeeded") == 0
    mode = sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def _writer(path: str, start: int, n: int) -> None:
    store = TrialStore(path)
    for i in range(start, start + n):
        store.add_trial(TrialRecord(id=i, batch=i, sample={"i": i}, status="succeeded", score=float(i),
                                    metrics={"accuracy": i / 100}, worker=f"w{start}"))


def test_concurrent_writers_lose_nothing(tmp_path):
    # fork: the writers need no fresh interpreter, and spawning four would re-import torch four times
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), k * 40 + 1, 40)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    trials = TrialStore(tmp_path).trials()
    assert [t.id for t in trials] == list(range(1, 161))
    assert all(t.metrics["accuracy"] == t.id / 100 for t in trials)
