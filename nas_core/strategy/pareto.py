"""The Pareto set (non-dominated points) of trials with several objectives.

The implementation lives in the torch-free :mod:`nas_core.pareto` (reading commands use it
without importing torch); this module keeps the ``nas_core.strategy`` import path.
"""
from nas_core.pareto import nondominated, pareto_front

__all__ = ["pareto_front", "nondominated"]
