"""Compare the multi-trial strategies on the exhaustively evaluated digits CNN space.

    .venv/bin/python benchmarks/strategies_digits.py [--flops-bound 4e5] [--seeds 20]

Each strategy runs as ``Chain(strategy, Filter(lambda s: flops(s) <= bound))`` against
the lookup table ``tests/data/digits_cnn_table.json`` (made by make_digits_table.py; no
training here). An evaluation is a sample that passed the filter and got its accuracy;
the figure is how many evaluations each strategy needs to first evaluate the best
feasible architecture (the highest validation accuracy under the bound), per seed and as
the median over seeds. Strategies use their default options.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from digits_table_space import DigitsCNN  # noqa: E402

from nas_core.strategy import Chain, Filter, TabularBenchmark  # noqa: E402

TABLE = HERE.parent / "tests" / "data" / "digits_cnn_table.json"
DEFAULT_BOUND = 4e5


def load_table(path: Path = TABLE) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def default_strategies() -> dict[str, Callable[[], Any]]:
    from nas_strategy_evolution import GuidedEvolution, RegularizedEvolution
    from nas_strategy_ppo import PolicyBasedRL
    from nas_strategy_random import Random

    return {"random": Random, "regularized-evolution": RegularizedEvolution, "ppo": PolicyBasedRL,
            "guided-evolution": GuidedEvolution}


def evaluations_to_best(strategies: dict[str, Callable[[], Any]], seeds: range, flops_bound: float = DEFAULT_BOUND,
                        table: dict[str, Any] | None = None) -> tuple[TabularBenchmark, dict[str, list[int]]]:
    """Per strategy, per seed: evaluations until the best feasible sample was evaluated."""
    table = table or load_table()
    space = DigitsCNN().space
    bench = TabularBenchmark(space, table["records"], "val_accuracy", lambda r: r["flops"] <= flops_bound)
    out: dict[str, list[int]] = {}
    for name, factory in strategies.items():
        counts = []
        for seed in seeds:
            chain = Chain(factory(), Filter(lambda s: bench.metrics(s)["flops"] <= flops_bound))
            run = bench.run(chain, seed, max_evaluations=len(bench.feasible_keys), stop_at_best=True)
            if run.evaluations_to_best is None:
                raise RuntimeError(f"{name} (seed {seed}) never evaluated the best feasible sample")
            counts.append(run.evaluations_to_best)
        out[name] = counts
    return bench, out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flops-bound", type=float, default=DEFAULT_BOUND)
    ap.add_argument("--seeds", type=int, default=20)
    args = ap.parse_args(argv)
    start = time.perf_counter()
    bench, result = evaluations_to_best(default_strategies(), range(args.seeds), args.flops_bound)
    elapsed = time.perf_counter() - start
    best = next(iter(bench.best_keys))
    print(f"digits CNN space: {len(bench.table)} samples, {len(bench.feasible_keys)} with FLOPs <= {args.flops_bound:g}; "
          f"best feasible accuracy {bench.best_score:.4f} ({len(bench.best_keys)} sample(s), e.g. {best})")
    print(f"{'strategy':<24}{'median':>8}{'mean':>8}  evaluations to best, seeds 0..{args.seeds - 1}")
    for name, counts in result.items():
        print(f"{name:<24}{statistics.median(counts):>8g}{statistics.mean(counts):>8.1f}  {counts}")
    print(f"({elapsed:.1f} s)")


if __name__ == "__main__":
    main()
