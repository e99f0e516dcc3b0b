"""Generated experiment stores for the dashboard's tests and benchmark (written with the core's TrialStore)."""
from __future__ import annotations

import random
import time
from pathlib import Path

from nas_core.experiment.store import ResumePoint, TrialRecord, TrialStore

__all__ = ["generate_store", "LABELS"]

LABELS = {"op": ["conv3x3", "conv5x5", "sep3x3", "skip"], "width": [8, 16, 32, 64], "depth": [1, 2, 3, 4],
          "inputs": [[0], [1], [0, 1]]}


def generate_store(workdir: str | Path, n: int, seed: int = 0, max_trials: int | None = None,
                   oneshot_epochs: int = 0) -> Path:
    """Write ``n`` trials of a synthetic accuracy/FLOPs/params search into ``workdir/trials.db``.

    About 80 % succeed (a few of them infeasible), 10 % fail with an error, 10 % are
    rejected by a constraint. ``oneshot_epochs`` also stores per-epoch probabilities the
    way the one-shot loop does. Deterministic for a given ``seed``.
    """
    rng = random.Random(seed)
    store = TrialStore(workdir)
    store.set_meta("objectives", [["accuracy", "max"], ["flops", "min"]])
    store.set_meta("units", {"flops": "MACs", "params": "parameters"})
    store.set_meta("costs", ["flops", "params"])
    store.set_meta("labels", list(LABELS))
    store.set_meta("budget", {"max_trials": max_trials or n, "max_duration": None})
    store.set_meta("fingerprint", {"strategy": "Generated", "seed": seed})
    t0 = time.time() - 2.0 * n
    records = []
    for i in range(1, n + 1):
        sample = {k: rng.choice(v) for k, v in LABELS.items()}
        width, depth = sample["width"], sample["depth"]
        flops = float(width * width * 9 * depth * (2 if sample["op"] == "conv5x5" else 1) * 100)
        params = float(width * width * 9 * depth)
        acc = min(0.99, 0.6 + 0.08 * depth + 0.002 * width - (0.1 if sample["op"] == "skip" else 0) + rng.gauss(0, 0.03))
        roll = rng.random()
        status, score, metrics, error, feasible = "succeeded", acc, {"accuracy": acc, "loss": 1 - acc}, None, True
        if roll < 0.1:
            status, score, metrics, error = "failed", None, {}, f"RuntimeError: trial {i} ran out of memory\ntraceback"
        elif roll < 0.2:
            status, score, metrics, error = "rejected", None, {}, f"constraint flops <= 4e6 not met: {flops:g} > 4e6"
        elif roll < 0.25:
            feasible = False
        costs = {"flops": flops, "params": params}
        records.append(TrialRecord(id=i, batch=i, sample=sample, status=status, score=score, metrics=metrics,
                                   costs=costs, feasible=feasible, error=error, duration=1.5 + rng.random(),
                                   worker="gen:1", finished=t0 + 2.0 * i, told=i))
    store.record(records, ResumePoint(next_id=n + 1, told=n, batch=n, elapsed=2.0 * n, state={}))
    if oneshot_epochs:
        store.set_meta("oneshot_candidates", {k: [v if isinstance(v, str) else str(v) for v in d] for k, d in LABELS.items()})
        epochs = []
        for e in range(1, oneshot_epochs + 1):
            probs = {}
            for label, domain in LABELS.items():
                logits = [(j + 1) * e * 0.3 for j in range(len(domain))]
                total = sum(2.718281828 ** v for v in logits)
                probs[label] = [round(2.718281828 ** v / total, 4) for v in logits]
            epochs.append({"epoch": e, "epochs": oneshot_epochs, "weight_loss": 1.0 / e, "probabilities": probs})
        store.set_meta("oneshot_epochs", epochs)
    store.close()
    return Path(workdir)
