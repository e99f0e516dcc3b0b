"""Strategy: multi-trial strategies are ask/tell; one-shot strategies train a supernet."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping, Sequence

from torch import nn

from nas_core.interfaces.trainer import Trainer
from nas_core.statuses import FAILED, PRUNED, REJECTED, SUCCEEDED, TIMEOUT  # defined torch-free, re-exported

if TYPE_CHECKING:
    from nas_core.space.search_space import SearchSpace

__all__ = ["TrialResult", "Strategy", "OneShotStrategy", "SUCCEEDED", "FAILED", "REJECTED", "PRUNED", "TIMEOUT"]


@dataclass
class TrialResult:
    """What a strategy is told about a sample.

    ``score`` is the value the strategy maximises (None when the trial failed or was
    rejected); ``metrics`` holds every measured metric and cost.
    """

    score: float | None
    metrics: dict[str, float] = field(default_factory=dict)
    status: str = SUCCEEDED
    error: str | None = None
    #: True when ``score`` is an intermediate value (a pruned trial's last report), not a final one
    partial: bool = False

    @property
    def ok(self) -> bool:
        return self.status == SUCCEEDED and self.score is not None


class Strategy(ABC):
    """A multi-trial strategy: proposes samples (:meth:`ask`) and learns from results (:meth:`tell`).

    The runner calls :meth:`setup` once with the search space and seed, then alternates
    ``ask`` and ``tell``. :meth:`state_dict` / :meth:`load_state_dict` save and restore
    everything needed to continue exactly where it stopped (JSON-serialisable).
    """

    name: ClassVar[str] = ""

    def setup(self, space: SearchSpace, seed: int | None = None) -> None:
        """Bind the strategy to a :class:`~nas_core.space.SearchSpace`."""
        self.space = space
        self.seed = seed

    @abstractmethod
    def ask(self) -> dict[str, Any] | None:
        """The next sample to try, or None when the strategy has nothing more to propose."""

    @abstractmethod
    def tell(self, sample: Mapping[str, object], result: TrialResult) -> None:
        """Report the result of a sample obtained from :meth:`ask`."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        pass

    def restore_history(self, history: Sequence[tuple[Mapping[str, object], TrialResult]]) -> None:
        """Called on resume, right after :meth:`load_state_dict`, with every (sample, result) told so far.

        The runner saves :meth:`state_dict` after every trial, so a state must not grow with the
        number of trials: a strategy keeps whatever is derivable from the history (a seen-set, an
        archive of results) out of its state and rebuilds it here. History is in the order told.
        The default does nothing.
        """


    def add_feasibility(self, feasible: Callable[[dict[str, Any]], bool]) -> bool:
        """Told, after :meth:`setup`, that only samples with ``feasible(sample)`` true will be trained.

        Middleware calls it: ``Filter(predicate)`` passes its predicate (typically a bound on a
        profiler cost, cheap and known before training). A strategy that supports it draws its
        proposals among feasible samples (checking ``feasible`` as often as it likes, it is
        cheap) instead of proposing and being rejected, and returns True; several calls add
        predicates that must all hold. The default ignores it and returns False (the Filter
        then rejects infeasible proposals as before).
        """
        return False

    def set_objectives(self, objectives: Mapping[str, str], metrics: Sequence[str] = ()) -> bool:
        """Told, after :meth:`setup` and before any ``tell``, what the experiment optimises.

        ``objectives`` maps metric names to ``"max"`` or ``"min"`` in the experiment's order (the
        first is primary: the told ``score`` is its value, signed so that larger is better);
        ``metrics`` names every metric and cost a told result's ``metrics`` may hold. The runner
        calls it (``Experiment(objectives=...)``, the config's ``[objectives]``). A
        multi-objective strategy (``nsga2``) searches for the Pareto front of these objectives
        unless it was built with its own, which it checks against ``metrics`` (a
        :class:`~nas_core.errors.ConfigError` naming an unknown one), and returns True. The
        default ignores it and returns False: the strategy maximises the score.
        """
        return False


class OneShotStrategy(ABC):
    """A one-shot strategy: trains a supernet with a trainer's pieces, then exports a sample."""

    name: ClassVar[str] = ""

    @abstractmethod
    def fit(self, model_space: nn.Module, trainer: Trainer) -> None:
        """Search on ``model_space`` using ``trainer``'s data, loss and optimizer."""

    @abstractmethod
    def export(self, file: str | None = None) -> dict[str, Any]:
        """The chosen sample (argmax, deterministic); written as architecture JSON to ``file``."""
