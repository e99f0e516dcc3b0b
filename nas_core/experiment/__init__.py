"""Multi-trial experiments: the runner, its SQLite trial store, executors, config files and reports.

From Python::

    from nas_core.experiment import Experiment
    best = Experiment(space, trainer, strategy, profilers=..., constraints=..., max_trials=40).run()

From the command line: ``nas search CONFIG`` and ``nas results DIR`` (see docs/experiments.md).
Reading results (:class:`TrialQuery`, :class:`Report`) does not import torch: the names
below are imported on first use.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nas_core.experiment.config import ExperimentConfig, load_config, parse_duration
    from nas_core.experiment.lock import ExperimentLock
    from nas_core.experiment.process_pool import ProcessPoolExecutor
    from nas_core.experiment.query import BestPoint, TrialPage, TrialQuery, best_trial
    from nas_core.experiment.report import Report, axis_label, pareto_trials, plot_pareto
    from nas_core.experiment.runner import Experiment
    from nas_core.experiment.spec import Bound, Objective
    from nas_core.experiment.store import TrialRecord, TrialStore
    from nas_core.experiment.trial import SpaceSpec, TrialJob, TrialOutcome, run_trial

#: public name -> the module that defines it
_LAZY = {
    **dict.fromkeys(["ExperimentConfig", "load_config", "parse_duration"], "nas_core.experiment.config"),
    "ExperimentLock": "nas_core.experiment.lock",
    "ProcessPoolExecutor": "nas_core.experiment.process_pool",
    **dict.fromkeys(["BestPoint", "TrialPage", "TrialQuery", "best_trial"], "nas_core.experiment.query"),
    **dict.fromkeys(["Report", "axis_label", "pareto_trials", "plot_pareto"], "nas_core.experiment.report"),
    "Experiment": "nas_core.experiment.runner",
    **dict.fromkeys(["Bound", "Objective"], "nas_core.experiment.spec"),
    **dict.fromkeys(["TrialRecord", "TrialStore"], "nas_core.experiment.store"),
    **dict.fromkeys(["SpaceSpec", "TrialJob", "TrialOutcome", "run_trial"], "nas_core.experiment.trial"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nas_core.experiment' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "BestPoint",
    "Bound",
    "Experiment",
    "ExperimentConfig",
    "ExperimentLock",
    "Objective",
    "ProcessPoolExecutor",
    "Report",
    "SpaceSpec",
    "TrialJob",
    "TrialOutcome",
    "TrialPage",
    "TrialQuery",
    "TrialRecord",
    "TrialStore",
    "axis_label",
    "best_trial",
    "load_config",
    "parse_duration",
    "pareto_trials",
    "plot_pareto",
    "run_trial",
]
