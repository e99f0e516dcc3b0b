"""Replay strategies against a precomputed table of results (no training).

Used to compare strategies on a space that was evaluated exhaustively once, e.g. the
digits table of ``benchmarks/make_digits_table.py``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from nas_core.errors import ConfigError
from nas_core.interfaces.strategy import Strategy, TrialResult
from nas_core.space.search_space import sample_key

if TYPE_CHECKING:
    from nas_core.space.search_space import SearchSpace

__all__ = ["TabularBenchmark", "TabularRun"]


@dataclass
class TabularRun:
    """One replayed search: the evaluated samples in order and when the best one came."""

    evaluated: list[dict[str, Any]] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    evaluations_to_best: int | None = None  # 1-based; None when the best was never evaluated
    asked: int = 0  # samples the strategy proposed, including ones middleware discarded


class TabularBenchmark:
    """A lookup table ``sample -> metrics`` standing in for training.

    ``records`` are dicts with a ``"sample"`` and metric keys; ``objective`` is the metric
    to maximise; ``feasible(metrics) -> bool`` defines the constraint under which the best
    sample is sought (all samples when None).
    """

    def __init__(self, space: SearchSpace, records: Sequence[Mapping[str, Any]], objective: str,
                 feasible: Callable[[Mapping[str, Any]], bool] | None = None) -> None:
        self.space = space
        self.objective = objective
        self.table: dict[str, dict[str, Any]] = {}
        for r in records:
            if objective not in r:
                raise ConfigError(f"TabularBenchmark: record {r.get('sample')} has no objective {objective!r}.")
            self.table[sample_key(space.validate(r["sample"]))] = dict(r)
        self.feasible_keys = {k for k, r in self.table.items() if feasible is None or feasible(r)}
        if not self.feasible_keys:
            raise ConfigError("TabularBenchmark: no record satisfies the constraint.")
        best = max(self.table[k][objective] for k in self.feasible_keys)
        self.best_score = best
        self.best_keys = {k for k in self.feasible_keys if self.table[k][objective] == best}

    def metrics(self, sample: Mapping[str, object]) -> dict[str, Any]:
        """The table's record of ``sample`` (clear error if the table lacks it)."""
        key = sample_key(self.space.validate(sample))
        if key not in self.table:
            raise ConfigError(f"TabularBenchmark: sample {dict(sample)} is not in the table.")
        return self.table[key]

    def run(self, strategy: Strategy, seed: int, max_evaluations: int, stop_at_best: bool = False) -> TabularRun:
        """Set up ``strategy`` with ``seed`` and run it until ``max_evaluations`` trials were scored
        (or, with ``stop_at_best``, until the best feasible sample was evaluated)."""
        strategy.setup(self.space, seed)
        run = TabularRun()
        while len(run.evaluated) < max_evaluations:
            sample = strategy.ask()
            if sample is None:
                break
            run.asked += 1
            record = self.metrics(sample)
            score = float(record[self.objective])
            metrics = {k: v for k, v in record.items() if k != "sample"}
            strategy.tell(sample, TrialResult(score, metrics))
            run.evaluated.append(dict(sample))
            run.scores.append(score)
            if run.evaluations_to_best is None and sample_key(self.space.validate(sample)) in self.best_keys:
                run.evaluations_to_best = len(run.evaluated)
                if stop_at_best:
                    break
        return run
