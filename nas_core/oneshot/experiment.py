"""One-shot runs in the experiment runner: fit the supernet, then retrain and record the export.

:meth:`nas_core.experiment.Experiment.run` calls :func:`run_one_shot` when its strategy is
a :class:`~nas_core.OneShotStrategy`. The search shows an epoch progress bar (and one for
the checked export's retraining of its best candidates); the exported
architecture is written to ``oneshot_architecture.json``, then trained from scratch by the
trainer exactly like a multi-trial trial and stored as trial 1 (same store, same
``best_architecture.json``, weights, summary and plot). Rerunning a finished one-shot
experiment only rewrites the outputs.
"""
from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any, Iterator

from nas_core.experiment.store import ResumePoint, TrialRecord
from nas_core.experiment.trial import run_trial

if TYPE_CHECKING:
    from nas_core.experiment.runner import Experiment

__all__ = ["run_one_shot", "ONESHOT_ARCH"]

ONESHOT_ARCH = "oneshot_architecture.json"


@contextlib.contextmanager
def _epoch_bar(exp: Any) -> Iterator[None]:
    strategy = exp.strategy
    if not exp.progress or not hasattr(strategy, "on_epoch"):
        yield
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]{task.fields[label]}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("{task.description}")) as progress:
        task = progress.add_task("", total=getattr(strategy, "epochs", None), label=f"{type(strategy).__name__} epochs")

        def update(epoch: int, total: int, info: dict[str, Any]) -> None:
            text = ", ".join(f"{k}={v:.4g}" for k, v in info.items() if k != "epoch" and isinstance(v, (int, float)))
            progress.update(task, completed=epoch, total=total, description=text)

        retraining: list[Any] = []

        def export_update(done: int, total: int) -> None:  # the checked export retrains its best candidates
            if not retraining:
                retraining.append(progress.add_task("", total=total, label="checked export"))
            progress.update(retraining[0], completed=done, total=total,
                            description="retraining the best candidates alone")

        before, before_export = strategy.on_epoch, getattr(strategy, "on_export", None)
        strategy.on_epoch = update
        if hasattr(strategy, "on_export"):
            strategy.on_export = export_update
        try:
            yield
        finally:
            strategy.on_epoch = before
            if hasattr(strategy, "on_export"):
                strategy.on_export = before_export


@contextlib.contextmanager
def _store_epochs(strategy: Any, store: Any) -> Iterator[None]:
    """After each epoch, store the epoch's figures and the strategy's probabilities (meta ``oneshot_epochs``).

    ``oneshot_candidates`` names each label's candidates in the order of the probabilities;
    ``nas dashboard`` plots them against the epoch, live.
    """
    if not hasattr(strategy, "on_epoch"):
        yield
        return
    epochs: list[dict[str, Any]] = []
    before = strategy.on_epoch

    def record(epoch: int, total: int, info: dict[str, Any]) -> None:
        if before is not None:
            before(epoch, total, info)
        entry: dict[str, Any] = {k: v for k, v in info.items() if isinstance(v, (int, float))}
        entry.update(epoch=epoch, epochs=total)
        if hasattr(strategy, "probabilities"):
            if not epochs:
                store.set_meta("oneshot_candidates", strategy.candidates())
            entry["probabilities"] = strategy.probabilities()
        epochs.append(entry)
        store.set_meta("oneshot_epochs", epochs)

    strategy.on_epoch = record
    try:
        yield
    finally:
        strategy.on_epoch = before


def run_one_shot(exp: Experiment) -> TrialRecord | None:
    """Run ``exp`` (an :class:`~nas_core.experiment.Experiment` with a one-shot strategy)."""
    store = exp.open_store()
    if store.resume_point() is None:
        t0 = time.monotonic()
        with _epoch_bar(exp), _store_epochs(exp.strategy, store):
            exp.strategy.fit(exp.model, exp.trainer)
        sample = exp.space.validate(exp.strategy.export(file=exp.workdir / ONESHOT_ARCH))
        search_s = time.monotonic() - t0
        recorder = exp.recorder
        outcome = run_trial(recorder.job(1, sample, exp.local_token(), b""))
        admitted = not exp.pre_bounds or recorder.admit(sample)
        rec = recorder.record(1, sample, outcome, 1)
        if not admitted:
            rec.feasible, rec.error = False, recorder.reject_reason(sample)
        exp.outputs.consider(store, rec, outcome.weights)
        rec.told = 1
        history = list(getattr(exp.strategy, "history", []))
        store.set_meta("oneshot", {"strategy": type(exp.strategy).__name__, "search_seconds": search_s,
                                   "history": history})
        store.record([rec], ResumePoint(next_id=2, told=1, batch=1, elapsed=time.monotonic() - t0,
                                        state={"oneshot": True}))
    exp.finalize()
    return exp.best
