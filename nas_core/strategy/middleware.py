"""Strategy middleware: :class:`Filter`, :class:`Deduplicate`, and :class:`Chain` to stack them.

``Chain(strategy, m1, m2, ...)`` is itself a :class:`~nas_core.Strategy`. Samples flow
from ``strategy`` through ``m1``, ``m2``, ... to the runner; results flow back the other
way. The seeds' example runs as written::

    strategy = Chain(Random(), Filter(lambda sample: profiler.profile(sample) < 300e6))

**Rejections, for the runner.** Samples that a middleware discards never reach the
runner. Every discard is recorded as a :class:`Rejection` (sample, reason, middleware,
score told to the strategy). After each ``ask()`` the runner collects them with
``chain.drain_rejected()`` (or the module function :func:`drain_rejected`, which returns
``[]`` for strategies that are not chains) and stores them as trials with status
``rejected``. Alternatively set ``chain.on_reject = callback``; it is called with each
:class:`Rejection` as it happens (the queue is filled either way; drain it or ignore it).
"""
from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from nas_core.errors import ConfigError, NasError
from nas_core.interfaces.strategy import REJECTED, Strategy, TrialResult
from nas_core.space.search_space import sample_key
from nas_core.strategy.base import check_int, result_from_dict
from nas_core.strategy.errors import ConstraintUnsatisfiableError, MiddlewareError, StrategyStateError

if TYPE_CHECKING:
    from nas_core.space.search_space import SearchSpace

__all__ = ["Rejection", "Middleware", "Chain", "Filter", "Deduplicate", "drain_rejected"]


@dataclass
class Rejection:
    """A sample discarded by middleware before any training.

    ``score`` is what the strategy was told (``Filter(metric_if_rejected=x)``), or None.
    """

    sample: dict[str, Any]
    reason: str
    middleware: str
    score: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"sample": self.sample, "reason": self.reason, "middleware": self.middleware,
                "score": self.score, "metrics": dict(self.metrics)}


class Middleware:
    """Sits between a strategy (or the previous middleware) and the runner.

    The defaults pass ``ask`` and ``tell`` through; subclasses override them, using
    :attr:`inner` (what they wrap) and :meth:`reject` to record a discarded sample.
    """

    def __init__(self) -> None:
        self.inner: Any = None
        self._chain: Chain | None = None

    def _attach(self, inner: Any, chain: "Chain") -> None:
        if self._chain is not None:
            raise MiddlewareError(
                f"this {type(self).__name__} is already part of a Chain; create a new {type(self).__name__}(...) "
                "for each chain."
            )
        self.inner, self._chain = inner, chain

    def setup(self, space: SearchSpace, seed: int | None = None) -> None:
        """Called by the chain after the strategy's setup."""
        self.space = space

    def ask(self) -> dict[str, Any] | None:
        return self.inner.ask()

    def tell(self, sample: Mapping[str, object], result: TrialResult) -> None:
        self.inner.tell(sample, result)

    def add_feasibility(self, feasible: Callable[[dict[str, Any]], bool]) -> bool:
        """Pass a feasibility predicate on to the strategy (see :meth:`Strategy.add_feasibility`)."""
        add = getattr(self.inner, "add_feasibility", None)
        return bool(add(feasible)) if callable(add) else False

    def restore_history(self, history: Sequence[tuple[Mapping[str, object], TrialResult]]) -> None:
        """On resume, after :meth:`load_state_dict`: rebuild this middleware's own derived state
        from every (sample, result) told so far (the default keeps nothing)."""

    def reject(self, sample: Mapping[str, object], reason: str, score: float | None = None,
               metrics: Mapping[str, Any] | None = None) -> None:
        """Record that ``sample`` was discarded (the chain queues it for the runner)."""
        if self._chain is not None:
            self._chain._record(Rejection(dict(sample), reason, type(self).__name__, score, dict(metrics or {})))

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        pass


