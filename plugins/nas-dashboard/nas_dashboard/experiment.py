"""One experiment folder as the dashboard sees it: JSON-ready views, recomputed when the store changes."""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nas_core.errors import ConfigError
from nas_core.experiment.report import axis_label, pareto_trials
from nas_core.experiment.runner import best_trial
from nas_core.experiment.spec import Objective
from nas_core.experiment.store import TrialRecord
from nas_core.interfaces import REJECTED, SUCCEEDED

from nas_dashboard import query
from nas_dashboard.readonly import ReadOnlyStore

__all__ = ["ExperimentView", "trial_row", "finite"]


def finite(v: Any) -> Any:
    """JSON has no NaN or infinity: such values become None."""
    return None if isinstance(v, float) and not math.isfinite(v) else v


def trial_row(t: TrialRecord) -> dict[str, Any]:
    """A trial as one row of the table (metrics and costs together under ``values``)."""
    return {
        "id": t.id, "status": t.status if t.feasible or t.status != SUCCEEDED else "infeasible",
        "feasible": t.feasible, "score": finite(t.score), "values": {k: finite(v) for k, v in t.values.items()},
        "sample": t.sample, "duration": t.duration, "finished": t.finished, "worker": t.worker,
        "attempts": t.attempts, "error": (t.error or "").splitlines()[0][:200] if t.error else None,
    }


@dataclass
class _Snapshot:
    token: str
    meta: dict[str, Any]
    records: list[TrialRecord]
    cache: dict[Any, Any] = field(default_factory=dict)


