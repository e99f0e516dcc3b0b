"""Strategy-generic parts of the core: middleware, Pareto sets, sample encodings, RNG states.

* :mod:`~nas_core.strategy.middleware`: :class:`Chain`, :class:`Filter`, :class:`Deduplicate`
  and the rejection records the runner stores (:func:`drain_rejected`).
* :func:`pareto_front`: non-dominated trials for any number of objectives.
* :class:`SeededStrategy`, :class:`ProposalSpace`, :class:`SampleCodec`, :class:`SampleTrie` and the RNG-state
  helpers: the building blocks of the first-party strategies, for plugin authors too.
* :class:`TabularBenchmark`: replay a strategy on a precomputed results table.

The seeds' ``from nni.nas.strategy import Random`` becomes
``from nas_core.strategy import Random``: ``Random``, ``RegularizedEvolution``,
``PolicyBasedRL``, and the one-shot ``DARTS``, ``ENAS`` and ``ProxylessNAS``, resolve through
the registry to the installed strategy plugins.
"""
from nas_core.strategy.base import SeededStrategy, check_int, check_prob, usable_score
from nas_core.strategy.encoding import SampleCodec, SampleTrie
from nas_core.strategy.errors import (
    ConstraintUnsatisfiableError,
    MiddlewareError,
    StrategySetupError,
    StrategyStateError,
)
from nas_core.strategy.middleware import Chain, Deduplicate, Filter, Middleware, Rejection, drain_rejected
from nas_core.strategy.pareto import pareto_front
from nas_core.strategy.proposals import PendingSamples, ProposalSpace
from nas_core.strategy.rng import random_state, set_random_state, set_torch_generator_state, torch_generator_state
from nas_core.strategy.tabular import TabularBenchmark, TabularRun

__all__ = [
    "Chain",
    "ConstraintUnsatisfiableError",
    "Deduplicate",
    "Filter",
    "Middleware",
    "MiddlewareError",
    "ProposalSpace",
    "PendingSamples",
    "Rejection",
    "SampleCodec",
    "SampleTrie",
    "SeededStrategy",
    "StrategySetupError",
    "StrategyStateError",
    "TabularBenchmark",
    "TabularRun",
    "check_int",
    "check_prob",
    "drain_rejected",
    "pareto_front",
    "random_state",
    "set_random_state",
    "set_torch_generator_state",
    "torch_generator_state",
    "usable_score",
]

_PLUGIN_CLASSES = {"Random": "random", "RegularizedEvolution": "regularized-evolution", "PolicyBasedRL": "ppo",
                   "DARTS": "darts", "ENAS": "enas", "ProxylessNAS": "proxyless"}


def __getattr__(name: str):
    """``Random``, ``RegularizedEvolution``, ``PolicyBasedRL``, ``DARTS``, ``ENAS``, ``ProxylessNAS``: plugin classes."""
    if name in _PLUGIN_CLASSES:
        from nas_core.registry import get

        return get("strategy", _PLUGIN_CLASSES[name]).factory
    raise AttributeError(f"module 'nas_core.strategy' has no attribute {name!r}")