class Chain(Strategy):
    """A strategy followed by middleware: ``Chain(Random(), Filter(...), Deduplicate())``.

    Itself a :class:`~nas_core.Strategy`: ``setup``, ``ask``, ``tell``, ``state_dict`` and
    ``load_state_dict`` cover the strategy and every middleware. Discarded samples are
    available from :meth:`drain_rejected` and the :attr:`on_reject` callback.
    """

    name = "chain"

    def __init__(self, strategy: Strategy, *middlewares: Middleware) -> None:
        if isinstance(strategy, Middleware):
            raise MiddlewareError(
                f"Chain's first argument must be a strategy, got the middleware {type(strategy).__name__}; "
                "put the strategy first: Chain(Random(), Filter(...))."
            )
        if not (callable(getattr(strategy, "ask", None)) and callable(getattr(strategy, "tell", None))):
            raise MiddlewareError(
                f"Chain's first argument must be a multi-trial strategy with ask() and tell() "
                f"(e.g. Random()), got {strategy!r}."
            )
        for i, m in enumerate(middlewares, 1):
            if not isinstance(m, Middleware):
                raise MiddlewareError(
                    f"Chain argument {i + 1} must be middleware (Filter, Deduplicate, ...), got {m!r}; only the "
                    "first argument is a strategy."
                )
        self.strategy = strategy
        self.middlewares: list[Middleware] = list(middlewares)
        self.on_reject: Callable[[Rejection], None] | None = None
        self._rejected: list[Rejection] = []
        top: Any = strategy
        for m in self.middlewares:
            m._attach(top, self)
            top = m
        self._top = top

    def _record(self, rejection: Rejection) -> None:
        self._rejected.append(rejection)
        if self.on_reject is not None:
            self.on_reject(rejection)

    def drain_rejected(self) -> list[Rejection]:
        """The samples discarded since the last call (oldest first), including nested chains'."""
        out = drain_rejected(self.strategy) + self._rejected
        self._rejected = []
        return out

    def setup(self, space: SearchSpace, seed: int | None = None) -> None:
        self.space, self.seed = space, seed
        self.strategy.setup(space, seed)
        for m in self.middlewares:
            m.setup(space, seed)
        self._rejected = []

    def ask(self) -> dict[str, Any] | None:
        return self._top.ask()

    def tell(self, sample: Mapping[str, object], result: TrialResult) -> None:
        self._top.tell(sample, result)

    def add_feasibility(self, feasible: Callable[[dict[str, Any]], bool]) -> bool:
        return self._top.add_feasibility(feasible)

    def set_objectives(self, objectives: Mapping[str, str], metrics: Sequence[str] = ()) -> bool:
        """Pass the experiment's objectives on to the strategy (see :meth:`Strategy.set_objectives`)."""
        tell = getattr(self.strategy, "set_objectives", None)
        return bool(tell(objectives, metrics)) if callable(tell) else False

    def restore_history(self, history: Sequence[tuple[Mapping[str, object], TrialResult]]) -> None:
        """Rebuild the strategy and every middleware from the told history (see :meth:`Strategy.restore_history`)."""
        history = list(history)
        self.strategy.restore_history(history)
        for m in self.middlewares:
            m.restore_history(history)

    def state_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy.state_dict(),
            "middlewares": [{"type": type(m).__name__, "state": m.state_dict()} for m in self.middlewares],
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        saved = state.get("middlewares") if isinstance(state, Mapping) else None
        types = [type(m).__name__ for m in self.middlewares]
        if saved is None or "strategy" not in state or [s.get("type") for s in saved] != types:
            got = [s.get("type") for s in saved] if isinstance(saved, list) else saved
            raise StrategyStateError(
                f"Chain.load_state_dict: the saved state has middleware {got}, this chain has {types}. "
                "Rebuild the chain exactly as it was when the state was saved."
            )
        self.strategy.load_state_dict(state["strategy"])
        for m, s in zip(self.middlewares, saved):
            m.load_state_dict(s["state"])


def drain_rejected(strategy: Strategy) -> list[Rejection]:
    """``strategy.drain_rejected()`` for chains; ``[]`` for strategies without middleware."""
    drain = getattr(strategy, "drain_rejected", None)
    return list(drain()) if callable(drain) else []


