"""Multi-objective search quality on real tables: the hypervolume of the accuracy/latency front a
strategy finds for a given number of evaluations (NAS-Bench-Graph, ``nasbench_graph.py``).

    nice -n 10 .venv/bin/python benchmarks/pareto_suite.py                       # 3 datasets, 10 seeds
    nice -n 10 .venv/bin/python benchmarks/pareto_suite.py --datasets cs --seeds 3 --strategies nsga2 random

Objectives: validation accuracy (max) and latency (min). Each axis is normalised to [0, 1] over
the table's distinct architectures: accuracy as (acc - worst) / (best - worst), latency as
(ref - lat) / (ref - fastest), so the reference point is (worst accuracy, ref) = (0, 0); two
latency references: ``slowest`` (the table's largest latency) and ``p50`` (the median latency,
the loosest bound the bounded runs get: slower points count for nothing). A run's figure after B
evaluations is the hypervolume (``nas_core.pareto.hypervolume``) of the evaluated points as a
fraction of the table's true front's; per dataset the median over seeds and its quartiles, and
in the summary the missing share x1000 ((true - found) / true x 1000: lower is better; the
fractions sit close to 1 because the worst accuracy in a table is far below the front).

Strategies (every evaluation a distinct sample as the strategy sees it):

* ``nsga2``: NSGA-II (``nas-strategy-optuna``, its defaults), told both objectives; ``nsga2-pop20`` a larger population;
* ``tpe-mo``: multi-objective TPE (``nas-strategy-optuna``), told both objectives;
* ``random``: uniform random search;
* ``bounded-<name>``: the single-objective strategy ``<name>`` (default ``guided-evolution``, the
  default of ``nas search``) run three times, maximising accuracy under latency <= the p-th
  percentile for p = 10, 30 and 50 (a Filter, handed to the strategy), with a third of the
  budget each; its front is the union of the three runs' evaluations (same total evaluations).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import nasbench_graph as nbg  # noqa: E402

from nas_core.interfaces.strategy import TrialResult  # noqa: E402
from nas_core.pareto import hypervolume  # noqa: E402
from nas_core.strategy import Chain, Filter  # noqa: E402

OBJECTIVES = {"val_accuracy": "max", "latency": "min"}
BOUND_PERCENTILES = (10, 30, 50)
REFERENCES = ("slowest", "p50")


def multi_objective() -> dict[str, Callable[[], Any]]:
    from nas_strategy_optuna import NSGA2, TPE
    from nas_strategy_random import Random

    return {"nsga2": lambda: NSGA2(objectives=OBJECTIVES),
            "nsga2-pop20": lambda: NSGA2(population_size=20, objectives=OBJECTIVES),
            "tpe-mo": lambda: TPE(objectives=OBJECTIVES),
            "random": Random}


def single_objective() -> dict[str, Callable[[], Any]]:
    from nas_strategy_evolution import GuidedEvolution, RegularizedEvolution

    return {"guided-evolution": GuidedEvolution, "regularized-evolution": RegularizedEvolution}


class Normaliser:
    """A table's objectives on [0, 1] axes, larger better on both (reference point (0, 0))."""

    def __init__(self, table: nbg.GraphTable, reference: str) -> None:
        reps = np.unique(table.representative[table.in_table])
        acc, lat = table.valid[reps], table.latency[reps]
        self.acc_lo, self.acc_hi = float(acc.min()), float(acc.max())
        self.lat_lo = float(lat.min())
        self.lat_hi = float(lat.max()) if reference == "slowest" else table.bound(float(reference.lstrip("p")))
        self.true_hv = hypervolume(self(acc, lat), (0.0, 0.0))

    def __call__(self, acc: np.ndarray, lat: np.ndarray) -> np.ndarray:
        a = (np.asarray(acc, dtype=float) - self.acc_lo) / (self.acc_hi - self.acc_lo)
        with np.errstate(invalid="ignore"):
            l_ = (self.lat_hi - np.asarray(lat, dtype=float)) / (self.lat_hi - self.lat_lo)  # inf latency: -inf
        return np.stack([a, l_], axis=1)


def run(factory: Callable[[], Any], table: nbg.GraphTable, space: Any, seed: int, budget: int,
        bound: float | None = None) -> np.ndarray:
    """(accuracy, latency) of each evaluation in order; with ``bound``, a Filter keeps latency <= bound."""
    strategy = factory()
    if bound is not None:
        strategy = Chain(strategy, Filter(lambda s: bool(table.latency[nbg.sample_index(s)] <= bound)))
    strategy.setup(space, seed)
    out: list[tuple[float, float]] = []
    while len(out) < budget:
        sample = strategy.ask()
        if sample is None:
            break
        i = nbg.sample_index(sample)
        acc, lat = float(table.valid[i]), float(table.latency[i])  # the 24 samples not in the table: 0, inf
        strategy.tell(sample, TrialResult(acc, {"val_accuracy": acc, "latency": lat}))
        out.append((acc, lat))
    return np.array(out).reshape(-1, 2)


