"""Reports on a finished (or running) experiment: tables, the best trial, the Pareto set and plot.

The numbers come from :class:`~nas_core.experiment.query.TrialQuery` (SQL on the store,
opened read-only); this module adds the Pareto plot and what ``nas results`` prints.
"""
from __future__ import annotations

import json
import math
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping, Sequence

from nas_core.experiment.query import TrialQuery
from nas_core.experiment.spec import Objective
from nas_core.experiment.store import TrialRecord, TrialStore
from nas_core.statuses import SUCCEEDED

__all__ = ["pareto_trials", "plot_pareto", "axis_label", "load_report", "Report"]

_DISPLAY = {"flops": "FLOPs", "macs": "MACs", "params": "Parameters", "latency": "Latency", "accuracy": "Accuracy",
            "loss": "Loss"}


def axis_label(metric: str, unit: str | None) -> str:
    """``"FLOPs (MACs)"``: the metric's display name and its unit."""
    name = _DISPLAY.get(metric, metric.replace("_", " "))
    return f"{name} ({unit})" if unit else name


def pareto_trials(trials: Sequence[TrialRecord], objectives: Sequence[Objective]) -> list[TrialRecord]:
    """The succeeded, feasible trials that no other such trial dominates on ``objectives``."""
    from nas_core.pareto import pareto_front

    ok = [t for t in trials if t.status == SUCCEEDED and t.feasible]
    if not ok:
        return []
    idx = pareto_front([t.values for t in ok], {o.metric: o.direction for o in objectives})
    return [ok[i] for i in idx]


