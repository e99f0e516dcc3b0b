"""Scale benchmark (issue #20): 1,000 to 100,000 trials of a trivial trainer, in-process.

    nice -n 10 .venv/bin/python benchmarks/scale.py [--sizes 1000 10000 100000] [--strategy random]

For each size N it runs a search of N trials of a trivial trainer (no training: one
frozen model, its parameter count turned into an accuracy) on a space of a million
samples (6 widths of 10 choices, summed into one linear layer so that freezing a sample
stays cheap), with a parameter-count profiler as second objective,
in a child process. The trainer blocks on trial N, the parent SIGKILLs the child there
("a kill at the end"), then resumes the search in this process. It prints:

* ``loop s``: wall time of the N-1 trials of the first run (first trial start to last store write);
* ``ms/trial first/last 10%``: wall time per trial and, ``overhead``, the part of it not
  inside the trial function (ask, profile, record, tell, state) in the first and last
  tenth of the run, and their ratio (the loop's cost must stay flat: target <= 1.3);
* ``KB/trial``: the store file (after the resume closed it) over N (target < 5 KB);
* ``results s``: ``nas results DIR`` as a fresh process (median of 3, default table of the
  last 50 trials, best, Pareto set) (target < 2 s), and the in-process query times;
* ``resume s``: from building the Experiment in a warm interpreter to the first new trial
  (target < 10 s), and until the search has finished and written its outputs.

The machine is shared: the load average is printed with the figures.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import nas_core
from nas_core import ModelSpace, ValueChoice
from nas_core import nn as nnn

WIDTHS = [4, 6, 8, 10, 12, 14, 16, 20, 24, 32]


class ScaleSpace(ModelSpace):
    """Six widths of 10 choices each (10**6 samples) summed into one layer, so freezing a sample is cheap
    (about 6 ms on a loaded core) and the loop's own cost shows."""

    def __init__(self) -> None:
        super().__init__()
        ws = [ValueChoice(WIDTHS, label=f"w{i}") for i in range(6)]
        total = ws[0]
        for w in ws[1:]:
            total = total + w
        self.fc = nnn.Linear(8, total)

    def forward(self, x):
        return self.fc(x)


class TrivialTrainer(nas_core.Trainer):
    """No training: accuracy from the parameter count. Blocks forever on call ``block_at`` (to be killed)."""

    objective = "accuracy"
    metric_names = ("accuracy",)
    metric_units = {"accuracy": "fraction"}

    def __init__(self, block_at: int | None = None, flag: str | None = None) -> None:
        self.block_at, self.flag = block_at, flag
        self.calls, self.first_call, self.first_call_cpu = 0, None, None

    def fingerprint(self) -> dict:
        """No option changes what a trial means (``block_at``/``flag`` only stage the benchmark's kill)."""
        return {}

    def fit(self, model):
        self.calls += 1
        if self.first_call is None:
            self.first_call, self.first_call_cpu = time.monotonic(), time.process_time()
        if self.block_at is not None and self.calls == self.block_at:
            Path(self.flag).write_text(str(os.getpid()))
            time.sleep(3600)
        n = sum(p.numel() for p in model.parameters())
        return {"accuracy": 1.0 - 1.0 / (1.0 + n / 2000.0) + 0.01 * math.sin(n)}


def experiment(workdir: Path, n: int, strategy: str, trainer: TrivialTrainer):
    from nas_core.experiment import Experiment

    torch.manual_seed(0)
    space = ScaleSpace()
    params = nas_core.create("profiler", "params", space, torch.zeros(1, 8))
    return Experiment(space, trainer, strategy, profilers={"params": params},
                      objectives={"accuracy": "max", "params": "min"}, max_trials=n, workdir=workdir, seed=0,
                      keep_weights=False, progress=False)


def child(workdir: str, n: int, strategy: str, flag: str) -> None:
    torch.set_num_threads(1)
    experiment(Path(workdir), n, strategy, TrivialTrainer(block_at=n, flag=flag)).run()


