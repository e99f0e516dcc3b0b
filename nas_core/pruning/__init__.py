"""Early stopping (multi-fidelity): intermediate reports and the pruners that act on them.

A trainer calls :func:`report` once per epoch; the experiment's pruner (a plugin of kind
``pruner``: ``median``, ``asha``...) decides after each report whether the trial goes on,
and stops it by raising :class:`TrialPruned`. Curves are stored in the experiment's
SQLite store (:class:`CurveStore`) and shown by ``nas results DIR --trial N``.
See docs/early-stopping.md.
"""
from nas_core.pruning.base import Pruner, ReportError, TrialPruned
from nas_core.pruning.config import resolve_pruner
from nas_core.pruning.curves import COMPLETED, FAILED, RUNNING, STOPPED, LearningCurve, TrialHistory
from nas_core.pruning.reporting import Reporter, TrialReporting, current_reporter, report, reporting
from nas_core.pruning.store import CurvePoint, CurveStore

__all__ = [
    "COMPLETED",
    "FAILED",
    "RUNNING",
    "STOPPED",
    "CurvePoint",
    "CurveStore",
    "LearningCurve",
    "Pruner",
    "ReportError",
    "Reporter",
    "TrialHistory",
    "TrialPruned",
    "TrialReporting",
    "current_reporter",
    "report",
    "reporting",
    "resolve_pruner",
]