def plot_pareto(trials: Sequence[TrialRecord], objectives: Sequence[Objective], units: Mapping[str, str],
                path: str | Path, costs: Sequence[str] | None = None) -> Any:
    """Plot the primary objective against each cost (one panel per cost) and save a PNG.

    Every succeeded trial is a grey dot (infeasible ones hollow); the trials on the
    two-objective Pareto front of each panel are red, connected in cost order. The axis
    labels carry the units; the PNG's ``nas-core`` text metadata holds the labels and the
    Pareto trial ids of each panel as JSON. Returns the matplotlib figure.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    primary = objectives[0]
    if costs is None:
        costs = [o.metric for o in objectives[1:]] or [m for m in units if m != primary.metric]
    ok = [t for t in trials if t.status == SUCCEEDED and primary.metric in t.values]
    fig = Figure(figsize=(5.2 * max(1, len(costs)), 4.2), dpi=110)
    meta: dict[str, Any] = {"panels": []}
    for i, cost in enumerate(costs):
        ax = fig.add_subplot(1, max(1, len(costs)), i + 1)
        direction = next((o.direction for o in objectives if o.metric == cost), "min")
        pts = [t for t in ok if cost in t.values]
        feas = [t for t in pts if t.feasible]
        infeas = [t for t in pts if not t.feasible]
        ax.scatter([t.values[cost] for t in feas], [t.values[primary.metric] for t in feas], s=22, c="0.6",
                   label="trials", zorder=2)
        if infeas:
            ax.scatter([t.values[cost] for t in infeas], [t.values[primary.metric] for t in infeas], s=22,
                       facecolors="none", edgecolors="0.6", label="infeasible", zorder=2)
        front = pareto_trials(feas, [primary, Objective(cost, direction)])
        front.sort(key=lambda t: t.values[cost])
        xs, ys = [t.values[cost] for t in front], [t.values[primary.metric] for t in front]
        ax.plot(xs, ys, "-", color="tab:red", lw=1.2, zorder=3, drawstyle="steps-post" if len(xs) > 1 else "default")
        ax.scatter(xs, ys, s=46, c="tab:red", edgecolors="k", zorder=4, label="Pareto set", gid="pareto")
        for t in _labelled(front, cost, primary.metric):
            ax.annotate(f"#{t.id}", (t.values[cost], t.values[primary.metric]), textcoords="offset points",
                        xytext=(4, 4), fontsize=7)
        ax.set_xlabel(axis_label(cost, units.get(cost)))
        ax.set_ylabel(axis_label(primary.metric, units.get(primary.metric)))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="best" if len(pts) <= _BEST_LEGEND_POINTS else "lower right")
        ax.set_title(f"{primary.metric} ({primary.direction}) vs {cost} ({direction})", fontsize=9)
        meta["panels"].append({"x": ax.get_xlabel(), "y": ax.get_ylabel(), "pareto": [t.id for t in front],
                               "points": len(pts)})
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", metadata={"nas-core": json.dumps(meta), "Software": "nas-core"})
    return fig


#: trial numbers written next to the Pareto points of a panel, at most (one per distinct point)
MAX_LABELS = 30
_BEST_LEGEND_POINTS = 2000  # matplotlib's loc="best" looks at every point: slow on large searches


def _labelled(front: Sequence[TrialRecord], x: str, y: str) -> list[TrialRecord]:
    """The Pareto trials to label: the first trial of each distinct point, at most MAX_LABELS spread along the front."""
    seen: dict[tuple[Any, Any], TrialRecord] = {}
    for t in front:
        key = (t.values[x], t.values[y])
        if key not in seen or t.id < seen[key].id:
            seen[key] = t
    points = list(seen.values())
    if len(points) <= MAX_LABELS:
        return points
    step = (len(points) - 1) / (MAX_LABELS - 1)
    return [points[round(i * step)] for i in range(MAX_LABELS)]


class Report:
    """What ``nas results`` shows, read from an experiment folder's store (opened read-only).

    ``query`` answers the table, best and Pareto questions in SQL; ``trials`` (every trial
    as a record) is read only when asked for.
    """

    def __init__(self, workdir: str | Path) -> None:
        from nas_core.errors import ConfigError

        self.workdir = Path(workdir)
        db = self.workdir / TrialStore.FILENAME
        if not db.exists():
            raise ConfigError(
                f"{self.workdir} has no {TrialStore.FILENAME}; give the experiment folder that `nas search` "
                "wrote (its workdir)."
            )
        self.query = TrialQuery(db)
        self.store = self.query.store
        self.objectives = self.query.objectives
        self.units: dict[str, str] = self.query.units
        self.costs: list[str] = self.query.cost_names

    @cached_property
    def trials(self) -> list[TrialRecord]:
        """Every trial, in trial order (reads the whole table: prefer ``query`` on large stores)."""
        return self.store.trials()

    @cached_property
    def best(self) -> TrialRecord | None:
        return self.query.best()

    @cached_property
    def pareto_ids(self) -> list[int]:
        return self.query.pareto_ids() if self.objectives else []

    @cached_property
    def pareto(self) -> list[TrialRecord]:
        return self.query.trials(self.pareto_ids)

    def plot(self, path: str | Path | None = None) -> Path:
        from nas_core.errors import ConfigError

        succeeded = self.store.trials(SUCCEEDED)
        if not succeeded:
            raise ConfigError(f"{self.workdir} has no succeeded trial yet; there is nothing to plot.")
        costs = [o.metric for o in self.objectives[1:]] or self.costs
        if not costs:
            raise ConfigError(
                "the experiment has no cost to plot against: add a profiler (e.g. flops) and a cost objective."
            )
        out = Path(path) if path else self.workdir / "pareto.png"
        plot_pareto(succeeded, self.objectives, self.units, out, costs)
        return out

    def as_dict(self, trials: Sequence[TrialRecord] | None = None) -> dict[str, Any]:
        """Everything as JSON-ready data; ``trials`` (default: every trial) are the rows listed."""
        best = self.best
        return {
            "workdir": str(self.workdir),
            "objectives": [[o.metric, o.direction] for o in self.objectives],
            "units": self.units,
            "counts": self.query.counts(),
            "trials": [_row(t) for t in (self.trials if trials is None else trials)],
            "best": None if best is None else _row(best),
            "pareto": self.pareto_ids,
        }


def _row(t: TrialRecord) -> dict[str, Any]:
    return {"id": t.id, "status": t.status, "sample": t.sample, "metrics": t.metrics, "costs": t.costs,
            "score": t.score, "feasible": t.feasible, "error": t.error, "duration": t.duration, "worker": t.worker,
            "attempts": t.attempts}


def load_report(workdir: str | Path) -> Report:
    return Report(workdir)


def fmt_value(v: object) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return f"{v:.4g}"
    return str(v)
