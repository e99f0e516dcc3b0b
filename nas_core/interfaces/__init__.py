"""The documented abstract classes that plugins implement."""
from nas_core.interfaces.executor import Executor, InProcessExecutor
from nas_core.interfaces.profiler import Profiler, ProfilesSamples
from nas_core.interfaces.shape_formula import ShapeFormula
from nas_core.interfaces.strategy import (
    FAILED, PRUNED, REJECTED, SUCCEEDED, TIMEOUT, OneShotStrategy, Strategy, TrialResult,
)
from nas_core.interfaces.trainer import Trainer

__all__ = [
    "Executor",
    "InProcessExecutor",
    "Profiler",
    "ProfilesSamples",
    "ShapeFormula",
    "Strategy",
    "OneShotStrategy",
    "TrialResult",
    "Trainer",
    "SUCCEEDED",
    "FAILED",
    "REJECTED",
    "PRUNED",
    "TIMEOUT",
]
