"""The multi-trial loop: ask, start, record, tell; asynchronous or in batches; resumable at any moment.

**Asynchronous** (``schedule="async"``, the default): as many trials run as the executor has
workers; when one finishes it is stored and told at once and the next sample is asked and
started. **Synchronous** (``"sync"``): a batch of ``batch_size`` samples is asked, run, and
told in trial order, so every executor records the same trials.

**Recording.** A sample is written when it is asked (status ``running``, with the strategy's
state after the ask) and again when it is told (its result, its place in the told order,
and the state after the tell): each a single transaction replacing the one state row. After
a kill, the rerun loads that state, gives the strategy every told trial in told order
(:meth:`~nas_core.interfaces.Strategy.restore_history`), runs the trials that were running
again with their samples, and goes on: no finished trial is lost or repeated.

The loop's own work per trial does not grow with the number of trials: nothing is read
back from the store while the search runs.
"""
from __future__ import annotations

import logging
import math
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from nas_core.errors import ConfigError
from nas_core.interfaces import FAILED, TIMEOUT, Strategy
from nas_core.experiment.query import best_trial
from nas_core.experiment.recording import result_of
from nas_core.experiment.store import RUNNING, ResumePoint, TrialRecord, TrialStore
from nas_core.experiment.trial import TrialOutcome, run_trial
from nas_core.experiment.trial_log import log_trial

if TYPE_CHECKING:
    from nas_core.experiment.runner import Experiment

__all__ = ["TrialLoop"]

log = logging.getLogger("nas_core.experiment")

#: consecutive proposals of already-asked networks after which a strategy is taken as exhausted
MAX_EQUIVALENT_ASKS = 1000


@dataclass
class _Running:
    """A trial handed to the executor."""

    rec: TrialRecord
    started: float = 0.0


