"""The intermediate-reporting API a trainer calls once per epoch: :func:`report`.

The runner hands each trial a :class:`TrialReporting` (where the experiment's store is,
which metric is the objective, its direction, the pruner). The worker that runs the
trial activates a :class:`Reporter` around ``trainer.fit``; :func:`report` then stores
each point in the experiment's SQLite store and asks the pruner, which may stop the
trial by raising :class:`~nas_core.pruning.TrialPruned`. Outside a trial (a trainer used on
its own) :func:`report` does nothing.
"""
from __future__ import annotations

import contextlib
import contextvars
import math
import numbers
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from nas_core.pruning.base import Pruner, ReportError, TrialPruned
from nas_core.pruning.curves import COMPLETED, FAILED, STOPPED, LearningCurve, TrialHistory, as_score
from nas_core.pruning.store import CurveStore

__all__ = ["TrialReporting", "Reporter", "report", "current_reporter", "reporting"]

_CURRENT: contextvars.ContextVar["Reporter | None"] = contextvars.ContextVar("nas_core_reporter", default=None)


@dataclass(frozen=True)
class TrialReporting:
    """What a worker needs to record a trial's learning curve and prune it (picklable)."""

    store: str
    objective: str
    maximize: bool = True
    pruner: Pruner | None = None


class Reporter:
    """Records one trial's intermediate results and applies the pruner after each."""

    def __init__(self, trial_id: int, spec: TrialReporting) -> None:
        self.trial_id, self.spec = trial_id, spec
        self.steps: list[int] = []
        self.scores: list[float] = []
        self.pruned: TrialPruned | None = None
        self._store: CurveStore | None = None

    @property
    def store(self) -> CurveStore:
        if self._store is None:
            self._store = CurveStore(self.spec.store, create=False)
            self._store.start(self.trial_id)
        return self._store

    @property
    def curve(self) -> LearningCurve:
        """The trial's curve so far (scores: higher is better)."""
        return LearningCurve(self.trial_id, tuple(self.steps), tuple(self.scores))

    def report(self, step: int, value: float | Mapping[str, Any]) -> None:
        """Store ``value`` at ``step``, then raise :class:`TrialPruned` if the pruner says stop."""
        if self.pruned is not None:  # the trainer swallowed TrialPruned and went on: stop it again
            raise self.pruned
        if not isinstance(step, numbers.Integral) or isinstance(step, bool) or step < 0:
            raise ReportError(f"report(step={step!r}, ...): the step must be an integer >= 0 (e.g. the epoch).")
        step = int(step)
        if self.steps and step <= self.steps[-1]:
            raise ReportError(
                f"report(step={step}, ...) after step {self.steps[-1]}: steps must increase within a trial "
                "(report once per epoch with the epoch number)."
            )
        metrics = self._metrics(step, value)
        objective = metrics[self.spec.objective]
        self.store.add(self.trial_id, step, objective, metrics)
        self.steps.append(step)
        self.scores.append(as_score(objective, self.spec.maximize))
        pruner = self.spec.pruner
        if pruner is None:
            return
        history = TrialHistory(lambda: self.store.curves(self.spec.maximize, exclude=self.trial_id))
        if pruner.should_prune(self.curve, history):
            self.pruned = TrialPruned(self.trial_id, step, metrics, pruner)
            raise self.pruned

    def _metrics(self, step: int, value: Any) -> dict[str, float]:
        raw = dict(value) if isinstance(value, Mapping) else {self.spec.objective: value}
        out: dict[str, float] = {}
        for k, v in raw.items():
            if hasattr(v, "item") and callable(v.item) and getattr(v, "numel", lambda: 1)() == 1:
                v = v.item()
            if not isinstance(v, numbers.Real) or isinstance(v, bool):
                raise ReportError(f"report(step={step}): metric {k!r} is {v!r}; reported values must be numbers.")
            out[str(k)] = float(v)
        if self.spec.objective not in out:
            raise ReportError(
                f"report(step={step}, {sorted(out)}): the objective {self.spec.objective!r} is missing; report it "
                f"(report(step, value) with a number reports the objective)."
            )
        return out

    def close(self, status: str) -> None:
        if self._store is not None:
            self._store.end(self.trial_id, status)
            self._store.close()
            self._store = None



def current_reporter() -> Reporter | None:
    """The reporter of the trial running here, or None outside a trial."""
    return _CURRENT.get()


def report(step: int, value: float | Mapping[str, Any]) -> None:
    """Report an intermediate result of the running trial (call it once per epoch).

    ``value`` is the objective's value (a number) or a dict of metrics that includes the
    objective. Raises :class:`~nas_core.pruning.TrialPruned` when the experiment's pruner
    stops the trial; let it propagate. Does nothing outside a trial.
    """
    reporter = _CURRENT.get()
    if reporter is not None:
        reporter.report(step, value)


@contextlib.contextmanager
def reporting(trial_id: int, spec: TrialReporting | None) -> Iterator[Reporter | None]:
    """Activate a :class:`Reporter` for the trial around ``trainer.fit`` (None: reports are ignored).

    The curve's status is ``completed`` when the block ends normally, ``pruned`` on
    :class:`TrialPruned`, ``failed`` on any other exception.
    """
    if spec is None:
        yield None
        return
    reporter = Reporter(trial_id, spec)
    token = _CURRENT.set(reporter)
    status = FAILED
    try:
        yield reporter
        if reporter.pruned is not None:  # the trainer caught TrialPruned and returned: still pruned
            raise reporter.pruned
        status = COMPLETED
    except TrialPruned:
        status = STOPPED
        raise
    finally:
        _CURRENT.reset(token)
        with contextlib.suppress(Exception):  # never hide the trial's own outcome behind a store error
            reporter.close(status)