def _describe(predicate: Callable[..., Any]) -> str:
    name = getattr(predicate, "__qualname__", None) or type(predicate).__name__
    return name


class Filter(Middleware):
    """Keep only samples for which ``predicate(sample)`` is true.

    ``predicate`` receives the SAMPLE (a ``dict[label, value]``), not a model as in NNI:
    ``Filter(lambda sample: profiler.profile(sample) < 300e6)``. Build a model from it
    with ``space.freeze(sample)`` if you need one.

    Two modes, as in the seeds:

    * ``metric_if_rejected=None`` (default): a rejected sample is discarded before any
      training; the strategy is told ``TrialResult(None, status="rejected")`` (so it does
      not wait for it) and asked again.
    * ``metric_if_rejected=x``: the strategy is told score ``x`` (status ``rejected``)
      so that learning strategies avoid such samples; nothing is trained either.

    In both modes the rejection is recorded (see :meth:`Chain.drain_rejected`). With
    ``guide=True`` (default) the predicate is also handed to the strategy at setup
    (:meth:`Strategy.add_feasibility`): strategies that support it (every first-party one)
    then propose feasible samples only, so nothing is rejected and no proposal is wasted;
    :attr:`guiding` tells whether the strategy took it. After
    ``patience`` rejections in a row, :class:`ConstraintUnsatisfiableError` is raised:
    the constraint may be unsatisfiable. A predicate raising a :class:`nas_core.NasError`
    (e.g. the sample does not build) rejects the sample with that message as the reason;
    any other exception is a bug in the predicate and stops the search with
    :class:`MiddlewareError`.
    """

    def __init__(self, predicate: Callable[[dict[str, Any]], bool], metric_if_rejected: float | None = None,
                 patience: int = 1000, guide: bool = True) -> None:
        super().__init__()
        if not callable(predicate):
            raise ConfigError(
                f"Filter needs a callable that takes a sample dict and returns True to keep it, e.g. "
                f"Filter(lambda sample: profiler.profile(sample) < 300e6); got {predicate!r}."
            )
        if metric_if_rejected is not None and (
            isinstance(metric_if_rejected, bool) or not isinstance(metric_if_rejected, numbers.Real)
            or not math.isfinite(metric_if_rejected)
        ):
            raise ConfigError(
                f"Filter: metric_if_rejected must be None (discard without telling a score) or a finite number "
                f"(the score reported for rejected samples, e.g. 0.0), got {metric_if_rejected!r}."
            )
        self.predicate = predicate
        self.metric_if_rejected = None if metric_if_rejected is None else float(metric_if_rejected)
        self.patience = check_int("Filter", "patience", patience, 1)
        if not isinstance(guide, bool):
            raise ConfigError(f"Filter: guide must be True or False, got {guide!r}.")
        self.guide = guide
        #: True once the strategy accepted the predicate (it then proposes only feasible samples)
        self.guiding = False
        self.n_passed = 0
        self.n_rejected = 0

    def setup(self, space: SearchSpace, seed: int | None = None) -> None:
        super().setup(space, seed)
        if self.guide:
            self.guiding = bool(self.inner.add_feasibility(self.feasible))

    def feasible(self, sample: dict[str, object]) -> bool:
        """The predicate as handed to the strategy: True to keep ``sample`` (a NasError counts as False)."""
        return self._check(sample) is None

    def _check(self, sample: dict[str, Any]) -> str | None:
        """None to keep the sample, else the reason for rejecting it."""
        try:
            keep = self.predicate(dict(sample))
        except NasError as err:
            return f"Filter predicate raised {type(err).__name__}: {err}"
        except Exception as err:
            raise MiddlewareError(
                f"the Filter predicate {_describe(self.predicate)!r} raised {type(err).__name__}: {err} on sample "
                f"{sample}. It receives the sample dict (label -> value), not a model; fix the predicate."
            ) from err
        try:
            keep = bool(keep)
        except Exception as err:
            raise MiddlewareError(
                f"the Filter predicate {_describe(self.predicate)!r} returned {keep!r}, which is not a truth value; "
                "return True to keep the sample and False to reject it."
            ) from err
        return None if keep else f"constraint not met (Filter predicate {_describe(self.predicate)!r} returned False)"

    def ask(self) -> dict[str, Any] | None:
        reason: str | None = ""
        sample: dict[str, Any] | None = None
        for _ in range(self.patience):
            sample = self.inner.ask()
            if sample is None:
                return None
            reason = self._check(sample)
            if reason is None:
                self.n_passed += 1
                return sample
            self.n_rejected += 1
            self.reject(sample, reason, self.metric_if_rejected)
            self.inner.tell(sample, TrialResult(self.metric_if_rejected, {}, REJECTED, reason))
        raise ConstraintUnsatisfiableError(
            f"Filter rejected {self.patience} samples in a row (the last one, {sample}: {reason}). The constraint "
            "may be unsatisfiable in this space: loosen it, check the predicate (it receives a sample dict such as "
            f"{sample}), or allow more tries with Filter(..., patience=N)."
        )

    def state_dict(self) -> dict[str, Any]:
        return {"n_passed": self.n_passed, "n_rejected": self.n_rejected}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.n_passed = int(state.get("n_passed", 0))
        self.n_rejected = int(state.get("n_rejected", 0))


