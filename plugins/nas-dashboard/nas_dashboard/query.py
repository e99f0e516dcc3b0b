"""What the dashboard reads beyond :class:`nas_core.experiment.query.TrialQuery`: change token, meta, curves.

The trial table, the best trial, the Pareto set and the best-so-far series come from the
core's ``TrialQuery`` (the same answers as ``nas results``); this module adds the few
reads only a live view needs, on the store's read-only connection.
"""
from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import Any, Mapping, Sequence

from nas_core.errors import ConfigError
from nas_core.experiment.store import RUNNING
from nas_core.statuses import SUCCEEDED

__all__ = ["change_token", "time_used", "read_meta", "learning_curve", "parse_search", "succeeded_values", "clean"]


def change_token(con: sqlite3.Connection) -> str:
    """Changes whenever a trial is asked or finishes, or the search writes progress (indexed aggregates only).

    A trial is stored ``running`` when asked and rewritten when it finishes, so the count of
    trials, the largest id and the count of running ones tell both; the resume point's
    update time and the byte size of the meta values (one-shot epochs) tell progress.
    """
    n, last = con.execute("SELECT count(*), max(id) FROM trials").fetchone()
    running = con.execute("SELECT count(*) FROM trials WHERE status = ?", (RUNNING,)).fetchone()[0]
    meta = con.execute("SELECT total(length(CAST(value AS BLOB))) FROM meta").fetchone()[0]
    updated = _search_state(con).get("updated")
    return f"{n}:{last}:{running}:{updated}:{meta:.0f}"


def _search_state(con: sqlite3.Connection) -> dict[str, Any]:
    """The resume point's ``elapsed`` and ``updated`` (empty before the search wrote one)."""
    try:
        row = con.execute("SELECT elapsed, updated FROM search_state WHERE id = 1").fetchone()
    except sqlite3.OperationalError:  # a store no search has written to yet has no such table
        return {}
    return {"elapsed": row[0], "updated": row[1]} if row else {}


def time_used(con: sqlite3.Connection) -> float | None:
    """Seconds of search so far (what ``max_duration`` counts), as of the last ask or tell."""
    elapsed = _search_state(con).get("elapsed")
    return None if elapsed is None else round(float(elapsed), 3)


def read_meta(con: sqlite3.Connection) -> dict[str, Any]:
    """Every meta key with its JSON value."""
    return {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM meta")}


def _num(v: Any) -> Any:
    return float(v) if isinstance(v, str) and v in ("nan", "inf", "-inf") else v


def learning_curve(workdir: Path, trial_id: int) -> list[dict[str, Any]]:
    """The trial's intermediate reports in step order, ``{step, value, metrics}``, read with the core's
    :class:`~nas_core.pruning.CurveStore` (read-only); an experiment without reports gives ``[]``.

    ``value`` is the objective as reported, ``metrics`` every metric of the report; NaN and
    infinities are None.
    """
    from nas_core.pruning.store import CurveStore

    with CurveStore(workdir, read_only=True) as curves:
        points = curves.points(trial_id)
    return [{"step": p.step, "value": _finite(p.value), "metrics": clean(p.metrics)} for p in points]


def succeeded_values(con: sqlite3.Connection, names: Sequence[str]) -> list[dict[str, Any]]:
    """``{id, feasible, sample, values}`` of every succeeded trial, in trial order, with only ``names`` read.

    What the scatter and label plots draw: reading just these values (a cost wins over a
    metric of the same name, as in ``TrialRecord.values``) keeps a redraw at 10,000
    trials cheap. Missing or non-finite values are None.
    """
    exprs = ", ".join("COALESCE(json_extract(costs, ?), json_extract(metrics, ?))" for _ in names)
    params = [p for n in names for p in (_json_path(n), _json_path(n))]
    rows = con.execute(f"SELECT id, feasible, sample{', ' if names else ''}{exprs} FROM trials "
                       f"WHERE status = '{SUCCEEDED}' ORDER BY id", params)
    return [{"id": r[0], "feasible": bool(r[1]), "sample": json.loads(r[2]),
             "values": {n: _finite(_num(v)) for n, v in zip(names, r[3:])}} for r in rows]


def _json_path(name: str) -> str:
    if '"' in name:
        raise ConfigError(f"metric and label names with a double quote cannot be queried: {name!r}.")
    return f'$."{name}"'


def _finite(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


def parse_search(text: str | None, labels: list[str]) -> tuple[dict[str, Any] | None, str | None]:
    """The table's search box as ``TrialQuery.page`` arguments: ``(label_values, search)``.

    ``label=value`` keeps the trials whose label has exactly that value (``width=64``,
    ``op=conv3x3``, ``skip=[0, 1]``: the value is read as JSON when it parses, else as
    text); any other text keeps the trials with a label value containing it.
    """
    if not text or not text.strip():
        return None, None
    label, eq, value = text.partition("=")
    if not eq:
        return None, text.strip()
    label, value = label.strip(), value.strip()
    if label not in labels:
        raise ConfigError(f"no label {label!r} to search by; labels: {', '.join(labels)}. Search `label=value`, "
                          "or plain text to match any label's value.")
    try:
        parsed: Any = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    return {label: parsed}, None


def clean(values: Mapping[str, Any]) -> dict[str, Any]:
    """JSON has no NaN or infinity: such values become None."""
    return {k: _finite(v) for k, v in values.items()}
