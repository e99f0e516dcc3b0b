"""One experiment folder as the dashboard sees it: JSON-ready views, recomputed when the store changes.

Table pages, the best trial, the Pareto set and the best-so-far series are the core's
:class:`~nas_core.experiment.query.TrialQuery` answers (what ``nas results`` shows); the
store is opened read-only.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nas_core.errors import ConfigError
from nas_core.experiment.query import TrialQuery
from nas_core.experiment.report import axis_label
from nas_core.experiment.spec import Objective
from nas_core.experiment.store import RUNNING, TrialRecord, TrialStore
from nas_core.statuses import REJECTED, STATUSES

from nas_dashboard import query
from nas_dashboard.query import clean

__all__ = ["ExperimentView", "trial_row", "MAX_PAGE"]

MAX_PAGE = 1000


def _finite(v: Any) -> Any:
    return clean({"v": v})["v"]


def trial_row(t: TrialRecord) -> dict[str, Any]:
    """A trial as one row of the table (metrics and costs together under ``values``)."""
    return {
        "id": t.id, "status": t.status, "feasible": t.feasible, "score": _finite(t.score),
        "values": clean(t.values), "sample": t.sample, "duration": t.duration, "finished": t.finished,
        "worker": t.worker, "attempts": t.attempts,
        "error": (t.error or "").splitlines()[0][:200] if t.error else None,
    }


@dataclass
class _Snapshot:
    """What is cached while the store's change token stays the same."""

    token: str
    meta: dict[str, Any]
    query: TrialQuery
    cache: dict[Any, Any] = field(default_factory=dict)


