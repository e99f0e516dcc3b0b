"""The experiment: its settings, checked once, and :meth:`Experiment.run`.

The work is split by responsibility: :mod:`~nas_core.experiment.settings` checks the
settings, :mod:`~nas_core.experiment.recording` turns outcomes into records,
:mod:`~nas_core.experiment.loop` runs the multi-trial loop (asynchronous or in batches,
resumable), :mod:`nas_core.oneshot.experiment` the one-shot loop, and
:mod:`~nas_core.experiment.outputs` writes the files.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import uuid
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from nas_core.errors import ConfigError
from nas_core.interfaces import Executor, InProcessExecutor, OneShotStrategy, Profiler, Strategy
from nas_core.space import search_space
from nas_core.experiment import settings
from nas_core.experiment.fingerprint import check_resume, experiment_fingerprint
from nas_core.experiment.lock import ExperimentLock
from nas_core.experiment.outputs import BEST_ARCH, BEST_WEIGHTS, PARETO_PNG, SUMMARY, Outputs
from nas_core.experiment.recording import TrialRecorder
from nas_core.experiment.spec import Bound, parse_constraints, parse_objectives, Objective
from nas_core.experiment.query import best_trial
from nas_core.pruning import Pruner, TrialReporting, resolve_pruner
from nas_core.experiment.store import TrialRecord, TrialStore
from nas_core.experiment.trial import SpaceSpec, build_space, pack, prime, run_trial

__all__ = ["Experiment", "best_trial", "BEST_ARCH", "BEST_WEIGHTS", "PARETO_PNG", "SUMMARY"]

log = logging.getLogger("nas_core.experiment")


class Experiment:
    """A multi-trial search, from Python::

        exp = Experiment(MySpace(), ClassificationTrainer(dataset="digits"), RegularizedEvolution(),
                         profilers={"flops": FlopsProfiler(space, torch.zeros(1, 1, 8, 8))},
                         constraints={"flops": {"max": 2e5}},
                         objectives={"accuracy": "max", "flops": "min"},
                         max_trials=40, executor=ProcessPoolExecutor(2), workdir="runs/digits", seed=0)
        best = exp.run()

    ``space``: a model space (``nn.Module``), a zero-argument factory, or ``"module:Class"``.
    ``trainer``, ``strategy``, ``executor`` and each profiler: an object or a registry name.
    ``profilers`` maps a metric name to a profiler; ``constraints`` maps a metric or a label
    to ``{"min": ..., "max": ..., "allowed": [...]}``; ``objectives`` maps metrics to
    ``"max"``/``"min"`` (the first is the primary objective, whose value is the score told
    to the strategy). Bounds on profiler costs and labels are checked before training by a
    :class:`~nas_core.strategy.Filter` wrapped around the strategy; rejected samples are
    stored with status ``rejected``. Bounds on trainer metrics mark a trial infeasible.

    ``schedule``: ``"async"`` (default: a finished trial is stored and told at once and the
    next sample started, so no worker waits for another) or ``"sync"`` (batches of
    ``batch_size`` trials, default the executor's workers, told in trial order: the same
    trials on every executor). ``trial_timeout`` (seconds) stops a trial that runs longer
    and records it ``timeout``; ``max_duration`` (seconds) stops the search, and the trials
    running at that moment are run again by a rerun with a larger budget.

    ``pruner`` (optional) stops unpromising trials early from the intermediate results the
    trainer reports per epoch (``nas_core.pruning.report``): a registry name (``"asha"``,
    ``"median"``), ``{"name": "asha", **options}`` or a :class:`~nas_core.pruning.Pruner`.

    ``space_source`` (optional) is how worker processes rebuild the space (a
    :class:`SpaceSpec` or a picklable factory) when ``space`` is an instance.

    Everything is validated when the experiment is built, before any training; each
    problem is a :class:`~nas_core.errors.ConfigError` naming the field.
    """

    def __init__(
        self,
        space: nn.Module | str | SpaceSpec | Any,
        trainer: Any,
        strategy: Strategy | str,
        *,
        profilers: Mapping[str, Profiler | str] | None = None,
        constraints: Mapping[str, Any] | None = None,
        objectives: Mapping[str, str] | None = None,
        max_trials: int | None = None,
        max_duration: float | None = None,
        executor: Executor | str | None = None,
        workdir: str | os.PathLike = "nas-experiment",
        seed: int = 0,
        retries: int = 1,
        schedule: str = "async",
        batch_size: int | None = None,
        trial_timeout: float | None = None,
        trial_threads: int | None = 1,
        dummy_input: Any = None,
        metric_if_rejected: float | None = None,
        keep_weights: bool = True,
        progress: bool = True,
        overwrite: bool = False,
        space_source: Any = None,
        pruner: Pruner | str | Mapping[str, Any] | None = None,
    ) -> None:
        # the space (``space_source``: how workers rebuild it; default the space itself)
        self.space_source = SpaceSpec(space) if isinstance(space, str) else space
        self.model = build_space(self.space_source)
        if space_source is not None:
            self.space_source = space_source
        self.space = search_space(self.model)
        settings.check_space(self.model, self.space)
        if isinstance(dummy_input, (list, tuple)) and all(isinstance(d, int) for d in dummy_input):
            dummy_input = torch.zeros(*dummy_input)
        self.dummy_input = dummy_input
        # components
        self.trainer = settings.resolve_trainer(trainer)
        self.strategy = settings.resolve_strategy(strategy)
        self.one_shot = isinstance(self.strategy, OneShotStrategy)  # run by nas_core.oneshot.experiment
        self.profilers = settings.build_profilers(profilers, self.model, self.dummy_input)
        self.owns_executor = not isinstance(executor, Executor)
        self.executor = settings.resolve_executor(executor)
        settings.warn_if_trainer_ignores_gpus(self.executor, self.trainer)
        # metrics, objectives, constraints
        obj = getattr(self.trainer, "objective", "accuracy")
        self.trainer_metrics = list(dict.fromkeys([obj, *getattr(self.trainer, "metric_names", ())]))
        self.metrics = self.trainer_metrics + [p for p in self.profilers if p not in self.trainer_metrics]
        default = [Objective(obj, "max")] + [Objective(p, "min") for p in self.profilers]
        self.objectives = parse_objectives(objectives, self.metrics, default)
        self.primary = self.objectives[0]
        self.bounds: list[Bound] = parse_constraints(constraints, self.metrics, self.space)
        self.units = {m: getattr(self.trainer, "metric_units", {}).get(m, "") for m in self.trainer_metrics}
        self.units.update({m: getattr(p, "unit", "") for m, p in self.profilers.items()})
        # budget, schedule and options
        self.max_trials = settings.positive("max_trials", max_trials)
        self.max_duration = settings.positive("max_duration", max_duration, float, minimum=0.001)
        if self.max_trials is None and self.max_duration is None and not self.one_shot:
            raise ConfigError("no budget: set max_trials (a number of trials), max_duration (seconds) or both.")
        self.trial_timeout = settings.positive("trial_timeout", trial_timeout, float, minimum=0.001)
        if self.trial_timeout is not None and not getattr(self.executor, "can_stop", False):
            raise ConfigError(
                f"trial_timeout needs an executor that can stop a running trial; {type(self.executor).__name__} "
                "cannot (trials run in this process). Use the process-pool or ray executor."
            )
        self.seed = settings.positive("seed", seed, int, allow_none=False, minimum=0)
        self.retries = settings.positive("retries", retries, int, allow_none=False, minimum=0)
        self.schedule = settings.check_schedule(schedule, batch_size)
        self.workers = max(1, int(getattr(self.executor, "max_workers", 1)))
        self.batch_size = settings.positive("batch_size", batch_size) or self.workers
        self.trial_threads = settings.positive("trial_threads", trial_threads)
        self.metric_if_rejected = settings.check_metric_if_rejected(metric_if_rejected)
        self.keep_weights = bool(keep_weights)
        self.progress = bool(progress)
        self.workdir = Path(workdir)
        self.recorder = TrialRecorder(self.space, self.profilers, self.objectives, self.bounds, self.trainer_metrics,
                                      self.seed, self.trial_threads, self.keep_weights)
        self.pre_bounds, self.post_bounds = self.recorder.pre_bounds, self.recorder.post_bounds
        self.pruner = resolve_pruner(pruner)  # early stopping (None, a name, {"name": ..., **options} or a Pruner)
        self.recorder.reporting = TrialReporting(
            str((self.workdir / TrialStore.FILENAME).resolve()), self.recorder.objective,
            next((o.direction == "max" for o in self.objectives if o.metric == self.recorder.objective), True),
            self.pruner)
        self.outputs = Outputs(self.workdir, self.space, self.objectives, self.units, bool(self.profilers),
                               self.keep_weights)
        self.overwrite = bool(overwrite)  # run() deletes the old files once it holds the folder's lock
        self.store: TrialStore | None = None

    @property
    def best(self) -> TrialRecord | None:
        """The best trial recorded so far (after :meth:`run`: the best of the experiment)."""
        return self.outputs.best

    # -- identity of the experiment (resume must run the same one) ---------------------------
    def fingerprint(self) -> dict[str, Any]:
        """What a resume must find unchanged (see :mod:`nas_core.experiment.fingerprint`)."""
        return experiment_fingerprint(self)

    def open_store(self) -> TrialStore:
        """The experiment folder's store, checked to hold this experiment (or nothing yet)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        store = TrialStore(self.workdir)
        fp = self.fingerprint()
        check_resume(store.get_meta("fingerprint"), fp, self.workdir)
        store.set_meta("fingerprint", fp)
        store.set_meta("objectives", [[o.metric, o.direction] for o in self.objectives])
        store.set_meta("units", self.units)
        store.set_meta("constraints", [b.describe() for b in self.bounds])
        store.set_meta("labels", self.space.labels)
        store.set_meta("costs", list(self.profilers))
        store.set_meta("budget", {"max_trials": self.max_trials, "max_duration": self.max_duration})
        self.store = store
        return store

    def wrapped_strategy(self) -> Strategy:
        """The strategy, with the pre-training bounds as a :class:`~nas_core.strategy.Filter` in front."""
        if not self.pre_bounds:
            return self.strategy
        from nas_core.strategy.middleware import Chain, Filter

        return Chain(self.strategy, Filter(self.recorder.admit, metric_if_rejected=self.metric_if_rejected))

    def costs(self, sample: Mapping[str, object]) -> dict[str, float]:
        """Every profiler's cost of ``sample``."""
        return self.recorder.costs(sample)

    def trial_payload(self) -> tuple[str, bytes]:
        """``(token, payload)`` for this experiment's jobs: built objects in process, a pickle for workers."""
        if isinstance(self.executor, InProcessExecutor):
            return self.local_token(), b""
        preload = getattr(self.executor, "preload", None)
        if callable(preload):  # workers import the trainer's and the space's modules once, before they start
            source = self.space_source
            space_module = source.target.partition(":")[0] if isinstance(source, SpaceSpec) else getattr(
                source, "__module__", None)
            preload([m for m in (type(self.trainer).__module__, space_module) if isinstance(m, str)])
        return pack(self.space_source, self.trainer)

    def local_token(self) -> str:
        """A token under which this process's built space and trainer are cached (no unpickling)."""
        token = uuid.uuid4().hex
        prime(token, self.space, self.trainer)
        return token

    # -- running ----------------------------------------------------------------------------
    def run(self) -> TrialRecord | None:
        """Search until the budget is spent or the strategy has nothing left; return the best trial.

        Resumes from the experiment folder when it already holds this experiment's trials:
        trials that were running are run again with their samples, the strategy continues
        from its stored state. A one-shot strategy trains its supernet, then its export is
        retrained and recorded. The folder is locked while the search runs: a second search on
        it is refused (:class:`~nas_core.experiment.lock.ExperimentLock`).
        """
        with ExperimentLock(self.workdir):
            if self.overwrite:
                self.outputs.clear()
                self.overwrite = False  # deleted once; a second run() of this object resumes
            return self._run_locked()

    def _run_locked(self) -> TrialRecord | None:
        if self.one_shot:
            from nas_core.oneshot.experiment import run_one_shot

            return run_one_shot(self)
        from nas_core.experiment.loop import TrialLoop

        try:
            TrialLoop(self, self.open_store(), self.wrapped_strategy()).run()
        finally:
            if self.owns_executor:
                self.executor.shutdown()
        self.finalize()
        return self.best

    def finalize(self) -> None:
        """Write the best architecture JSON, the best model's weights, the Pareto plot and a summary."""
        store = self.store or self.open_store()

        def retrain(best: TrialRecord) -> Any:
            job = self.recorder.job(best.id, best.sample, self.local_token(), b"")
            # its curve is stored already, and a pruner must not stop the retraining
            return run_trial(dataclasses.replace(job, reporting=None)).weights

        self.outputs.finalize(store, retrain)