def per_tenth(rows: list[tuple[int, float, float]]) -> dict[str, float]:
    """Wall and overhead per trial (ms) over the first and the last tenth of the trials."""
    k = max(2, len(rows) // 10)

    def window(part):
        wall = (part[-1][1] - part[0][1]) / (len(part) - 1)
        inside = statistics.fmean(d or 0.0 for _, _, d in part[1:])
        return 1000 * wall, 1000 * (wall - inside)

    (w1, o1), (w2, o2) = window(rows[:k]), window(rows[-k:])
    return {"wall_first_ms": w1, "wall_last_ms": w2, "overhead_first_ms": o1, "overhead_last_ms": o2,
            "overhead_ratio": o2 / o1 if o1 > 0 else math.nan}


def store_breakdown(db: Path) -> dict[str, int]:
    """Bytes per table and index (SQLite's dbstat), when this SQLite has it."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return dict(con.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall())
    except sqlite3.Error:
        return {}
    finally:
        con.close()


def nas_results_seconds(workdir: Path, repeats: int = 3) -> tuple[float, float, float]:
    """``nas results DIR`` as a fresh process: median and max wall seconds, median CPU seconds (user + sys)."""
    import resource

    times, cpu = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "nas_core.cli.main", "results", str(workdir)],
                             capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if out.returncode != 0:
            raise SystemExit(f"nas results failed: {out.stdout}{out.stderr}")
    return statistics.median(times), max(times), statistics.median(cpu)


def query_seconds(workdir: Path) -> dict[str, float]:
    from nas_core.experiment.query import TrialQuery

    q = TrialQuery(workdir)
    out = {}
    for name, fn in [("last50", lambda: q.last(50)), ("best", q.best), ("pareto_ids", q.pareto_ids),
                     ("pareto", q.pareto), ("counts", q.counts),
                     ("sort_by_accuracy_page", lambda: q.page("accuracy", descending=True)),
                     ("best_so_far", q.best_so_far)]:
        t0 = time.perf_counter()
        fn()
        out[name] = time.perf_counter() - t0
    q.store.close()
    return out


def bench(n: int, strategy: str, root: Path) -> dict:
    """Run N trials in a child process, SIGKILL it at trial N, then measure (see :func:`after_kill`)."""
    import resource

    workdir, flag = root / f"run{n}", root / f"blocked{n}"
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--child", str(workdir), str(n), strategy, str(flag)])
    while not flag.exists():
        if proc.poll() is not None:
            raise SystemExit(f"the search child exited with {proc.returncode} before trial {n}")
        time.sleep(0.2)
    first_run = time.perf_counter() - t0
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime
    return {"child_process_s": first_run, "child_cpu_s": child_cpu, **after_kill(workdir, n, strategy)}


def after_kill(workdir: Path, n: int, strategy: str) -> dict:
    """The figures of a search killed at trial N: loop times from the store, then resume it here and read it."""
    con = sqlite3.connect(f"file:{workdir / 'trials.db'}?mode=ro", uri=True)
    rows = con.execute("SELECT id, finished, duration FROM trials WHERE status != 'running' ORDER BY id").fetchall()
    con.close()
    start = rows[0][1] - (rows[0][2] or 0.0)
    loop = rows[-1][1] - start
    trainer = TrivialTrainer()
    t1, c1 = time.monotonic(), time.process_time()
    exp = experiment(workdir, n, strategy, trainer)
    exp.run()
    resume_total = time.monotonic() - t1
    resume_first = trainer.first_call - t1
    resume_first_cpu = trainer.first_call_cpu - c1
    exp.store.close()
    db = workdir / "trials.db"
    size = sum(p.stat().st_size for p in workdir.glob("trials.db*"))
    med, worst, cpu = nas_results_seconds(workdir)
    return {"trials": n, "strategy": strategy, "stored_before_kill": len(rows), "loop_s": loop,
            **per_tenth(rows), "store_bytes": size, "kb_per_trial": size / n / 1024,
            "store_tables": store_breakdown(db), "nas_results_s": med, "nas_results_max_s": worst,
            "nas_results_cpu_s": cpu, "queries_s": query_seconds(workdir), "resume_first_trial_s": resume_first,
            "resume_first_trial_cpu_s": resume_first_cpu, "resume_total_s": resume_total}


def report(r: dict) -> None:
    n = r["trials"]
    print(f"\n== {n} trials ({r['strategy']}), load average now {os.getloadavg()}")
    print(f"loop (first run, {r['stored_before_kill']} trials): {r['loop_s']:.1f} s   "
          f"(child process incl. start-up: {r.get('child_process_s', math.nan):.1f} s wall, "
          f"{r.get('child_cpu_s', math.nan):.1f} s CPU)")
    print(f"wall per trial  first 10%: {r['wall_first_ms']:.2f} ms   last 10%: {r['wall_last_ms']:.2f} ms")
    print(f"overhead/trial  first 10%: {r['overhead_first_ms']:.2f} ms   last 10%: {r['overhead_last_ms']:.2f} ms"
          f"   ratio {r['overhead_ratio']:.2f} (target <= 1.3)")
    print(f"store: {r['store_bytes'] / 1e6:.2f} MB = {r['kb_per_trial']:.2f} KB/trial (target < 5)   by table: "
          + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in list(r["store_tables"].items())[:5]))
    print(f"nas results: {r['nas_results_s']:.2f} s median of 3 (max {r['nas_results_max_s']:.2f} s, CPU "
          f"{r['nas_results_cpu_s']:.2f} s; target < 2)   in-process queries: "
          + ", ".join(f"{k} {1000 * v:.0f} ms" for k, v in r["queries_s"].items()))
    print(f"resume after SIGKILL at trial {n}: first new trial after {r['resume_first_trial_s']:.2f} s "
          f"(CPU {r['resume_first_trial_cpu_s']:.2f} s; target < 10), finished with outputs after "
          f"{r['resume_total_s']:.2f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--strategy", default="random", help="registry name (random, regularized-evolution, ...)")
    ap.add_argument("--keep", help="keep the experiment folders under this folder")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        workdir, n, strategy, flag = args.child
        child(workdir, int(n), strategy, flag)
        return
    torch.set_num_threads(1)
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="nas-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    results = []
    print(f"strategy {args.strategy}; load average before: {os.getloadavg()}; {os.cpu_count()} CPUs", flush=True)
    for n in args.sizes:
        r = bench(n, args.strategy, root)
        results.append(r)
        report(r)
    if args.json:
        Path(args.json).write_text(json.dumps({"load": os.getloadavg(), "results": results}, indent=2))
    if not args.keep:
        import shutil

        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
