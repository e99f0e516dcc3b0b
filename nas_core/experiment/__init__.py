"""Multi-trial experiments: the runner, its SQLite trial store, executors, config files and reports.

From Python::

    from nas_core.experiment import Experiment
    best = Experiment(space, trainer, strategy, profilers=..., constraints=..., max_trials=40).run()

From the command line: ``nas search CONFIG`` and ``nas results DIR`` (see docs/experiments.md).
"""
from nas_core.experiment.config import ExperimentConfig, load_config, parse_duration
from nas_core.experiment.process_pool import ProcessPoolExecutor
from nas_core.experiment.report import Report, axis_label, pareto_trials, plot_pareto
from nas_core.experiment.runner import Experiment, best_trial
from nas_core.experiment.spec import Bound, Objective
from nas_core.experiment.store import TrialRecord, TrialStore
from nas_core.experiment.trial import SpaceSpec, TrialJob, TrialOutcome, run_trial

__all__ = [
    "Bound",
    "Experiment",
    "ExperimentConfig",
    "Objective",
    "ProcessPoolExecutor",
    "Report",
    "SpaceSpec",
    "TrialJob",
    "TrialOutcome",
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
