"""Errors of multi-trial strategies and middleware (all are :class:`nas_core.NasError`)."""
from __future__ import annotations

from nas_core.errors import NasError

__all__ = ["StrategyStateError", "StrategySetupError", "ConstraintUnsatisfiableError", "MiddlewareError"]


class StrategyStateError(NasError, ValueError):
    """A saved strategy state does not fit this strategy or this search space."""


class StrategySetupError(NasError, RuntimeError):
    """A strategy was used before ``setup(space, seed)``."""


class ConstraintUnsatisfiableError(NasError, RuntimeError):
    """A :class:`~nas_core.strategy.Filter` rejected ``patience`` samples in a row."""


class MiddlewareError(NasError, RuntimeError):
    """Middleware was misused or its predicate failed (the message says which and how to fix it)."""