class Deduplicate(Middleware):
    """Never pass the same architecture to the runner twice: samples are compared by
    :meth:`SearchSpace.canonical_key <nas_core.space.SearchSpace.canonical_key>`, so equivalent
    samples (differing only in labels they leave unused) count as one.

    When the strategy proposes a sample that already has a result, the strategy is told
    that earlier result and asked again. A repeat of a sample still running is held and
    told the same result when it arrives. After ``patience`` repeats in a row the
    strategy is considered converged: a warning is issued and ``ask`` returns None
    (the search ends).
    """

    def __init__(self, patience: int = 1000) -> None:
        super().__init__()
        self.patience = check_int("Deduplicate", "patience", patience, 1)
        self._results: dict[str, TrialResult] = {}
        self._running: dict[str, list[dict[str, Any]]] = {}  # key -> repeats waiting for its result
        self.n_repeats = 0

    def ask(self) -> dict[str, Any] | None:
        for _ in range(self.patience):
            sample = self.inner.ask()
            if sample is None:
                return None
            key = self._key(sample)
            if key in self._results:
                self.n_repeats += 1
                self.inner.tell(sample, self._results[key])
                continue
            if key in self._running:
                self.n_repeats += 1
                self._running[key].append(dict(sample))
                continue
            self._running[key] = []
            return sample
        warnings.warn(
            f"Deduplicate: the strategy proposed {self.patience} already-tried samples in a row; it has converged "
            "or the space is exhausted, so the search ends here. Use a deduplicating strategy or raise "
            "Deduplicate(patience=N).",
            stacklevel=2,
        )
        return None

    def _key(self, sample: Mapping[str, Any]) -> str:
        canonical_key = getattr(getattr(self, "space", None), "canonical_key", None)
        return canonical_key(sample) if callable(canonical_key) else sample_key(sample)

    def tell(self, sample: Mapping[str, object], result: TrialResult) -> None:
        key = self._key(sample)
        waiting = self._running.pop(key, [])
        self._results[key] = result
        self.inner.tell(sample, result)
        for repeat in waiting:
            self.inner.tell(repeat, result)

    def state_dict(self) -> dict[str, Any]:
        """Samples still running and the repeat count; results come back through :meth:`restore_history`."""
        return {"running": {k: list(v) for k, v in self._running.items()}, "n_repeats": self.n_repeats}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._results = {k: result_from_dict(v) for k, v in state.get("results", {}).items()}  # older states
        self._running = {k: [dict(s) for s in v] for k, v in state.get("running", {}).items()}
        self.n_repeats = int(state.get("n_repeats", 0))

    def restore_history(self, history: Sequence[tuple[Mapping[str, object], TrialResult]]) -> None:
        for sample, result in history:
            self._results[self._key(sample)] = result