def split(budget: int, parts: int) -> list[int]:
    """``budget`` in ``parts`` near-equal shares (the first ones larger)."""
    return [budget // parts + (i < budget % parts) for i in range(parts)]


def fractions(points_at: Callable[[int], np.ndarray], norm: Normaliser, budgets: list[int]) -> list[float]:
    return [hypervolume(norm(*points_at(b).T), (0.0, 0.0)) / norm.true_hv for b in budgets]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=nbg.DEV_DATASETS)
    ap.add_argument("--budgets", nargs="+", type=int, default=[50, 150])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--strategies", nargs="+", default=["nsga2", "tpe-mo", "random", "bounded-guided-evolution", "bounded-regularized-evolution"])
    args = ap.parse_args(argv)
    start = time.perf_counter()
    multi, single = multi_objective(), single_objective()
    for n in args.strategies:
        if n not in multi and n.removeprefix("bounded-") not in single:
            raise SystemExit(f"unknown strategy {n!r}; known: {sorted(multi)} and bounded-<one of {sorted(single)}>")
    results: dict[tuple[str, str, str], list[list[float]]] = {}
    norms: dict[tuple[str, str], Normaliser] = {}
    top = max(args.budgets)
    for d in args.datasets:
        table = nbg.load_table(d)
        for ref in REFERENCES:
            norms[d, ref] = Normaliser(table, ref)
        space = nbg.GraphCellSpace(table.representative).space
        for n in args.strategies:
            t0 = time.perf_counter()
            for seed in range(args.seeds):
                if n in multi:
                    pts = run(multi[n], table, space, seed, top)
                    points_at: Callable[[int], np.ndarray] = lambda b: pts[:b]  # noqa: E731
                else:
                    parts = [run(single[n.removeprefix("bounded-")], table, space, seed, share, table.bound(p))
                             for p, share in zip(BOUND_PERCENTILES, split(top, len(BOUND_PERCENTILES)))]
                    points_at = lambda b: np.concatenate(  # noqa: E731
                        [pts[:share] for pts, share in zip(parts, split(b, len(parts)))])
                for ref in REFERENCES:
                    results.setdefault((d, n, ref), []).append(fractions(points_at, norms[d, ref], args.budgets))
            runs = results[d, n, REFERENCES[0]]
            print(f"  [{time.perf_counter() - start:.0f} s] {d} {n}: {time.perf_counter() - t0:.1f} s, median "
                  f"{[round(statistics.median(r[i] for r in runs), 4) for i in range(len(args.budgets))]}",
                  file=sys.stderr, flush=True)
    report(results, args, norms)
    load = os.getloadavg()
    print(f"\n({time.perf_counter() - start:.0f} s, {args.seeds} seeds; load average {load[0]:.1f} / {load[1]:.1f} / "
          f"{load[2]:.1f} (1/5/15 min) on {os.cpu_count()} CPUs, shared with other work)")


def quartiles(vals: list[float]) -> tuple[float, float, float]:
    q = np.percentile(vals, [25, 50, 75])
    return float(q[0]), float(q[1]), float(q[2])


def report(results: dict[tuple[str, str, str], list[list[float]]], args: argparse.Namespace,
           norms: dict[tuple[str, str], Normaliser]) -> None:
    for ref in REFERENCES:
        for d in args.datasets:
            n = norms[d, ref]
            print(f"\n== {d}, latency reference {ref}: hypervolume found / the table's front's ({n.true_hv:.4f}); "
                  f"accuracy {n.acc_lo:.4f}..{n.acc_hi:.4f}, latency {n.lat_lo:.4g}..{n.lat_hi:.4g} s; "
                  "median [25 %, 75 %] ==")
            print(f"{'strategy':<30}" + "".join(f"{'@' + str(b):>24}" for b in args.budgets))
            for name in args.strategies:
                runs = results[d, name, ref]
                cells = [quartiles([r[i] for r in runs]) for i in range(len(args.budgets))]
                print(f"{name:<30}" + "".join(f"{f'{m:.4f} [{lo:.4f}, {hi:.4f}]':>24}" for lo, m, hi in cells))
    print("\n== summary: mean over datasets of the median fraction, and of the missing share x1000 ==")
    print(f"{'strategy':<30}" + "".join(f"{ref + ' @' + str(b):>22}" for ref in REFERENCES for b in args.budgets))
    for name in args.strategies:
        row = f"{name:<30}"
        for ref in REFERENCES:
            for i in range(len(args.budgets)):
                m = statistics.mean(statistics.median(r[i] for r in results[d, name, ref]) for d in args.datasets)
                row += f"{f'{m:.4f} ({1000 * (1 - m):.1f})':>22}"
        print(row)


if __name__ == "__main__":
    main()
