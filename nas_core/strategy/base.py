"""A base class for seeded ask/tell strategies: option checks, seeding, state checks."""
from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from nas_core.checks import check_int, check_prob  # re-exported: strategies import them from here
from nas_core.interfaces.strategy import FAILED, REJECTED, SUCCEEDED, Strategy, TrialResult
from nas_core.strategy.encoding import SampleCodec
from nas_core.strategy.errors import StrategySetupError, StrategyStateError
from nas_core.strategy.proposals import ProposalSpace

if TYPE_CHECKING:
    from nas_core.space.search_space import SearchSpace

__all__ = ["SeededStrategy", "check_int", "check_prob", "usable_score", "result_to_dict", "result_from_dict"]


def usable_score(result: TrialResult) -> float | None:
    """The score a strategy may learn from, or None.

    A succeeded trial's finite score; also a rejected trial's score when middleware set one
    (``Filter(..., metric_if_rejected=x)`` reports ``x`` so the strategy learns to avoid
    such samples). Failed trials and scoreless rejections give None.
    """
    score = result.score
    if score is None or result.status == FAILED:
        return None
    try:
        score = float(score)
    except (TypeError, ValueError):
        return None
    if score != score or score in (float("inf"), float("-inf")):
        return None
    return score if result.status in (SUCCEEDED, REJECTED) else None


def result_to_dict(result: TrialResult) -> dict[str, Any]:
    return {"score": result.score, "metrics": dict(result.metrics), "status": result.status, "error": result.error}


def result_from_dict(d: Mapping[str, Any]) -> TrialResult:
    return TrialResult(d.get("score"), dict(d.get("metrics") or {}), d.get("status", SUCCEEDED), d.get("error"))


class SeededStrategy(Strategy):
    """Base of the first-party strategies.

    ``seed`` given to the constructor wins over the one the runner passes to
    :meth:`setup`; with neither, a seed is drawn from the OS and kept in :attr:`seed` (and
    in the state) so the run can be reproduced. Subclasses implement :meth:`_setup`,
    :meth:`ask`, :meth:`tell`, :meth:`_state` and :meth:`_load_state`.

    :attr:`proposals` (a :class:`~nas_core.strategy.proposals.ProposalSpace`) holds the
    canonical samples proposed or told so far (never saved: :meth:`restore_history` rebuilds
    it) and the feasibility predicates middleware handed over (:meth:`add_feasibility`).
    Subclasses propose only vectors it admits and :meth:`~ProposalSpace.mark` them.
    """

    def __init__(self, seed: int | None = None) -> None:
        self._seed_option = check_int(type(self).__name__, "seed", seed, 0, allow_none=True)
        self.codec: SampleCodec | None = None
        self.seed: int | None = None
        self.proposals: ProposalSpace | None = None
        self._feasibility: list[Callable[[dict[str, Any]], bool]] = []

    def setup(self, space: SearchSpace, seed: int | None = None) -> None:
        if not hasattr(space, "choices") or not hasattr(space, "validate"):
            raise StrategySetupError(
                f"{type(self).__name__}.setup needs a nas_core SearchSpace (nas_core.search_space(model)), "
                f"got {type(space).__name__}."
            )
        if seed is not None:
            check_int(type(self).__name__, "seed", seed, 0)
        self.space = space
        self.codec = SampleCodec(space)
        self.proposals = ProposalSpace(self.codec, self._feasible if self._feasibility else None)
        if self._seed_option is not None:
            self.seed = self._seed_option
        elif seed is not None:
            self.seed = int(seed)
        else:
            self.seed = random.SystemRandom().randrange(2**32)
        self._setup()

    def _setup(self) -> None:
        """Initialise the search state (after :attr:`codec` and :attr:`seed` are set)."""

    # -- feasibility ------------------------------------------------------------------
    def add_feasibility(self, feasible: Callable[[dict[str, Any]], bool]) -> bool:
        """Propose only samples for which ``feasible`` (and every predicate added before) is true."""
        if not callable(feasible):
            raise StrategySetupError(
                f"{type(self).__name__}.add_feasibility needs a callable sample -> bool, got {feasible!r}."
            )
        if feasible not in self._feasibility:
            self._feasibility.append(feasible)
        if self.proposals is not None:
            self.proposals.feasible = self._feasible
        return True

    def _feasible(self, sample: dict[str, Any]) -> bool:
        return all(f(sample) for f in self._feasibility)

    # -- history ----------------------------------------------------------------------
    def restore_history(self, history: Sequence[tuple[Mapping[str, object], TrialResult]]) -> None:
        """Mark every told sample as tried, then let the subclass rebuild what it derives (:meth:`_restore`)."""
        proposals = self._require_proposals()
        told = []
        for sample, result in history:
            indices = proposals.canonical_of(sample)
            proposals.mark(indices)
            told.append((indices, result))
        self._restore(told)

    def _restore(self, told: list[tuple[tuple[int, ...], TrialResult]]) -> None:
        """Rebuild derived state from the told history, as canonical index vectors, in order."""

    def _require_proposals(self) -> ProposalSpace:
        self._require_setup()
        assert self.proposals is not None
        return self.proposals

    def _require_setup(self) -> SampleCodec:
        if self.codec is None:
            raise StrategySetupError(
                f"{type(self).__name__} is not set up: call strategy.setup(space, seed) before ask/tell/"
                "load_state_dict (the experiment runner does this for you)."
            )
        return self.codec

    # -- state ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly where the strategy stopped (JSON-safe)."""
        codec = self._require_setup()
        return {"strategy": type(self).__name__, "seed": self.seed, "space": codec.fingerprint(), **self._state()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a state from :meth:`state_dict` (call :meth:`setup` with the same space first)."""
        codec = self._require_setup()
        if not isinstance(state, Mapping) or state.get("strategy") != type(self).__name__:
            got = state.get("strategy") if isinstance(state, Mapping) else type(state).__name__
            raise StrategyStateError(
                f"{type(self).__name__}.load_state_dict got a state of {got!r}; pass the dict saved by "
                f"{type(self).__name__}.state_dict()."
            )
        codec.check_fingerprint(state.get("space"), type(self).__name__)
        self.seed = state["seed"]
        try:
            self._load_state(state)
        except (KeyError, TypeError, ValueError) as err:
            if isinstance(err, StrategyStateError):
                raise
            raise StrategyStateError(
                f"{type(self).__name__}.load_state_dict: the saved state is incomplete or corrupt ({type(err).__name__}: "
                f"{err}); pass the dict saved by state_dict() unchanged."
            ) from err

    def _state(self) -> dict[str, Any]:
        return {}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        pass
