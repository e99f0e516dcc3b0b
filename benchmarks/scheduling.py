"""Worker utilisation and start-up, synchronous vs asynchronous scheduling, process pool and Ray.

    nice -n 10 .venv/bin/python benchmarks/scheduling.py [--trials 96] [--workers 8] [--no-ray]

Trials sleep 0.2 to 2.0 s depending on the architecture (benchmarks/scheduling_kit.py),
so the figures hold on a loaded machine. Utilisation is the sum of trial times over
``workers x span``, the span running from the first trial's start to the last one's end
(start-up excluded). Start-up is the time until every worker is ready: the process pool
with ``spawn`` (each worker imports torch itself) against ``forkserver`` (workers fork from
a server that imported torch and the trial machinery once), and Ray (``ray.init``).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ["PYTHONPATH"] = os.pathsep.join([HERE, os.environ.get("PYTHONPATH", "")])

import scheduling_kit as kit  # noqa: E402


def utilisation(store, workers: int) -> tuple[float, float, int]:
    """``(utilisation, span, trials)`` of the finished trials in ``store``."""
    trials = [t for t in store.trials() if t.duration is not None and t.status == "succeeded"]
    starts = [t.finished - t.duration for t in trials]
    span = max(t.finished for t in trials) - min(starts)
    return sum(t.duration for t in trials) / (workers * span), span, len(trials)


def run(executor, schedule: str, trials: int, workdir: str) -> tuple[float, float, int]:
    from nas_core.experiment import Experiment

    exp = Experiment(kit.SizedSpace, kit.SleepTrainer(), kit.SeededRandom(), max_trials=trials, executor=executor,
                     workdir=workdir, schedule=schedule, progress=False, keep_weights=False, seed=0)
    exp.run()
    return utilisation(exp.store, executor.max_workers)


def pool_startup(context: str, workers: int) -> float:
    from nas_core.experiment import ProcessPoolExecutor

    pool = ProcessPoolExecutor(workers, context=context)
    try:
        return pool.start()
    finally:
        pool.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=96)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    from nas_core.experiment import ProcessPoolExecutor

    print(f"load average before: {os.getloadavg()}  cpus: {os.cpu_count()}")
    print(f"{args.workers} workers, {args.trials} trials of 0.2-2.0 s (by architecture)\n")
    print("start-up until every worker is ready:")
    # forkserver first would leave its server warm; spawn has no server to warm
    spawn = pool_startup("spawn", args.workers)
    print(f"  process pool, spawn       {spawn:6.2f} s")
    fork_cold = pool_startup("forkserver", args.workers)
    print(f"  process pool, forkserver  {fork_cold:6.2f} s (first pool: the server imports torch)")
    fork_warm = pool_startup("forkserver", args.workers)
    print(f"  process pool, forkserver  {fork_warm:6.2f} s (next pools)  -> {spawn / fork_cold:.1f}x faster "
          "than spawn cold")
    print("\nutilisation (sum of trial time / (workers x span)):")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for schedule in ("sync", "async"):
            pool = ProcessPoolExecutor(args.workers)
            try:
                u, span, n = run(pool, schedule, args.trials, os.path.join(tmp, f"pool-{schedule}"))
            finally:
                pool.shutdown()
            rows.append(("process pool", schedule, u, span, n))
            print(f"  process pool  {schedule:5s}  {100 * u:5.1f} %   span {span:5.1f} s  ({n} trials)")
        if not args.no_ray:
            try:
                from nas_executor_ray import RayExecutor
            except ImportError:
                print("  ray: nas-executor-ray is not installed (skipped)")
            else:
                t0 = time.perf_counter()
                ray_exec = RayExecutor(max_workers=args.workers, num_cpus=args.workers)
                print(f"  (ray.init: {time.perf_counter() - t0:.2f} s)")
                try:
                    for schedule in ("sync", "async"):
                        u, span, n = run(ray_exec, schedule, args.trials, os.path.join(tmp, f"ray-{schedule}"))
                        rows.append(("ray", schedule, u, span, n))
                        print(f"  ray           {schedule:5s}  {100 * u:5.1f} %   span {span:5.1f} s  ({n} trials)")
                finally:
                    ray_exec.shutdown()
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
