"""Search quality on real benchmark tables: how good an architecture each strategy finds under a
latency bound for a given number of evaluations, with NNI 3.0's strategies side by side.

    nice -n 10 .venv/bin/python benchmarks/search_suite.py                 # everything (long)
    nice -n 10 .venv/bin/python benchmarks/search_suite.py --percentiles 30 --budgets 150 \\
        --strategies evolution tpe --nni none --seeds 5                    # a quick subset

Task: maximise validation accuracy on a NAS-Bench-Graph dataset (``nasbench_graph.py``) subject
to latency <= the p-th percentile of the table's latencies. Two modes: ``filter`` (the bound is
a Filter: infeasible samples are rejected before evaluation; our strategies receive the
predicate through ``Strategy.add_feasibility``; NNI's through its Filter middleware) and
``bad`` (every proposal is evaluated; an infeasible one scores 0). A run's regret after B
evaluations is (best feasible accuracy in the table - best feasible accuracy found) x 1000;
per task the median over seeds and the share of runs reaching the optimum are printed, and the
summary averages the per-dataset medians. Every evaluation is a distinct sample as the strategy
sees it; ours never evaluate two isomorphic graphs (the space's canonical form), NNI's may.

NNI runs in a subprocess of the side venv (``--nni-python``, default ``.venv-nni/bin/python``)
at the same time as ours (2 processes); on a busy machine run them one after the other instead
(``--nni none --json a.json``, then ``--strategies none --json b.json``, then ``--merge a.json b.json``).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import nasbench_graph as nbg  # noqa: E402

from nas_core.interfaces.strategy import TrialResult  # noqa: E402
from nas_core.strategy import Chain, Filter  # noqa: E402


def our_strategies() -> dict[str, Callable[[], Any]]:
    from nas_strategy_evolution import GuidedEvolution, RegularizedEvolution
    from nas_strategy_ppo import PolicyBasedRL
    from nas_strategy_random import Random

    out: dict[str, Callable[[], Any]] = {
        "random": Random,
        "evolution": RegularizedEvolution,
        "evolution-50-10": lambda: RegularizedEvolution(population_size=50, sample_size=10),
        "ppo": PolicyBasedRL,
        "guided-evolution": GuidedEvolution,
    }
    try:
        from nas_strategy_optuna import TPE

        out["tpe"] = TPE
    except ImportError:
        pass
    return out


NNI_STRATEGIES = ["random", "evolution", "evolution-50-10", "tpe", "ppo"]


def run_ours(factory: Callable[[], Any], table: nbg.GraphTable, space: Any, bound: float, mode: str, seed: int,
             budget: int) -> np.ndarray:
    """Validation accuracy of each evaluation in order (0 where infeasible in bad-metric mode)."""
    strategy = factory()
    feasible = lambda s: bool(table.latency[nbg.sample_index(s)] <= bound)  # noqa: E731
    if mode == "filter":
        strategy = Chain(strategy, Filter(feasible))
    strategy.setup(space, seed)
    scores: list[float] = []
    while len(scores) < budget:
        sample = strategy.ask()
        if sample is None:
            break
        i = nbg.sample_index(sample)
        ok = bool(table.latency[i] <= bound)
        score = float(table.valid[i]) if ok else 0.0
        strategy.tell(sample, TrialResult(score, {"val_accuracy": score}))
        scores.append(score)
    return np.array(scores)


def regrets(scores: np.ndarray, optimum: float, budgets: list[int]) -> list[float]:
    """Regret x1000 after each budget (best so far over the first B evaluations)."""
    out = []
    for b in budgets:
        best = float(scores[:b].max()) if len(scores[:b]) else 0.0
        out.append(round((optimum - best) * 1000, 6))
    return out


def start_nni(jobs: list[dict[str, Any]], python: str, sink: dict[str, list[np.ndarray]]) -> threading.Thread:
    """Run NNI's jobs in the side venv in the background, filling ``sink[key]`` with score arrays."""
    fd, path = tempfile.mkstemp(suffix=".json", prefix="nni_jobs_")
    with os.fdopen(fd, "w") as f:
        json.dump(jobs, f)

    def work() -> None:
        proc = subprocess.Popen([python, str(HERE / "nni_tabular_runner.py"), path], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("{"):
                rec = json.loads(line)
                if rec.get("error"):
                    print(f"  NNI {rec['key']} seed {rec['seed']}: {rec['error']}", file=sys.stderr)
                sink.setdefault(rec["key"], []).append(np.array(rec["scores"]))
        proc.wait()
        os.unlink(path)

    t = threading.Thread(target=work, daemon=True)
    t.start()
    return t


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=nbg.DEV_DATASETS)
    ap.add_argument("--percentiles", nargs="+", type=float, default=[10, 30, 50])
    ap.add_argument("--budgets", nargs="+", type=int, default=[50, 150, 300])
    ap.add_argument("--modes", nargs="+", choices=["filter", "bad"], default=["filter", "bad"])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--strategies", nargs="+", default=None, help="ours (default: all installed), or 'none' "
                    "(NNI's alone: with --json and --merge, ours and NNI's can run one after the other)")
    ap.add_argument("--nni", nargs="+", default=NNI_STRATEGIES, help="NNI's, or 'none'")
    ap.add_argument("--nni-python", default=str(HERE.parent / ".venv-nni" / "bin" / "python"))
    ap.add_argument("--json", help="also write every run's regrets to this file")
    ap.add_argument("--versus", nargs=2, metavar=("A", "B"), help="also compare strategy A with B per task "
                    "(medians, means, one-sided Mann-Whitney p that A's regrets are lower)")
    ap.add_argument("--merge", nargs="+", help="print the report of earlier --json files (runs split across "
                    "processes) instead of running; give the same --datasets/--percentiles/--budgets/--modes")
    args = ap.parse_args(argv)
    if args.merge:
        merged: dict[str, list[list[float]]] = {}
        for path in args.merge:
            merged.update(json.loads(Path(path).read_text()))
        names = list(dict.fromkeys(k.split("|")[3] for k in merged))
        tables = {d: nbg.load_table(d) for d in args.datasets}
        report(merged, args, names, [(d, p, tables[d].bound(p)) for d in args.datasets for p in args.percentiles],
               tables)
        return
    start = time.perf_counter()
    ours = our_strategies()
    names = [] if args.strategies == ["none"] else (args.strategies or list(ours))
    unknown = [n for n in names if n not in ours]
    if unknown:
        raise SystemExit(f"unknown strategies {unknown}; ours are {sorted(ours)}")
    nni_names = [] if args.nni == ["none"] else args.nni
    if nni_names and not Path(args.nni_python).exists():
        raise SystemExit(f"no NNI side venv at {args.nni_python}: run bash /work/shared/tools/setup-nni-venv.sh "
                         ".venv-nni in the worktree, or pass --nni none")
    budget = max(args.budgets)
    seeds = list(range(args.seeds))
    tables = {d: nbg.load_table(d) for d in args.datasets}
    tasks = [(d, p, tables[d].bound(p)) for d in args.datasets for p in args.percentiles]
    nni_scores: dict[str, list[np.ndarray]] = {}
    jobs = [{"key": f"{d}|{p}|{m}|nni-{n}", "table": str(nbg.CACHE / f"nasbench_graph_{d}.npz"), "bound": bound,
             "mode": m, "strategy": n, "seeds": seeds, "budget": budget}
            for d, p, bound in tasks for m in args.modes for n in nni_names]
    nni_thread = start_nni(jobs, args.nni_python, nni_scores) if jobs else None
    results: dict[str, list[list[float]]] = {}
    for d, p, bound in tasks:
        table = tables[d]
        space = nbg.GraphCellSpace(table.representative).space
        for m in args.modes:
            for n in names:
                runs = [regrets(run_ours(ours[n], table, space, bound, m, s, budget), table.optimum(bound), args.budgets)
                        for s in seeds]
                results[f"{d}|{p}|{m}|{n}"] = runs
                medians = [statistics.median(r[i] for r in runs) for i in range(len(args.budgets))]
                print(f"  [{time.perf_counter() - start:.0f} s, load {os.getloadavg()[0]:.1f}] {d} p{p:g} {m} {n}: "
                      f"median regret {medians}", file=sys.stderr, flush=True)
                if args.json:  # after every task, so that a long run stopped early keeps what it finished
                    Path(args.json).write_text(json.dumps(results))
    ours_s = time.perf_counter() - start
    if nni_thread is not None:
        nni_thread.join()
    for key, runs in nni_scores.items():
        d, p = key.split("|")[:2]
        bound = tables[d].bound(float(p))
        results[key] = [regrets(r, tables[d].optimum(bound), args.budgets) for r in runs]
    report(results, args, names + [f"nni-{n}" for n in nni_names], tasks, tables)
    print(f"\n(ours {ours_s:.0f} s, total {time.perf_counter() - start:.0f} s, {len(seeds)} seeds; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs, shared with other work)")
    if args.json:
        Path(args.json).write_text(json.dumps(results))