class ExperimentView:
    """Read-only views of one experiment folder; every answer is plain JSON data."""

    def __init__(self, workdir: str | Path, name: str | None = None) -> None:
        self.workdir = Path(workdir)
        self.store = TrialStore(self.workdir, read_only=True)
        self.name = name or self.workdir.name
        self._snap: _Snapshot | None = None
        self._lock = threading.Lock()

    # -- the cached state ---------------------------------------------------------------------
    def snapshot(self) -> _Snapshot:
        """Meta and a fresh query, made again only when a trial lands or progress is written."""
        con = self.store.connection()
        token = query.change_token(con)
        with self._lock:
            if self._snap is None or self._snap.token != token:
                self._snap = _Snapshot(token, query.read_meta(con), TrialQuery(self.store))
            return self._snap

    def _cached(self, snap: _Snapshot, key: Any, make: Any) -> Any:
        if key not in snap.cache:
            snap.cache[key] = make()
        return snap.cache[key]

    def _succeeded(self, snap: _Snapshot, names: tuple[str, ...]) -> list[dict[str, Any]]:
        """Every succeeded trial with the values ``names`` (the scatter and label plots), read once per change."""
        return self._cached(snap, ("succeeded", names),
                            lambda: query.succeeded_values(self.store.connection(), names))

    def columns(self, snap: _Snapshot) -> dict[str, list[str]]:
        """The table's value columns (objectives first, then metrics and costs) and the labels."""
        def make() -> dict[str, list[str]]:
            q = snap.query
            costs = q.cost_names
            names = q.metric_names()
            return {"values": names, "metrics": [m for m in names if m not in costs], "costs": costs,
                    "labels": q.labels}
        return self._cached(snap, "columns", make)

    def direction(self, snap: _Snapshot, metric: str) -> str:
        """The metric's direction: from the objectives, else ``min`` for costs and ``max`` otherwise."""
        for o in snap.query.objectives:
            if o.metric == metric:
                return o.direction
        return "min" if metric in snap.query.cost_names else "max"

    # -- views ------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Progress (trials done of the budget, time used, best so far) and what the views need."""
        snap = self.snapshot()
        return self._cached(snap, "summary", lambda: self._summary(snap))

    def _summary(self, snap: _Snapshot) -> dict[str, Any]:
        meta, q = snap.meta, snap.query
        counts = {s: n for s, n in q.counts().items() if n}
        infeasible = q.infeasible()
        if infeasible:
            counts["infeasible"] = infeasible
        budget = meta.get("budget") or {}
        best = q.best()
        units = q.units
        columns = self.columns(snap)
        total = sum(n for s, n in counts.items() if s != "infeasible")
        return {
            "name": self.name, "workdir": str(self.workdir), "token": snap.token,
            "strategy": (meta.get("fingerprint") or {}).get("strategy"),
            "objectives": [[o.metric, o.direction] for o in q.objectives], "units": units, "columns": columns,
            "axis_labels": {m: axis_label(m, units.get(m)) for m in columns["values"]},
            "statuses": [*STATUSES, *[s for s in counts if s not in STATUSES and s != "infeasible"]],
            "counts": counts, "trials": total, "running": counts.get(RUNNING, 0),
            "done": total - counts.get(REJECTED, 0) - counts.get(RUNNING, 0),
            "max_trials": budget.get("max_trials"), "max_duration": budget.get("max_duration"),
            "time_used": query.time_used(self.store.connection()),
            "best": None if best is None else trial_row(best),
            "oneshot": bool(meta.get("oneshot_epochs") or meta.get("oneshot")),
        }

    def page(self, *, sort: str = "id", descending: bool = False, status: str | None = None,
             search: str | None = None, offset: int = 0, limit: int = 50) -> dict[str, Any]:
        """One page of the trial table (``TrialQuery.page``); ``search`` is the table's search box."""
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise ConfigError(f"page limit must be 1..{MAX_PAGE} and offset >= 0, got limit={limit}, offset={offset}.")
        snap = self.snapshot()
        label_values, text = query.parse_search(search, snap.query.labels)
        page = snap.query.page(sort, descending=descending, status=status, label_values=label_values, search=text,
                               offset=offset, limit=limit)
        return {"total": page.total, "rows": [trial_row(t) for t in page.trials]}

    def trial(self, trial_id: int) -> dict[str, Any]:
        """Everything about one trial: sample, metrics, costs with units, status, error, learning curve."""
        snap = self.snapshot()
        rec = self._record(snap, trial_id)
        units = snap.query.units
        best = self.summary()["best"]
        pareto = self._cached(snap, "pareto_ids", lambda: {t.id for t in snap.query.pareto()})
        return {
            **trial_row(rec), "error": rec.error,
            "metrics": [{"name": k, "value": _finite(v), "unit": units.get(k)} for k, v in rec.metrics.items()],
            "costs": [{"name": k, "value": _finite(v), "unit": units.get(k)} for k, v in rec.costs.items()],
            "is_best": best is not None and best["id"] == rec.id, "on_pareto": rec.id in pareto,
            "learning_curve": query.learning_curve(self.workdir, trial_id),
        }

    def _record(self, snap: _Snapshot, trial_id: int) -> TrialRecord:
        found = snap.query.trials([trial_id])
        if not found:
            raise LookupError(f"experiment {self.name!r} has no trial #{trial_id}.")
        return found[0]

    def architecture(self, trial_id: int) -> dict[str, Any]:
        """The trial's sample as architecture JSON (names and indices: what ``apply_fixed_architecture`` reads)."""
        return dict(self._record(self.snapshot(), trial_id).sample)

    def pareto(self, x: str, y: str, dx: str | None = None, dy: str | None = None) -> dict[str, Any]:
        """Every succeeded trial with both values, and the Pareto set of ``x`` against ``y`` (``TrialQuery.pareto``)."""
        snap = self.snapshot()
        values = self.columns(snap)["values"]
        for axis in (x, y):
            if axis not in values:
                raise ConfigError(f"no objective, metric or cost named {axis!r} in {self.name!r}; choose from "
                                  f"{', '.join(values)}.")
        dx, dy = dx or self.direction(snap, x), dy or self.direction(snap, y)
        for d in (dx, dy):
            if d not in ("min", "max"):
                raise ConfigError(f"direction must be 'min' or 'max', got {d!r}.")

        def make() -> dict[str, Any]:
            shown = tuple(dict.fromkeys([y, x, *values]))  # every metric and cost, for the hover
            pts = [p for p in self._succeeded(snap, shown) if p["values"][x] is not None and p["values"][y] is not None]
            front = snap.query.pareto([Objective(x, dx), Objective(y, dy)]) if x != y else []
            front.sort(key=lambda t: (t.values[x], t.id))
            units = snap.query.units
            return {
                "x": x, "y": y, "dx": dx, "dy": dy,
                "x_label": axis_label(x, units.get(x)), "y_label": axis_label(y, units.get(y)),
                "points": [{**p, "x": p["values"][x], "y": p["values"][y]} for p in pts],
                "front": [t.id for t in front],
            }
        return self._cached(snap, ("pareto", x, y, dx, dy), make)

    def best_so_far(self) -> dict[str, Any]:
        """The trials that improved the best (``TrialQuery.best_so_far``), by trial number and by time."""
        snap = self.snapshot()

        def make() -> dict[str, Any]:
            objectives = snap.query.objectives
            metric = objectives[0].metric if objectives else "score"
            last = snap.query.store.connection().execute(
                "SELECT max(id), max(finished), min(finished - coalesce(duration, 0)) FROM trials").fetchone()

            def series(by: str, end: float | None) -> dict[str, list[Any]]:
                points = snap.query.best_so_far(by)  # type: ignore[arg-type]
                out = {"x": [p.x for p in points], "best": [p.value for p in points],
                       "best_id": [p.trial_id for p in points]}
                if points and end is not None and end > points[-1].x:  # the step runs on to the newest trial
                    out["x"].append(end)
                    out["best"].append(points[-1].value)
                    out["best_id"].append(points[-1].trial_id)
                return out

            end_time = None if last[1] is None else round(last[1] - last[2], 3)
            return {"metric": metric, "label": axis_label(metric, snap.query.units.get(metric)),
                    "by_trial": series("trial", last[0]), "by_time": series("time", end_time)}
        return self._cached(snap, "best_so_far", make)

    def label_effects(self) -> dict[str, Any]:
        """For each label, the primary objective of the succeeded trials grouped by the label's value."""
        snap = self.snapshot()

        def make() -> dict[str, Any]:
            objectives = snap.query.objectives
            metric = objectives[0].metric if objectives else None
            out: dict[str, list[dict[str, Any]]] = {}
            points = self._succeeded(snap, (metric,)) if metric else []
            for label in self.columns(snap)["labels"]:
                groups: dict[str, dict[str, Any]] = {}
                for p in points:
                    v = p["values"][metric]
                    if v is None or label not in p["sample"]:
                        continue
                    raw = p["sample"][label]
                    g = groups.setdefault(_value_text(raw), {"value": _value_text(raw), "y": [], "ids": [], "raw": raw})
                    g["y"].append(v)
                    g["ids"].append(p["id"])
                out[label] = [{k: v for k, v in g.items() if k != "raw"} for g in sorted(groups.values(), key=_order)]
            units = snap.query.units
            return {"metric": metric, "label": axis_label(metric, units.get(metric)) if metric else "score",
                    "labels": out}
        return self._cached(snap, "labels", make)

    def oneshot(self) -> dict[str, Any]:
        """Per-epoch probability of each candidate of each label, as the one-shot loop stored it."""
        meta = self.snapshot().meta
        epochs = meta.get("oneshot_epochs") or []
        candidates = meta.get("oneshot_candidates") or {}
        series: dict[str, list[dict[str, Any]]] = {}
        for label, names in candidates.items():
            stored = [e for e in epochs if label in e.get("probabilities", {})]
            series[label] = [{"candidate": name, "epoch": [e["epoch"] for e in stored],
                              "p": [e["probabilities"][label][i] for e in stored]} for i, name in enumerate(names)]
        info = [{k: v for k, v in e.items() if k != "probabilities"} for e in epochs]
        strategy = (meta.get("oneshot") or {}).get("strategy") or (meta.get("fingerprint") or {}).get("strategy")
        return {"strategy": strategy, "epochs": info, "labels": series}


def _order(group: dict[str, Any]) -> tuple[int, Any]:
    """Numbers in numeric order first, then everything else by its text."""
    raw = group["raw"]
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return (0, raw)
    return (1, group["value"])


def _value_text(v: Any) -> str:
    return v if isinstance(v, str) else str(v)