class ExperimentView:
    """Read-only views of one experiment folder; every answer is plain JSON data."""

    def __init__(self, workdir: str | Path, name: str | None = None) -> None:
        self.store = ReadOnlyStore(Path(workdir))
        self.workdir = self.store.workdir
        self.name = name or self.workdir.name
        self._snap: _Snapshot | None = None
        self._lock = threading.Lock()

    # -- the cached state ---------------------------------------------------------------------
    def snapshot(self) -> _Snapshot:
        """Meta and records, reread only when a trial lands or progress is written."""
        con = self.store.con()
        token = query.change_token(con)
        with self._lock:
            if self._snap is None or self._snap.token != token:
                self._snap = _Snapshot(token, query.read_meta(con), query.read_records(con))
            return self._snap

    def _objectives(self, meta: dict[str, Any]) -> list[Objective]:
        return [Objective(m, d) for m, d in meta.get("objectives", [])]

    def columns(self, snap: _Snapshot) -> dict[str, list[str]]:
        """The table's value columns: objectives first, then other metrics, costs and labels."""
        if "columns" not in snap.cache:
            objectives = [o.metric for o in self._objectives(snap.meta)]
            costs = list(snap.meta.get("costs", []))
            metric_names = sorted({k for t in snap.records for k in t.metrics} - set(costs))
            labels = list(snap.meta.get("labels") or (snap.records[0].sample if snap.records else []))
            values = objectives + [m for m in metric_names + costs if m not in objectives]
            snap.cache["columns"] = {"values": values, "metrics": metric_names, "costs": costs, "labels": labels}
        return snap.cache["columns"]

    def direction(self, snap: _Snapshot, metric: str) -> str:
        """The metric's direction: from the objectives, else ``min`` for costs and ``max`` otherwise."""
        for o in self._objectives(snap.meta):
            if o.metric == metric:
                return o.direction
        return "min" if metric in snap.meta.get("costs", []) else "max"

    # -- views ------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Progress (trials done of the budget, time used, best so far) and what the views need."""
        snap = self.snapshot()
        if "summary" not in snap.cache:
            snap.cache["summary"] = self._summary(snap)
        return snap.cache["summary"]

    def _summary(self, snap: _Snapshot) -> dict[str, Any]:
        meta, records = snap.meta, snap.records
        counts: dict[str, int] = {}
        for t in records:
            s = trial_row(t)["status"]
            counts[s] = counts.get(s, 0) + 1
        budget = meta.get("budget") or {}
        best = best_trial(records)
        objectives = self._objectives(meta)
        oneshot = meta.get("oneshot_epochs") or meta.get("oneshot")
        return {
            "name": self.name, "workdir": str(self.workdir), "token": snap.token,
            "strategy": (meta.get("fingerprint") or {}).get("strategy"),
            "objectives": [[o.metric, o.direction] for o in objectives],
            "units": meta.get("units", {}), "columns": self.columns(snap),
            "axis_labels": {m: axis_label(m, meta.get("units", {}).get(m)) for m in self.columns(snap)["values"]},
            "counts": counts, "trials": len(records),
            "done": sum(t.status != REJECTED for t in records),
            "max_trials": budget.get("max_trials"), "max_duration": budget.get("max_duration"),
            "time_used": self._time_used(meta, records),
            "best": None if best is None else trial_row(best),
            "oneshot": bool(oneshot),
        }

    @staticmethod
    def _time_used(meta: dict[str, Any], records: list[TrialRecord]) -> float | None:
        """Seconds of search: the stored elapsed time, or up to the newest trial of the run in progress."""
        elapsed = meta.get("elapsed")
        run = meta.get("run") or {}
        if run.get("started") is not None and records:
            newest = max(t.finished for t in records)
            live = float(run.get("elapsed_before", 0.0)) + max(0.0, newest - float(run["started"]))
            elapsed = max(float(elapsed or 0.0), live)
        return None if elapsed is None else round(float(elapsed), 3)

    def page(self, **params: Any) -> dict[str, Any]:
        cols = self.columns(self.snapshot())
        page = query.trial_page(self.store.con(), metrics=cols["metrics"], costs=cols["costs"], labels=cols["labels"],
                                **params)
        return {"total": page.total, "rows": [trial_row(t) for t in page.rows]}

    def trial(self, trial_id: int) -> dict[str, Any]:
        """Everything about one trial: sample, metrics, costs with units, status, error, learning curve."""
        rec = query.read_record(self.store.con(), trial_id)
        if rec is None:
            raise LookupError(f"experiment {self.name!r} has no trial #{trial_id}.")
        snap = self.snapshot()
        units = snap.meta.get("units", {})
        best = best_trial(snap.records)
        pareto = {t.id for t in pareto_trials(snap.records, self._objectives(snap.meta))} if snap.meta.get(
            "objectives") else set()
        return {
            **trial_row(rec), "error": rec.error,
            "metrics": [{"name": k, "value": finite(v), "unit": units.get(k)} for k, v in rec.metrics.items()],
            "costs": [{"name": k, "value": finite(v), "unit": units.get(k)} for k, v in rec.costs.items()],
            "is_best": best is not None and best.id == rec.id, "on_pareto": rec.id in pareto,
            "learning_curve": query.learning_curve(self.store, trial_id),
        }

    def architecture(self, trial_id: int) -> dict[str, Any]:
        """The trial's sample as architecture JSON (names and indices: what ``apply_fixed_architecture`` reads)."""
        rec = query.read_record(self.store.con(), trial_id)
        if rec is None:
            raise LookupError(f"experiment {self.name!r} has no trial #{trial_id}.")
        return dict(rec.sample)

    def pareto(self, x: str, y: str, dx: str | None = None, dy: str | None = None) -> dict[str, Any]:
        """Every succeeded trial with both values, and the front of ``x`` against ``y`` (the core's Pareto set)."""
        snap = self.snapshot()
        values = self.columns(snap)["values"]
        for axis in (x, y):
            if axis not in values:
                raise ConfigError(f"no objective or cost named {axis!r} in {self.name!r}; choose from "
                                  f"{', '.join(values)}.")
        dx, dy = dx or self.direction(snap, x), dy or self.direction(snap, y)
        for d in (dx, dy):
            if d not in ("min", "max"):
                raise ConfigError(f"direction must be 'min' or 'max', got {d!r}.")
        key = ("pareto", x, y, dx, dy)
        if key not in snap.cache:
            pts = [t for t in snap.records if t.status == SUCCEEDED and finite(t.values.get(x)) is not None
                   and finite(t.values.get(y)) is not None]
            front = pareto_trials(pts, [Objective(x, dx), Objective(y, dy)]) if x != y else []
            front.sort(key=lambda t: t.values[x])
            snap.cache[key] = {
                "x": x, "y": y, "dx": dx, "dy": dy,
                "x_label": axis_label(x, snap.meta.get("units", {}).get(x)),
                "y_label": axis_label(y, snap.meta.get("units", {}).get(y)),
                "points": [{"id": t.id, "x": t.values[x], "y": t.values[y], "feasible": t.feasible, "sample": t.sample,
                            "values": {k: finite(v) for k, v in t.values.items()}} for t in pts],
                "front": [t.id for t in front],
            }
        return snap.cache[key]

    def best_so_far(self) -> dict[str, Any]:
        """The best trial's primary objective after each trial, against trial number and seconds since start."""
        snap = self.snapshot()
        if "best_so_far" not in snap.cache:
            objectives = self._objectives(snap.meta)
            metric = objectives[0].metric if objectives else "score"
            start = min((t.finished - (t.duration or 0.0) for t in snap.records), default=0.0)

            def series(records: list[TrialRecord], x: Any) -> dict[str, list[Any]]:
                out: dict[str, list[Any]] = {"x": [], "best": [], "best_id": []}
                best: TrialRecord | None = None
                for t in records:
                    best = best_trial([t] if best is None else [best, t]) or best
                    if best is not None:
                        out["x"].append(x(t))
                        out["best"].append(finite(best.values.get(metric, best.score)))
                        out["best_id"].append(best.id)
                return out

            snap.cache["best_so_far"] = {
                "metric": metric, "label": axis_label(metric, snap.meta.get("units", {}).get(metric)),
                "by_trial": series(snap.records, lambda t: t.id),
                "by_time": series(sorted(snap.records, key=lambda t: (t.finished, t.id)),
                                  lambda t: round(t.finished - start, 3)),
            }
        return snap.cache["best_so_far"]

    def label_effects(self) -> dict[str, Any]:
        """For each label, the primary objective of the succeeded trials grouped by the label's value."""
        snap = self.snapshot()
        if "labels" not in snap.cache:
            objectives = self._objectives(snap.meta)
            metric = objectives[0].metric if objectives else None
            out: dict[str, list[dict[str, Any]]] = {}
            for label in self.columns(snap)["labels"]:
                groups: dict[str, dict[str, Any]] = {}
                for t in snap.records:
                    v = finite(t.values.get(metric)) if metric else finite(t.score)
                    if t.status != SUCCEEDED or v is None or label not in t.sample:
                        continue
                    raw = t.sample[label]
                    g = groups.setdefault(_value_text(raw), {"value": _value_text(raw), "y": [], "ids": [], "raw": raw})
                    g["y"].append(v)
                    g["ids"].append(t.id)
                out[label] = [{k: v for k, v in g.items() if k != "raw"} for g in sorted(groups.values(), key=_order)]
            snap.cache["labels"] = {"metric": metric, "label": axis_label(metric, snap.meta.get("units", {}).get(
                metric)) if metric else "score", "labels": out}
        return snap.cache["labels"]

    def oneshot(self) -> dict[str, Any]:
        """Per-epoch probability of each candidate of each label, as the one-shot loop stored it."""
        meta = self.snapshot().meta
        epochs = meta.get("oneshot_epochs") or []
        candidates = meta.get("oneshot_candidates") or {}
        series: dict[str, list[dict[str, Any]]] = {}
        for label, names in candidates.items():
            series[label] = [{"candidate": name, "epoch": [e["epoch"] for e in epochs if label in e["probabilities"]],
                              "p": [e["probabilities"][label][i] for e in epochs if label in e["probabilities"]]}
                             for i, name in enumerate(names)]
        info = [{k: v for k, v in e.items() if k != "probabilities"} for e in epochs]
        return {"strategy": (meta.get("oneshot") or {}).get("strategy") or (meta.get("fingerprint") or {}).get(
            "strategy"), "epochs": info, "labels": series}


def _order(group: dict[str, Any]) -> tuple[int, Any]:
    """Numbers in numeric order first, then everything else by its text."""
    raw = group["raw"]
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return (0, raw)
    return (1, group["value"])


def _value_text(v: Any) -> str:
    return v if isinstance(v, str) else str(v)