def report(results: dict[str, list[list[float]]], args: argparse.Namespace, names: list[str],
           tasks: list[tuple[str, float, float]], tables: dict[str, nbg.GraphTable]) -> None:
    bi = {b: i for i, b in enumerate(args.budgets)}
    for d, p, bound in tasks:
        print(f"\n== {d}, latency <= p{p:g} = {bound:.4g} s, optimum {tables[d].optimum(bound):.4f}: "
              "median regret x1000 [share reaching the optimum] ==")
        print(f"{'strategy':<20}" + "".join(f"{m + ' @' + str(b):>18}" for m in args.modes for b in args.budgets))
        for n in names:
            row = f"{n:<20}"
            for m in args.modes:
                runs = results.get(f"{d}|{p}|{m}|{n}")
                for b in args.budgets:
                    if not runs:
                        row += f"{'-':>18}"
                        continue
                    vals = [r[bi[b]] for r in runs]
                    share = sum(v <= 1e-9 for v in vals) / len(vals)
                    row += f"{statistics.median(vals):>11.2f} [{share:>3.0%}]"
            print(row)
    print("\n== summary: mean over datasets of the median regret x1000 (filter / bad) ==")
    print(f"{'strategy':<20}" + "".join(f"{'p' + format(p, 'g') + ' @' + str(b):>16}"
                                        for p in args.percentiles for b in args.budgets))
    for n in names:
        row = f"{n:<20}"
        for p in args.percentiles:
            for b in args.budgets:
                cells = []
                for m in args.modes:
                    meds = [statistics.median(r[bi[b]] for r in results[f"{d}|{p}|{m}|{n}"])
                            for d in args.datasets if results.get(f"{d}|{p}|{m}|{n}")]
                    cells.append(f"{statistics.mean(meds):.2f}" if meds else "-")
                row += f"{' / '.join(cells):>16}"
        print(row)
    if args.versus:
        versus(results, args, tasks)