class TrialLoop:
    """Runs one experiment's trials (see the module docstring); built and run by :meth:`Experiment.run`."""

    def __init__(self, exp: Experiment, store: TrialStore, strategy: Strategy) -> None:
        self.exp, self.store, self.strategy = exp, store, strategy
        self.executor, self.recorder, self.outputs = exp.executor, exp.recorder, exp.outputs
        self.inflight: dict[Future, _Running] = {}
        self.next_id, self.told, self.batch, self.elapsed0 = 1, 0, 0, 0.0
        self.asked = 0  # trials asked (rejections excepted), for max_trials
        self.exhausted = False  # the strategy has nothing more to propose
        self.out_of_time = False
        self.bar: Callable[[TrialRecord], None] | None = None
        self.t0 = time.monotonic()
        self.ended: list[TrialRecord] = []  # trials that ended without a call to wait for (a profiler failed)
        #: canonical key of every network asked so far -> its score when told (None while it runs)
        self.networks: dict[str, float | None] = {}

    # -- the two schedules ------------------------------------------------------------------
    def run(self) -> None:
        untold = self._resume()
        self.token, self.payload = self.exp.trial_payload()
        start = getattr(self.executor, "start", None)
        if callable(start):  # workers ready before the clock of max_duration and trial_timeout starts
            start()
        self.t0 = time.monotonic()
        self.deadline = None if self.exp.max_duration is None else self.t0 + self.exp.max_duration - self.elapsed0
        done = self.asked - sum(r.status == RUNNING for r in untold)
        with self.outputs.progress(self.exp.progress, self.exp.max_trials, done) as self.bar:
            if self.exp.schedule == "sync":
                self._run_sync(untold)
            else:
                self._run_async(untold)
        if self.out_of_time:
            log.info("time budget of %.0f s spent", self.exp.max_duration)
        elif self.exhausted:
            log.info("the strategy has no more samples to propose")

    def _run_async(self, untold: list[TrialRecord]) -> None:
        for rec in untold:  # finished in a synchronous batch but never told: tell them in trial order
            if rec.status != RUNNING:
                self._tell(rec)
        queue = deque(_Running(rec) for rec in untold if rec.status == RUNNING)
        while True:
            while len(self.inflight) < self.exp.workers and not self.out_of_time:
                if queue:
                    self._start(queue.popleft())
                elif self._may_ask():
                    asked = self._ask()
                    if asked is not None:
                        self._start(_Running(asked))
                else:
                    break
            if not self.inflight and not self.ended:
                return
            for rec in self._wait():
                self._tell(rec)

    def _run_sync(self, untold: list[TrialRecord]) -> None:
        # an interrupted batch is finished first; once one of its trials was told, all of it had been asked
        told_in_batch = self.store.count_told(self.batch) if untold else 0
        while True:
            batch = list(untold)
            untold = []
            if not batch:
                if self._time_left() <= 0:
                    self.out_of_time = True
                    return
                self.batch += 1
            size = self.exp.batch_size
            if self.exp.max_trials is not None:
                size = min(size, self.exp.max_trials - (self.asked - len(batch) - told_in_batch))
            size -= told_in_batch
            told_in_batch = 0
            while len(batch) < size and not self.exhausted:
                rec = self._ask()
                if rec is not None:
                    batch.append(rec)
            if not batch:
                return
            queue = deque(_Running(rec) for rec in batch if rec.status == RUNNING)
            finished = {rec.id: rec for rec in batch if rec.status != RUNNING}
            while queue or self.inflight or self.ended:
                while queue and len(self.inflight) < self.exp.workers and not self.out_of_time:
                    self._start(queue.popleft())
                if not self.inflight and not self.ended:
                    break
                for rec in self._wait():
                    self.store.record([rec])  # kept if the batch is interrupted; told with the batch
                    finished[rec.id] = rec
            if self.out_of_time:
                return
            for tid in sorted(finished):
                self._tell(finished[tid])
            if self.exhausted or (self.exp.max_trials is not None and self.asked >= self.exp.max_trials):
                return

    # -- resume -----------------------------------------------------------------------------
    def _resume(self) -> list[TrialRecord]:
        """Restore the strategy and counters from the store; the trials asked but not told."""
        self.strategy.setup(self.exp.space, self.exp.seed)
        set_objectives = getattr(self.strategy, "set_objectives", None)  # duck-typed strategies may lack it
        if callable(set_objectives):
            set_objectives({o.metric: o.direction for o in self.exp.objectives}, list(self.exp.metrics))
        point = self.store.resume_point()
        if point is None:
            if self.store.count():
                raise ConfigError(
                    f"{self.exp.workdir} holds trials but no resume point (written by an older nas-core, whose "
                    "store kept a state per trial); it cannot be resumed. Use another workdir, or start over with "
                    "overwrite=True (`nas search --overwrite`)."
                )
            return []
        self.next_id, self.told, self.batch, self.elapsed0 = point.next_id, point.told, point.batch, point.elapsed
        self.strategy.load_state_dict(point.state)
        history = self.store.told_history()
        self.strategy.restore_history(history)
        canonical_key = self.exp.space.canonical_key
        self.networks = {canonical_key(sample): result.score for sample, result in history}
        self.asked = self.store.count_asked()
        self.outputs.best = best_trial(self.store)  # one indexed query
        untold = self.store.untold_trials()
        for rec in untold:
            self.networks.setdefault(canonical_key(rec.sample), None)
        log.info("resuming %s at trial %d (%d told, %d to run again)", self.exp.workdir, self.next_id, self.told,
                 sum(r.status == RUNNING for r in untold))
        return untold

    # -- ask, start, wait, tell ---------------------------------------------------------------
    def _time_left(self) -> float:
        return math.inf if self.deadline is None else self.deadline - time.monotonic()

    def _may_ask(self) -> bool:
        if self.exhausted or (self.exp.max_trials is not None and self.asked >= self.exp.max_trials):
            return False
        if self._time_left() <= 0:
            self.out_of_time = True
            return False
        return True

    def _point(self) -> ResumePoint:
        elapsed = self.elapsed0 + time.monotonic() - self.t0
        return ResumePoint(self.next_id, self.told, self.batch, elapsed, self.strategy.state_dict())

    def _ask(self) -> TrialRecord | None:
        """Ask one sample; store it ``running`` with the rejections before it and the state, in one write."""
        from nas_core.strategy.middleware import drain_rejected

        batch = self.batch if self.exp.schedule == "sync" else 0
        records: list[TrialRecord] = []
        rec = None
        for _ in range(MAX_EQUIVALENT_ASKS):
            sample = self.strategy.ask()
            for rej in drain_rejected(self.strategy):
                self.told += 1  # the Filter told the strategy already
                rejected = self.recorder.rejected(self.next_id, batch, rej.sample, rej.score, rej.reason)
                rejected.told = self.told
                records.append(rejected)
                log_trial(rejected, self.exp.units)
                self.next_id += 1
            if sample is None:
                self.exhausted = True
                break
            sample = self.exp.space.validate(sample)
            key = self.exp.space.canonical_key(sample)
            if key in self.networks:  # the same network was trained (or is running): not trained again
                records.append(self._equivalent(batch, sample, self.networks[key]))
                continue
            self.networks[key] = None
            rec = TrialRecord(id=self.next_id, batch=batch, sample=sample, status=RUNNING, attempts=0,
                              finished=time.time())
            self.next_id += 1
            self.asked += 1
            records.append(rec)
            break
        else:
            log.warning("the strategy proposed %d networks in a row that were already trained; it is treated as "
                        "exhausted", MAX_EQUIVALENT_ASKS)
            self.exhausted = True
        if records:
            self.store.record(records, self._point())
        return rec

    def _equivalent(self, batch: int, sample: dict[str, Any], score: float | None) -> TrialRecord:
        """A sample building a network already asked: recorded rejected, told the earlier score (if any)."""
        why = ("equivalent to an earlier trial: the same network (labels it leaves unused differ), so it is not "
               "trained again")
        rec = self.recorder.rejected(self.next_id, batch, sample, score, why)
        self.next_id += 1
        self.strategy.tell(rec.sample, result_of(rec))
        self.told += 1
        rec.told = self.told
        log_trial(rec, self.exp.units)
        return rec

    def _start(self, run: _Running) -> None:
        rec = run.rec
        try:
            self.recorder.costs(rec.sample)
        except Exception as err:  # noqa: BLE001 - a profiler that cannot cost this sample fails the trial
            failed = self.recorder.profiler_failure(rec.id, rec.batch, rec.sample, err)
            self.ended.append(failed)
            return
        rec.attempts += 1
        run.started = time.monotonic()
        fut = self.executor.submit(run_trial, self.recorder.job(rec.id, rec.sample, self.token, self.payload))
        self.inflight[fut] = run

    def _wait(self) -> list[TrialRecord]:
        """Wait for at least one trial to end (finish, time out, or be stopped by the deadline); their records."""
        out, self.ended = self.ended, []
        if out:
            return out
        ends = [self.deadline] if self.deadline is not None else []
        if self.exp.trial_timeout is not None:
            ends.extend(run.started + self.exp.trial_timeout for run in self.inflight.values())
        timeout = max(0.0, min(ends) - time.monotonic()) if ends else None
        done, _ = wait(list(self.inflight), timeout=timeout, return_when=FIRST_COMPLETED)
        for fut in done:
            rec = self._outcome(fut, self.inflight.pop(fut))
            if rec is not None:
                out.append(rec)
        now = time.monotonic()
        if self.exp.trial_timeout is not None:
            for fut, run in list(self.inflight.items()):
                if now >= run.started + self.exp.trial_timeout and self.executor.stop(fut):
                    del self.inflight[fut]
                    out.append(self._timed_out(run))
        if self.deadline is not None and now >= self.deadline and self.inflight:
            self._stop_all()
        out.extend(self.ended)
        self.ended = []
        return out

    def _stop_all(self) -> None:
        """The time budget is spent: stop the running trials, which stay ``running`` for the next run."""
        self.out_of_time = True
        for fut, run in list(self.inflight.items()):
            if self.executor.stop(fut):
                del self.inflight[fut]
                log.info("trial %d stopped at the time budget; a rerun with a larger budget runs it again",
                         run.rec.id)
        if self.inflight:  # an executor that cannot stop its calls: let them finish and record them
            for fut in list(self.inflight):
                fut.exception()
                rec = self._outcome(fut, self.inflight.pop(fut), retry=False)
                if rec is not None:
                    self.ended.append(rec)

    def _outcome(self, fut: Future, run: _Running, retry: bool = True) -> TrialRecord | None:
        """The record of a finished call; None when the trial was resubmitted after its worker died."""
        rec = run.rec
        try:
            outcome: TrialOutcome = fut.result()
        except Exception as err:  # noqa: BLE001 - the worker died, not the trial code
            if retry and rec.attempts <= self.exp.retries:
                log.warning("trial %d lost its worker (%s); retrying (attempt %d)", rec.id, err, rec.attempts + 1)
                self._start(run)
                return None
            outcome = TrialOutcome(
                rec.id, FAILED, {}, f"worker died while running this trial ({type(err).__name__}: {err}); "
                f"{rec.attempts} attempt(s). The process was killed from outside, ran out of system memory or "
                "crashed in native code.", math.nan, "?")
        done = self.recorder.record(rec.batch, rec.sample, outcome, rec.attempts)
        self.outputs.consider(self.store, done, outcome.weights)
        return done

    def _timed_out(self, run: _Running) -> TrialRecord:
        limit = self.exp.trial_timeout
        outcome = TrialOutcome(run.rec.id, TIMEOUT, {}, f"stopped after trial_timeout = {limit:g} s; its worker was "
                               "replaced. Raise trial_timeout if such trials are worth their time.", limit, "?")
        return self.recorder.record(run.rec.batch, run.rec.sample, outcome, run.rec.attempts)

    def _tell(self, rec: TrialRecord) -> None:
        """Tell the strategy, then store the record, its told order and the new state in one write."""
        self.strategy.tell(rec.sample, result_of(rec))
        self.told += 1
        rec.told = self.told
        self.networks[self.exp.space.canonical_key(rec.sample)] = rec.score
        self.store.record([rec], self._point())
        log_trial(rec, self.exp.units)
        if self.bar is not None:
            self.bar(rec)
