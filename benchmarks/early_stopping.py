"""Early stopping on digits: best accuracy and epochs trained, without a pruner, with ASHA
and with median stopping.

    nice -n 10 .venv/bin/python benchmarks/early_stopping.py [--trials 48] [--epochs 30] [--workers 0]

Each run is the same search: random search (``--seed``, default 0) over a digits space (``--space mlp``:
``digits_mlp_space.DigitsMLP``, 72 architectures, the default because the shared 2-core
machine trains it 5x faster than ``--space cnn``: ``digits_table_space.DigitsCNN``, 144
architectures), ``--trials`` trials, the classification trainer on scikit-learn's 8x8
digits (Adam, ``--lr``, batches of ``--batch-size``) for ``--epochs`` epochs per trial,
reporting the validation accuracy after every epoch. Random search proposes the same
architectures whatever it is told, so the runs differ only by the pruner. Figures: the
best validation accuracy of a trial trained to the end, the epochs trained in all (the
sum of every trial's last reported epoch) and their share of the unpruned run's, the
wall time, and the load average (the machine is shared).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
from digits_mlp_space import DigitsMLP  # noqa: E402
from digits_table_space import DigitsCNN  # noqa: E402

from nas_core.experiment import Experiment, ProcessPoolExecutor  # noqa: E402
from nas_core.pruning import CurveStore  # noqa: E402


SPACES = {"mlp": DigitsMLP, "cnn": DigitsCNN}


def run(space: type, pruner: object, trials: int, epochs: int, workers: int, lr: float, batch_size: int,
        seed: int, workdir: Path) -> dict[str, float]:
    from nas_strategy_random import Random
    from nas_trainer_classification import ClassificationTrainer

    executor = ProcessPoolExecutor(workers) if workers else None
    trainer = ClassificationTrainer(dataset="digits", epochs=epochs, batch_size=batch_size, lr=lr, seed=0)
    start = time.perf_counter()
    exp = Experiment(space, trainer, Random(), max_trials=trials, executor=executor, pruner=pruner,
                     workdir=workdir, seed=seed, progress=False, keep_weights=False)
    best = exp.run()
    wall = time.perf_counter() - start
    if executor is not None:
        executor.shutdown()
    with CurveStore(workdir) as curves:
        done = curves.steps_done()
    statuses = [t.status for t in exp.store.trials()]
    return {"best": best.metrics["accuracy"] if best else float("nan"), "epochs": sum(done.values()),
            "pruned": statuses.count("pruned"), "succeeded": statuses.count("succeeded"), "wall": wall}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=48)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--workers", type=int, default=0, help="process-pool workers (0: in-process)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--space", choices=sorted(SPACES), default="mlp")
    ap.add_argument("--seed", type=int, default=0, help="the experiment seed (the samples and each trial's init)")
    ap.add_argument("--pruners", default="none,asha,median", help="comma-separated: none, asha, median")
    args = ap.parse_args(argv)
    configs = {"none": None, "asha": {"name": "asha", "min_resource": 1, "reduction_factor": 3},
               "median": {"name": "median", "start_step": 1}}
    print(f"digits {args.space.upper()} space, random search seed {args.seed}: {args.trials} trials x {args.epochs} epochs, "
          f"{'in-process' if not args.workers else f'{args.workers} process-pool workers'}; "
          f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.pruners.split(","):
            results[name] = run(SPACES[args.space], configs[name], args.trials, args.epochs, args.workers, args.lr,
                                args.batch_size, args.seed, Path(tmp) / name)
            r = results[name]
            print(f"  ran {name:<7} in {r['wall']:.1f} s", flush=True)
    full = results.get("none", {}).get("epochs") or args.trials * args.epochs
    ref = results.get("none", {}).get("best")
    print(f"{'pruner':<8}{'best acc':>10}{'vs none':>10}{'epochs':>8}{'share':>8}{'pruned':>8}{'wall s':>8}")
    for name, r in results.items():
        delta = f"{100 * (r['best'] - ref):+.2f} pt" if ref is not None else "-"
        print(f"{name:<8}{100 * r['best']:>9.2f}%{delta:>10}{r['epochs']:>8}{100 * r['epochs'] / full:>7.1f}%"
              f"{r['pruned']:>8}{r['wall']:>8.1f}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