def versus(results: dict[str, list[list[float]]], args: argparse.Namespace,
           tasks: list[tuple[str, float, float]]) -> None:
    """Strategy A against B per task, mode and budget: medians, means, and the one-sided Mann-Whitney
    p-value that A's regrets are lower (regrets are discrete accuracy steps, so medians often tie)."""
    from scipy.stats import mannwhitneyu

    a, b = args.versus
    print(f"\n== {a} against {b}: median / mean regret x1000 of each, and p (Mann-Whitney, one-sided: "
          f"{a} lower); 'better' where {a}'s mean is lower and p < 0.05, 'worse' where {b}'s is and p > 0.95 ==")
    bi = {budget: i for i, budget in enumerate(args.budgets)}
    for d, p, _ in tasks:
        for m in args.modes:
            ra, rb = results.get(f"{d}|{p}|{m}|{a}"), results.get(f"{d}|{p}|{m}|{b}")
            if not ra or not rb:
                continue
            cells = []
            for budget in args.budgets:
                va, vb = [r[bi[budget]] for r in ra], [r[bi[budget]] for r in rb]
                pv = float(mannwhitneyu(va, vb, alternative="less").pvalue)
                ma, mb = statistics.mean(va), statistics.mean(vb)
                verdict = "better" if ma < mb and pv < 0.05 else "worse" if ma > mb and pv > 0.95 else "level"
                cells.append(f"@{budget}: {statistics.median(va):.2f}/{ma:.2f} vs {statistics.median(vb):.2f}/"
                             f"{mb:.2f} p={pv:.3f} {verdict}")
            print(f"{d} p{p:g} {m} ({len(ra)} vs {len(rb)} runs): " + "; ".join(cells))


if __name__ == "__main__":
    main()
