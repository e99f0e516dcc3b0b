"""Throughput of each executor and the framework's overhead per trial, on a cheap trainer.

    .venv/bin/python benchmarks/executors.py [--trials 60] [--workers 2] [--sleep 0.02]

The trainer does no real training (one forward pass plus ``--sleep`` seconds), so the
figures measure nas-core: asking the strategy, freezing the sample, shipping the job,
storing the record and telling the result. ``overhead/trial`` is the worker time per
trial not spent inside the trial function: ``(wall * workers - sum(trial durations)) / trials``.
Executor start-up (spawning processes, starting Ray) is measured separately.
"""
from __future__ import annotations

import argparse
import logging
import tempfile
import time

import torch
from torch import nn

import nas_core
from nas_core import ModelSpace, ValueChoice
from nas_core import nn as nnn


class BenchSpace(ModelSpace):
    """An MLP with 4 width choices per layer: 4**4 = 256 samples."""

    def __init__(self) -> None:
        super().__init__()
        ws = [ValueChoice([8, 16, 32, 64], label=f"w{i}") for i in range(4)]
        dims = [16, *ws]
        self.body = nn.Sequential(*[nn.Sequential(nnn.Linear(dims[i], dims[i + 1]), nn.ReLU()) for i in range(4)])
        self.out = nnn.Linear(ws[-1], 10)

    def forward(self, x):
        return self.out(self.body(x))


class CheapTrainer(nas_core.Trainer):
    objective = "accuracy"
    metric_names = ("accuracy",)

    def __init__(self, sleep: float = 0.0) -> None:
        self.sleep = sleep

    def fit(self, model):
        if self.sleep:
            time.sleep(self.sleep)
        with torch.no_grad():
            out = model(torch.ones(4, 16))
        return {"accuracy": float(torch.sigmoid(out.mean()))}


def bench(name: str, executor_factory, trials: int, workers: int, sleep: float) -> dict:
    from nas_core.experiment import Experiment
    from nas_core.experiment.trial import worker_id

    t0 = time.perf_counter()
    executor = executor_factory()
    # warm the workers up (process start, imports) so start-up is not counted as throughput
    for f in [executor.submit(worker_id) for _ in range(workers * 2)]:
        f.result()
    startup = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as wd:
        exp = Experiment(BenchSpace, CheapTrainer(sleep), nas_core.create("strategy", "random"), max_trials=trials,
                         executor=executor, workdir=wd, seed=0, progress=False,
                         keep_weights=False)
        t1 = time.perf_counter()
        exp.run()
        wall = time.perf_counter() - t1
        recs = exp.store.trials()
        failed = [r for r in recs if r.status != "succeeded"]
        if failed:
            raise SystemExit(f"{name}: {len(failed)} trials failed, first error: {failed[0].error}")
        inside = sum(r.duration or 0.0 for r in recs)
    executor.shutdown()
    used = getattr(executor, "max_workers", 1)
    return {"executor": name, "workers": used, "trials": len(recs), "startup_s": startup, "wall_s": wall,
            "trials_per_s": len(recs) / wall, "overhead_ms": 1000 * (wall * used - inside) / len(recs),
            "trial_ms": 1000 * inside / len(recs)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sleep", type=float, default=0.02, help="seconds each cheap trial sleeps")
    ap.add_argument("--no-ray", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from nas_core import InProcessExecutor
    from nas_core.experiment import ProcessPoolExecutor

    runs = [("in-process", InProcessExecutor, 1),
            ("process-pool", lambda: ProcessPoolExecutor(args.workers), args.workers)]
    if not args.no_ray and "ray" in nas_core.available("executor"):
        runs.append(("ray", lambda: nas_core.create("executor", "ray", max_workers=args.workers,
                                                     num_cpus=args.workers), args.workers))
    print(f"{args.trials} trials, cheap trainer sleeping {args.sleep * 1000:.0f} ms, {torch.get_num_threads()} torch threads")
    print(f"{'executor':<13} {'workers':>7} {'startup s':>9} {'trials/s':>9} {'trial ms':>9} {'overhead ms/trial':>18}")
    for name, factory, workers in runs:
        r = bench(name, factory, args.trials, workers, args.sleep)
        print(f"{r['executor']:<13} {r['workers']:>7} {r['startup_s']:>9.2f} {r['trials_per_s']:>9.1f} "
              f"{r['trial_ms']:>9.1f} {r['overhead_ms']:>18.1f}")


if __name__ == "__main__":
    main()
