"""The experiment runner: ask the strategy, run trials on an executor, store, tell, resume."""
from __future__ import annotations

import contextlib
import json
import logging
import math
import numbers
import os
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path
from typing import Any, Iterator, Mapping

import torch
from torch import nn

from nas_core.errors import ConfigError, NasError
from nas_core.interfaces import (
    FAILED, REJECTED, SUCCEEDED, Executor, InProcessExecutor, OneShotStrategy, Profiler, Strategy, TrialResult,
)
from nas_core.registry import create
from nas_core.space import export_architecture, sample_key, search_space
from nas_core.experiment.query import best_trial
from nas_core.experiment.spec import Bound, Objective, parse_constraints, parse_objectives
from nas_core.experiment.store import TrialRecord, TrialStore
from nas_core.experiment.trial import (
    SpaceSpec, TrialJob, TrialOutcome, build_space, pack, prime, run_trial, trial_seed, worker_id,
)

__all__ = ["Experiment", "best_trial"]

log = logging.getLogger("nas_core.experiment")

BEST_ARCH, BEST_WEIGHTS, PARETO_PNG, SUMMARY = "best_architecture.json", "best_model.pt", "pareto.png", "summary.json"


def _positive(name: str, value: Any, kind: type = int, allow_none: bool = True, minimum: float = 1) -> Any:
    if value is None and allow_none:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and value >= minimum
    if kind is int:
        ok = ok and float(value).is_integer()
    if not ok:
        what = "an integer" if kind is int else "a number"
        raise ConfigError(f"{name} must be {what} >= {minimum:g}, got {value!r}.")
    return kind(value)


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
        batch_size: int | None = None,
        trial_threads: int | None = 1,
        dummy_input: Any = None,
        metric_if_rejected: float | None = None,
        keep_weights: bool = True,
        progress: bool = True,
        overwrite: bool = False,
        space_source: Any = None,
    ) -> None:
        # the space (``space_source``: how workers rebuild it; default the space itself)
        self.space_source = SpaceSpec(space) if isinstance(space, str) else space
        self.model = build_space(self.space_source)
        if space_source is not None:
            self.space_source = space_source
        self.space = search_space(self.model)
        if len(self.space) == 0:
            raise ConfigError(
                f"space: {type(self.model).__name__} has no choices (no LayerChoice, InputChoice, ValueChoice or "
                "Repeat); there is nothing to search."
            )
        if isinstance(dummy_input, (list, tuple)) and all(isinstance(d, int) for d in dummy_input):
            dummy_input = torch.zeros(*dummy_input)
        self.dummy_input = dummy_input
        # components
        self.trainer = create("trainer", trainer) if isinstance(trainer, str) else trainer
        if not callable(getattr(self.trainer, "fit", None)):
            raise ConfigError(f"trainer must have fit(model) -> dict of metrics (a nas_core.Trainer), got {trainer!r}.")
        self.strategy = create("strategy", strategy) if isinstance(strategy, str) else strategy
        self.one_shot = isinstance(self.strategy, OneShotStrategy)  # run by nas_core.oneshot.experiment
        if not self.one_shot and not (callable(getattr(self.strategy, "ask", None)) and
                                      callable(getattr(self.strategy, "tell", None))):
            raise ConfigError(
                f"strategy must be a multi-trial (ask/tell) strategy, got {type(self.strategy).__name__}; one-shot "
                "strategies train a supernet with strategy.fit(model_space, trainer) instead."
            )
        self.profilers: dict[str, Any] = {}
        for metric, prof in (profilers or {}).items():
            if isinstance(prof, str):
                if self.dummy_input is None:
                    raise ConfigError(
                        f"profilers.{metric}: building profiler {prof!r} needs a dummy input; pass dummy_input= "
                        "(a tensor or a shape such as [1, 1, 8, 8]) or a built profiler object."
                    )
                prof = create("profiler", prof, self.model, self.dummy_input)
            if not callable(getattr(prof, "profile", None)):
                raise ConfigError(f"profilers.{metric} must have profile(sample) -> float, got {prof!r}.")
            self.profilers[str(metric)] = prof
        self._owns_executor = not isinstance(executor, Executor)
        self.executor = InProcessExecutor() if executor is None else (
            create("executor", executor) if isinstance(executor, str) else executor)
        # metrics, objectives, constraints
        obj = getattr(self.trainer, "objective", "accuracy")
        trainer_metrics = list(dict.fromkeys([obj, *getattr(self.trainer, "metric_names", ())]))
        self.trainer_metrics = trainer_metrics
        self.metrics = trainer_metrics + [p for p in self.profilers if p not in trainer_metrics]
        default = [Objective(obj, "max")] + [Objective(p, "min") for p in self.profilers]
        self.objectives = parse_objectives(objectives, self.metrics, default)
        self.primary = self.objectives[0]
        self.bounds: list[Bound] = parse_constraints(constraints, self.metrics, self.space)
        self.pre_bounds = [b for b in self.bounds if b.kind == "label" or b.key in self.profilers]
        self.post_bounds = [b for b in self.bounds if b not in self.pre_bounds]
        self.units = {m: getattr(self.trainer, "metric_units", {}).get(m, "") for m in trainer_metrics}
        self.units.update({m: getattr(p, "unit", "") for m, p in self.profilers.items()})
        # budget and options
        self.max_trials = _positive("max_trials", max_trials)
        self.max_duration = _positive("max_duration", max_duration, float, minimum=0.001)
        if self.max_trials is None and self.max_duration is None and not self.one_shot:
            raise ConfigError("no budget: set max_trials (a number of trials), max_duration (seconds) or both.")
        self.seed = _positive("seed", seed, int, allow_none=False, minimum=0)
        self.retries = _positive("retries", retries, int, allow_none=False, minimum=0)
        self.batch_size = _positive("batch_size", batch_size) or max(1, int(getattr(self.executor, "max_workers", 1)))
        self.trial_threads = _positive("trial_threads", trial_threads)
        if metric_if_rejected is not None and (isinstance(metric_if_rejected, bool) or
                                               not isinstance(metric_if_rejected, numbers.Real)):
            raise ConfigError(f"metric_if_rejected must be a number or None, got {metric_if_rejected!r}.")
        self.metric_if_rejected = metric_if_rejected
        self.keep_weights = bool(keep_weights)
        self.progress = bool(progress)
        self.workdir = Path(workdir)
        if overwrite and self.workdir.exists():
            for name in (TrialStore.FILENAME, TrialStore.FILENAME + "-wal", TrialStore.FILENAME + "-shm",
                         BEST_ARCH, BEST_WEIGHTS, PARETO_PNG, SUMMARY):
                with contextlib.suppress(FileNotFoundError):
                    (self.workdir / name).unlink()
        self.store: TrialStore | None = None
        self._costs_cache: dict[str, dict[str, float]] = {}
        self._reject_reason: dict[str, str] = {}
        self.best: TrialRecord | None = None

    # -- identity of the experiment (resume must run the same one) ---------------------------
    def fingerprint(self) -> dict[str, Any]:
        return {
            "labels": [[c.label, [repr(v) for v in c.domain]] for c in self.space],
            "strategy": type(self.strategy).__name__,
            "seed": self.seed,
            "objectives": [[o.metric, o.direction] for o in self.objectives],
            "constraints": [b.describe() for b in self.bounds],
            "profilers": sorted(self.profilers),
            "trainer": type(self.trainer).__name__,
            "batch_size": self.batch_size,
        }

    def _open_store(self) -> TrialStore:
        store = TrialStore(self.workdir)
        fp = self.fingerprint()
        old = store.get_meta("fingerprint")
        if old is not None and old != fp:
            diff = [k for k in fp if old.get(k) != fp[k]]
            raise ConfigError(
                f"{self.workdir} holds a different experiment ({', '.join(diff)} changed: was "
                f"{old.get(diff[0])!r}, now {fp[diff[0]]!r}). Resume needs the same settings; use another workdir, "
                "or start over with overwrite=True (`nas search --overwrite`)."
            )
        store.set_meta("fingerprint", fp)
        store.set_meta("objectives", [[o.metric, o.direction] for o in self.objectives])
        store.set_meta("units", self.units)
        store.set_meta("constraints", [b.describe() for b in self.bounds])
        store.set_meta("labels", self.space.labels)
        store.set_meta("costs", list(self.profilers))
        store.set_meta("budget", {"max_trials": self.max_trials, "max_duration": self.max_duration})
        return store

    # -- the strategy, with the pre-training bounds as a Filter -------------------------------
    def _wrapped_strategy(self) -> Strategy:
        if not self.pre_bounds:
            return self.strategy
        from nas_core.strategy.middleware import Chain, Filter

        return Chain(self.strategy, Filter(self._admit, metric_if_rejected=self.metric_if_rejected))

    def costs(self, sample: Mapping[str, Any]) -> dict[str, float]:
        """Every profiler's cost of ``sample`` (cached)."""
        key = sample_key(sample)
        if key not in self._costs_cache:
            self._costs_cache[key] = {m: float(p.profile(dict(sample))) for m, p in self.profilers.items()}
        return self._costs_cache[key]

    def _admit(self, sample: dict[str, Any]) -> bool:
        """The Filter predicate: True when the sample meets every label and cost bound."""
        key = sample_key(sample)
        values: dict[str, Any] = dict(sample)
        try:
            values.update(self.costs(sample))
        except Exception as err:  # noqa: BLE001 - a sample the profiler cannot cost is rejected, with why
            self._reject_reason[key] = f"a profiler failed on this sample: {type(err).__name__}: {err}"
            return False
        for b in self.pre_bounds:
            why = b.violation(values[b.key])
            if why:
                self._reject_reason[key] = f"constraint {b.describe()} not met: {why}"
                return False
        return True

    # -- running ----------------------------------------------------------------------------
    def run(self) -> TrialRecord | None:
        """Search until the budget is spent or the strategy has nothing left; return the best trial.

        Resumes from the experiment folder when it already holds this experiment's trials.
        A one-shot strategy trains its supernet, then its export is retrained and recorded.
        """
        if self.one_shot:
            from nas_core.oneshot.experiment import run_one_shot

            return run_one_shot(self)
        self.workdir.mkdir(parents=True, exist_ok=True)
        store = self.store = self._open_store()
        strategy = self._wrapped_strategy()
        strategy.setup(self.space, self.seed)
        last = store.last_batch()
        batch, next_id = 0, 1
        if last is not None:
            batch, next_id, state = last
            strategy.load_state_dict(state)
            log.info("resuming %s after batch %d (trial %d)", self.workdir, batch, next_id - 1)
        trained = [t for t in store.trials() if t.status != REJECTED and t.id < next_id]
        done = len(trained)
        self.best = best_trial(store.trials())
        elapsed0 = float(store.get_meta("elapsed", 0.0))
        t0 = time.monotonic()
        store.set_meta("run", {"started": time.time(), "elapsed_before": elapsed0})
        local = isinstance(self.executor, InProcessExecutor)
        if local:
            token, payload = uuid.uuid4().hex, b""
            prime(token, self.space, self.trainer)
        else:
            token, payload = pack(self.space_source, self.trainer)
        try:
            with self._progress(done) as bar:
                while True:
                    elapsed = elapsed0 + time.monotonic() - t0
                    if self.max_duration is not None and elapsed >= self.max_duration:
                        log.info("time budget of %.0f s spent", self.max_duration)
                        break
                    k = self.batch_size if self.max_trials is None else min(self.batch_size, self.max_trials - done)
                    if k <= 0:
                        break
                    batch += 1
                    asked, next_id, exhausted = self._ask(strategy, store, batch, next_id, k)
                    records = self._run_batch(store, batch, asked, token, payload, bar)
                    for tid, sample in asked:
                        rec = records[tid]
                        strategy.tell(sample, TrialResult(rec.score, rec.values, rec.status, rec.error))
                        store.add_state(tid, strategy.state_dict())
                    done += len(asked)
                    store.end_batch(batch, next_id, strategy.state_dict())
                    store.set_meta("elapsed", elapsed0 + time.monotonic() - t0)
                    if exhausted:
                        log.info("the strategy has no more samples to propose")
                        break
        finally:
            if self._owns_executor:
                self.executor.shutdown()
        self.finalize()
        return self.best

    def _ask(self, strategy: Strategy, store: TrialStore, batch: int, next_id: int,
             k: int) -> tuple[list[tuple[int, dict[str, Any]]], int, bool]:
        from nas_core.strategy.middleware import drain_rejected

        asked: list[tuple[int, dict[str, Any]]] = []
        for _ in range(k):
            sample = strategy.ask()
            for rej in drain_rejected(strategy):
                key = sample_key(rej.sample)
                store.add_trial(TrialRecord(
                    id=next_id, batch=batch, sample=dict(rej.sample), status=REJECTED, score=rej.score,
                    costs=dict(self._costs_cache.get(key, {})), feasible=False,
                    error=self._reject_reason.get(key, rej.reason), duration=0.0, worker=worker_id()))
                next_id += 1
            if sample is None:
                return asked, next_id, True
            asked.append((next_id, self.space.validate(sample)))
            next_id += 1
        return asked, next_id, False

    def _job(self, tid: int, sample: dict[str, Any], token: str, payload: bytes) -> TrialJob:
        objective = self.primary.metric if self.primary.metric in self.trainer_metrics else self.trainer_metrics[0]
        return TrialJob(tid, sample, trial_seed(self.seed, sample_key(sample)), token, payload, objective,
                        self.trial_threads, self.keep_weights)

    def _run_batch(self, store: TrialStore, batch: int, asked: list[tuple[int, dict[str, Any]]], token: str,
                   payload: bytes, bar: Any) -> dict[int, TrialRecord]:
        records: dict[int, TrialRecord] = {}
        pending: dict[Future, tuple[int, dict[str, Any], int]] = {}
        for tid, sample in asked:
            old = store.trial(tid)
            if old is not None:  # finished before an interruption: reuse, never rerun
                if old.sample_key != sample_key(sample):
                    raise NasError(
                        f"resume: trial {tid} was {old.sample} but the restored strategy now proposes {sample}; the "
                        "strategy does not continue deterministically from its saved state. Start over with "
                        "`--overwrite` or use another workdir."
                    )
                records[tid] = old
                if bar is not None:
                    bar(old, self.best)
                continue
            try:
                self.costs(sample)
            except Exception as err:  # noqa: BLE001 - a profiler that cannot cost this sample fails the trial
                rec = TrialRecord(id=tid, batch=batch, sample=sample, status=FAILED, feasible=False, duration=0.0,
                                  error=f"a profiler failed on this sample: {type(err).__name__}: {err}",
                                  worker=worker_id())
                store.add_trial(rec)
                records[tid] = rec
                if bar is not None:
                    bar(rec, self.best)
                continue
            fut = self.executor.submit(run_trial, self._job(tid, sample, token, payload))
            pending[fut] = (tid, sample, 1)
            if fut.done():  # in-process executors finish inside submit: record it before the next one
                self._collect(fut, pending, records, store, batch, token, payload, bar)
        while pending:
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for fut in finished:
                self._collect(fut, pending, records, store, batch, token, payload, bar)
        return records

    def _collect(self, fut: Future, pending: dict[Future, tuple[int, dict[str, Any], int]],
                 records: dict[int, TrialRecord], store: TrialStore, batch: int, token: str, payload: bytes,
                 bar: Any) -> None:
        """Store the outcome of a finished future, or resubmit its trial if the worker died."""
        tid, sample, attempts = pending.pop(fut)
        try:
            outcome: TrialOutcome = fut.result()
        except Exception as err:  # noqa: BLE001 - the worker died, not the trial code
            if attempts <= self.retries:
                log.warning("trial %d lost its worker (%s); retrying (attempt %d)", tid, err, attempts + 1)
                new = self.executor.submit(run_trial, self._job(tid, sample, token, payload))
                pending[new] = (tid, sample, attempts + 1)
                if new.done():
                    self._collect(new, pending, records, store, batch, token, payload, bar)
                return
            outcome = TrialOutcome(
                tid, FAILED, {}, f"worker died while running this trial ({type(err).__name__}: {err}); "
                f"{attempts} attempt(s). The process was killed from outside, ran out of system memory or "
                "crashed in native code.", math.nan, "?")
        rec = self._record(batch, sample, outcome, attempts)
        self._save_if_best(store, rec, outcome)
        store.add_trial(rec)
        records[tid] = rec
        if bar is not None:
            bar(rec, self.best)

    def _record(self, batch: int, sample: dict[str, Any], out: TrialOutcome, attempts: int) -> TrialRecord:
        costs = dict(self.costs(sample))
        values = {**out.metrics, **costs}
        score, feasible, error = None, True, out.error
        if out.status == SUCCEEDED:
            v = values.get(self.primary.metric)
            score = self.primary.better(float(v)) if v is not None else None
            for b in self.post_bounds:
                why = b.violation(values.get(b.key, math.nan))
                if why:
                    feasible, error = False, f"infeasible: constraint {b.describe()} not met: {why}"
        return TrialRecord(id=out.trial_id, batch=batch, sample=sample, status=out.status, score=score,
                           metrics=out.metrics, costs=costs, feasible=feasible and out.status == SUCCEEDED,
                           error=error, duration=None if math.isnan(out.duration) else out.duration,
                           worker=out.worker, attempts=attempts)

    def _save_if_best(self, store: TrialStore, rec: TrialRecord, out: TrialOutcome) -> None:
        cand = best_trial([t for t in (self.best, rec) if t is not None])
        if cand is rec and rec is not self.best:
            self.best = rec
            export_architecture(self.space, rec.sample, fmt="name", file=self.workdir / BEST_ARCH)
            if out.weights is not None:
                _atomic_save(out.weights, self.workdir / BEST_WEIGHTS)
                store.set_meta("best_weights_trial", rec.id)

    # -- outputs ----------------------------------------------------------------------------
    def finalize(self) -> None:
        """Write the best architecture JSON, the best model's weights, the Pareto plot and a summary."""
        store = self.store or self._open_store()
        trials = store.trials()
        self.best = best = best_trial(trials)
        if best is not None:
            export_architecture(self.space, best.sample, fmt="name", file=self.workdir / BEST_ARCH)
            if self.keep_weights and store.get_meta("best_weights_trial") != best.id:
                # the weights were lost (interrupted between writes, or trained on another machine): retrain
                out = run_trial(self._job(best.id, best.sample, *self._local_token()))
                if out.weights is not None:
                    _atomic_save(out.weights, self.workdir / BEST_WEIGHTS)
                    store.set_meta("best_weights_trial", best.id)
        from nas_core.experiment.report import pareto_trials, plot_pareto

        front = pareto_trials(trials, self.objectives)
        if self.profilers and any(t.status == SUCCEEDED for t in trials):
            plot_pareto(trials, self.objectives, self.units, self.workdir / PARETO_PNG)
        counts = {s: sum(t.status == s for t in trials) for s in (SUCCEEDED, FAILED, REJECTED)}
        summary = {
            "trials": counts,
            "best": None if best is None else {"id": best.id, "sample": best.sample, "metrics": best.metrics,
                                               "costs": best.costs, "score": best.score},
            "objectives": [[o.metric, o.direction] for o in self.objectives],
            "units": self.units,
            "pareto": [t.id for t in front],
            "files": {"architecture": BEST_ARCH, "weights": BEST_WEIGHTS, "plot": PARETO_PNG},
        }
        (self.workdir / SUMMARY).write_text(json.dumps(summary, indent=2, default=str) + "\n")

    def _local_token(self) -> tuple[str, bytes]:
        token = uuid.uuid4().hex
        prime(token, self.space, self.trainer)
        return token, b""

    @contextlib.contextmanager
    def _progress(self, done: int) -> Iterator[Any]:
        if not self.progress:
            yield None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("[bold]trials"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("{task.description}")) as progress:
            task = progress.add_task(self._best_text(self.best), total=self.max_trials, completed=done)

            def update(rec: TrialRecord, best: TrialRecord | None) -> None:
                progress.update(task, advance=1, description=self._best_text(best))

            yield update

    def _best_text(self, best: TrialRecord | None) -> str:
        if best is None:
            return "best: -"
        parts = [f"{o.metric}={best.values.get(o.metric, float('nan')):.4g}" for o in self.objectives]
        return f"best #{best.id}: " + ", ".join(parts)


def _atomic_save(obj: Any, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)
