"""Trial recording: what a sample costs, whether it is admitted, and the store record of an outcome.

:class:`TrialRecorder` turns a sample and what came back from a worker into the
:class:`~nas_core.experiment.store.TrialRecord` the store keeps and the
:class:`~nas_core.interfaces.TrialResult` the strategy is told. Any outcome status is
recorded as it is (succeeded, failed, timeout, pruned, ...): the score is the primary
objective whenever the outcome carries it.
"""
from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from nas_core.interfaces import FAILED, REJECTED, SUCCEEDED, TrialResult
from nas_core.space import sample_key
from nas_core.experiment.spec import Bound, Objective
from nas_core.experiment.store import TrialRecord
from nas_core.experiment.trial import TrialJob, TrialOutcome, trial_seed, worker_id
from nas_core.pruning import TrialReporting

if TYPE_CHECKING:
    from nas_core.interfaces.profiler import ProfilesSamples
    from nas_core.space.search_space import SearchSpace

__all__ = ["TrialRecorder", "result_of"]


def result_of(rec: TrialRecord) -> TrialResult:
    """What the strategy is (or was) told about a recorded trial."""
    return TrialResult(rec.score, rec.values, rec.status, rec.error, partial=rec.partial)


class TrialRecorder:
    """Costs, admission and records for one experiment (the caches hold only trials in flight)."""

    def __init__(self, space: SearchSpace, profilers: Mapping[str, ProfilesSamples], objectives: Sequence[Objective],
                 bounds: Sequence[Bound], trainer_metrics: Sequence[str], seed: int, trial_threads: int | None,
                 keep_weights: bool) -> None:
        self.space = space
        self.profilers = dict(profilers)
        self.primary = objectives[0]
        self.pre_bounds = [b for b in bounds if b.kind == "label" or b.key in self.profilers]
        self.post_bounds = [b for b in bounds if b not in self.pre_bounds]
        self.objective = self.primary.metric if self.primary.metric in trainer_metrics else trainer_metrics[0]
        self.seed, self.trial_threads, self.keep_weights = seed, trial_threads, keep_weights
        self._costs: dict[str, dict[str, float]] = {}
        self._reject_reason: dict[str, str] = {}
        #: intermediate reports and early stopping (set by the experiment; None: reports are ignored)
        self.reporting: TrialReporting | None = None

    # -- before training ------------------------------------------------------------------
    def costs(self, sample: Mapping[str, object]) -> dict[str, float]:
        """Every profiler's cost of ``sample`` (cached until the sample is recorded)."""
        key = sample_key(sample)
        if key not in self._costs:
            self._costs[key] = {m: float(p.profile(dict(sample))) for m, p in self.profilers.items()}
        return self._costs[key]

    def admit(self, sample: dict[str, Any]) -> bool:
        """The Filter predicate: True when the sample meets every label and cost bound."""
        key = sample_key(sample)
        values: dict[str, Any] = dict(sample)
        try:
            values.update(self.costs(sample))
        except Exception as err:  # noqa: BLE001 - a sample the profiler cannot cost is rejected, with why
            self._reject_reason[key] = f"a profiler failed on this sample: {type(err).__name__}: {err}"
            return False
        for b in self.pre_bounds:
            why = b.violation(values[b.key])
            if why:
                self._reject_reason[key] = f"constraint {b.describe()} not met: {why}"
                return False
        return True

    def reject_reason(self, sample: Mapping[str, object]) -> str | None:
        """Why :meth:`admit` refused ``sample`` (None if it did not)."""
        return self._reject_reason.get(sample_key(sample))

    def job(self, trial_id: int, sample: dict[str, Any], token: str, payload: bytes) -> TrialJob:
        """The job a worker runs for this trial (its seed depends only on the experiment seed and the sample)."""
        return TrialJob(trial_id, sample, trial_seed(self.seed, sample_key(sample)), token, payload, self.objective,
                        self.trial_threads, self.keep_weights, reporting=self.reporting)

    # -- records --------------------------------------------------------------------------
    def rejected(self, trial_id: int, batch: int, sample: Mapping[str, object], score: float | None,
                 reason: str | None) -> TrialRecord:
        """The record of a sample the pre-training bounds discarded."""
        key = sample_key(sample)
        why = self._reject_reason.pop(key, reason)
        return TrialRecord(id=trial_id, batch=batch, sample=dict(sample), status=REJECTED, score=score,
                           costs=dict(self._costs.pop(key, {})), feasible=False, error=why, duration=0.0,
                           worker=worker_id())

    def profiler_failure(self, trial_id: int, batch: int, sample: dict[str, Any], err: Exception) -> TrialRecord:
        """The record of a trial not trained because a profiler could not cost its sample."""
        return TrialRecord(id=trial_id, batch=batch, sample=sample, status=FAILED, feasible=False, duration=0.0,
                           error=f"a profiler failed on this sample: {type(err).__name__}: {err}", worker=worker_id())

    def record(self, batch: int, sample: dict[str, Any], out: TrialOutcome, attempts: int) -> TrialRecord:
        """The record of a trial's outcome: costs, score, feasibility against the post-training bounds."""
        costs = dict(self.costs(sample))
        self._costs.pop(sample_key(sample), None)
        values = {**out.metrics, **costs}
        score, feasible, error = None, out.status == SUCCEEDED, out.error
        v = values.get(self.primary.metric)
        if out.status != FAILED and isinstance(v, (int, float)) and math.isfinite(v):
            score = self.primary.better(float(v))
        if feasible:
            for b in self.post_bounds:
                why = b.violation(values.get(b.key, math.nan))
                if why:
                    feasible, error = False, f"infeasible: constraint {b.describe()} not met: {why}"
        return TrialRecord(id=out.trial_id, batch=batch, sample=sample, status=out.status, score=score,
                           metrics=out.metrics, costs=costs, feasible=feasible, error=error,
                           duration=None if math.isnan(out.duration) else out.duration, worker=out.worker,
                           attempts=attempts, partial=out.partial, finished=time.time())
