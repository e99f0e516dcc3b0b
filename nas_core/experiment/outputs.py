"""The outputs of a search in its folder: best architecture, best weights, Pareto plot, summary, progress.

:class:`Outputs` follows the best trial as trials are recorded (one comparison per trial,
never a scan of the store) and writes the final files once the search stops.
"""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

import torch

from nas_core.interfaces import FAILED, REJECTED, SUCCEEDED
from nas_core.space import export_architecture
from nas_core.experiment.spec import Objective
from nas_core.experiment.query import best_trial
from nas_core.experiment.store import TrialRecord, TrialStore

if TYPE_CHECKING:
    from nas_core.space.search_space import SearchSpace

__all__ = ["Outputs", "BEST_ARCH", "BEST_WEIGHTS", "PARETO_PNG", "SUMMARY", "OUTPUT_FILES"]

BEST_ARCH, BEST_WEIGHTS, PARETO_PNG, SUMMARY = "best_architecture.json", "best_model.pt", "pareto.png", "summary.json"
OUTPUT_FILES = (BEST_ARCH, BEST_WEIGHTS, PARETO_PNG, SUMMARY)


class Outputs:
    """The files of one experiment folder, and the best trial seen so far."""

    def __init__(self, workdir: Path, space: SearchSpace, objectives: Sequence[Objective], units: dict[str, str],
                 has_costs: bool, keep_weights: bool) -> None:
        self.workdir, self.space, self.objectives, self.units = workdir, space, list(objectives), units
        self.has_costs, self.keep_weights = has_costs, keep_weights
        self.best: TrialRecord | None = None

    def clear(self) -> None:
        """Delete the store and every output file (``overwrite=True``)."""
        for name in (TrialStore.FILENAME, TrialStore.FILENAME + "-wal", TrialStore.FILENAME + "-shm", *OUTPUT_FILES):
            with contextlib.suppress(FileNotFoundError):
                (self.workdir / name).unlink()

    def consider(self, store: TrialStore, rec: TrialRecord, weights: dict[str, torch.Tensor] | None) -> None:
        """Write the architecture (and weights) of ``rec`` if it beats the best so far."""
        cand = best_trial([t for t in (self.best, rec) if t is not None])
        if cand is rec and rec is not self.best:
            self.best = rec
            export_architecture(self.space, rec.sample, fmt="name", file=self.workdir / BEST_ARCH)
            if weights is not None:
                atomic_save(weights, self.workdir / BEST_WEIGHTS)
                store.set_meta("best_weights_trial", rec.id)

    def finalize(self, store: TrialStore, retrain: Callable[[TrialRecord], dict[str, torch.Tensor] | None]) -> None:
        """Write the best architecture JSON, the best model's weights, the Pareto plot and a summary.

        ``retrain(best)`` gives the best trial's weights again when they were lost (an
        interruption between writes, or a trial trained on another machine).
        """
        trials = store.trials()
        self.best = best = best_trial(trials)
        if best is not None:
            export_architecture(self.space, best.sample, fmt="name", file=self.workdir / BEST_ARCH)
            if self.keep_weights and store.get_meta("best_weights_trial") != best.id:
                weights = retrain(best)
                if weights is not None:
                    atomic_save(weights, self.workdir / BEST_WEIGHTS)
                    store.set_meta("best_weights_trial", best.id)
        from nas_core.experiment.report import pareto_trials, plot_pareto

        front = pareto_trials(trials, self.objectives)
        if self.has_costs and any(t.status == SUCCEEDED for t in trials):
            plot_pareto(trials, self.objectives, self.units, self.workdir / PARETO_PNG)
        counts = {s: sum(t.status == s for t in trials) for s in (SUCCEEDED, FAILED, REJECTED)}
        for t in trials:  # any other status (timeout, pruned, ...): counted too
            if t.status not in (SUCCEEDED, FAILED, REJECTED):
                counts[t.status] = counts.get(t.status, 0) + 1
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

    @contextlib.contextmanager
    def progress(self, enabled: bool, total: int | None, done: int) -> Iterator[Callable[[TrialRecord], None] | None]:
        """A rich progress bar; yields ``update(record)`` (or None when ``enabled`` is false)."""
        if not enabled:
            yield None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("[bold]trials"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("{task.description}")) as progress:
            task = progress.add_task(self.best_text(), total=total, completed=done)

            def update(rec: TrialRecord) -> None:
                progress.update(task, advance=1, description=self.best_text())

            yield update

    def best_text(self) -> str:
        best = self.best
        if best is None:
            return "best: -"
        parts = [f"{o.metric}={best.values.get(o.metric, float('nan')):.4g}" for o in self.objectives]
        return f"best #{best.id}: " + ", ".join(parts)


def atomic_save(obj: object, path: Path) -> None:
    """``torch.save`` to a temporary file, then rename (a reader never sees half a file)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)
