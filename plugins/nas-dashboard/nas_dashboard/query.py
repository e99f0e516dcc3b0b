"""What the dashboard reads from a store: the trial table page, records, progress figures.

The best trial and the Pareto set come from the core (``best_trial``, ``pareto_trials``),
the same functions ``nas results`` uses; this module only pages, sorts and filters in SQL.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any, Sequence

from nas_core.errors import ConfigError
from nas_core.experiment.store import TrialRecord

__all__ = ["TablePage", "trial_page", "read_meta", "read_records", "read_record", "change_token", "STATUSES",
           "SORT_COLUMNS"]

STATUSES = ("succeeded", "failed", "rejected", "pruned", "timeout", "infeasible")
SORT_COLUMNS = ("id", "status", "score", "duration", "finished", "worker")
_COLS = "id, batch, sample, status, score, metrics, costs, feasible, error, duration, worker, attempts, finished"


@dataclass
class TablePage:
    """One page of the trial table: ``total`` matching trials, ``rows`` of this page."""

    total: int
    rows: list[TrialRecord]


def _num(v: Any) -> Any:
    return float(v) if isinstance(v, str) and v in ("nan", "inf", "-inf") else v


def _record(row: Sequence[Any]) -> TrialRecord:
    return TrialRecord(
        id=row[0], batch=row[1], sample=json.loads(row[2]), status=row[3], score=row[4],
        metrics={k: _num(v) for k, v in json.loads(row[5]).items()},
        costs={k: _num(v) for k, v in json.loads(row[6]).items()},
        feasible=bool(row[7]), error=row[8], duration=row[9], worker=row[10], attempts=row[11], finished=row[12],
    )


def read_meta(con: sqlite3.Connection) -> dict[str, Any]:
    return {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM meta")}


def read_records(con: sqlite3.Connection) -> list[TrialRecord]:
    """Every trial, in trial order."""
    return [_record(r) for r in con.execute(f"SELECT {_COLS} FROM trials ORDER BY id")]


def read_record(con: sqlite3.Connection, trial_id: int) -> TrialRecord | None:
    row = con.execute(f"SELECT {_COLS} FROM trials WHERE id = ?", (trial_id,)).fetchone()
    return _record(row) if row else None


def change_token(con: sqlite3.Connection) -> str:
    """Changes whenever a trial lands or the runner writes progress (cheap: two indexed aggregates)."""
    n, last = con.execute("SELECT count(*), max(finished) FROM trials").fetchone()
    meta = con.execute("SELECT group_concat(length(value)) FROM meta").fetchone()[0]
    batches = con.execute("SELECT max(batch) FROM batches").fetchone()[0]
    return f"{n}:{last}:{batches}:{meta}"


def _json_path(name: str) -> str:
    return '$."' + name.replace('"', '""') + '"'


def trial_page(con: sqlite3.Connection, *, sort: str = "id", descending: bool = False, status: str | None = None,
               search: str | None = None, offset: int = 0, limit: int = 50, metrics: Sequence[str] = (),
               costs: Sequence[str] = (), labels: Sequence[str] = ()) -> TablePage:
    """A page of trials sorted by ``sort`` (a column, metric, cost or label), in SQL.

    ``status`` keeps one status as the table shows it (``infeasible``: succeeded, but a
    constraint failed; ``succeeded``: the feasible ones);
    ``search`` keeps trials whose sample matches: ``label=value`` (exact value of that
    label) or plain text found anywhere in the sample. Missing values sort last.
    """
    where, args = [], []
    if status:
        if status not in STATUSES:
            raise ConfigError(f"unknown status filter {status!r}; use one of {', '.join(STATUSES)}.")
        if status == "infeasible":  # succeeded, but a constraint on a trained metric failed
            where.append("status = 'succeeded' AND feasible = 0")
        elif status == "succeeded":
            where.append("status = 'succeeded' AND feasible = 1")
        else:
            where.append("status = ?")
            args.append(status)
    if search:
        label, eq, value = search.partition("=")
        if eq and label.strip() in labels:
            value = value.strip().strip('"')
            if value.startswith("["):
                value = value.replace(" ", "")
            where.append("CAST(json_extract(sample, ?) AS TEXT) = ?")
            args += [_json_path(label.strip()), value]
        else:
            where.append("instr(lower(sample), lower(?)) > 0")
            args.append(search.strip())
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    order_args: list[Any] = []
    if sort in SORT_COLUMNS:
        key = sort
    elif sort in costs:
        key, order_args = "json_extract(costs, ?)", [_json_path(sort)]
    elif sort in metrics:
        key, order_args = "json_extract(metrics, ?)", [_json_path(sort)]
    elif sort in labels:
        key, order_args = "json_extract(sample, ?)", [_json_path(sort)]
    else:
        known = [*SORT_COLUMNS, *metrics, *costs, *labels]
        raise ConfigError(f"cannot sort by {sort!r}; sort by one of {', '.join(known)}.")
    if limit < 1 or limit > 1000 or offset < 0:
        raise ConfigError(f"page limit must be 1..1000 and offset >= 0, got limit={limit}, offset={offset}.")
    direction = "DESC" if descending else "ASC"
    total = con.execute(f"SELECT count(*) FROM trials{clause}", args).fetchone()[0]
    if sort == "id":  # the primary key: no sort at all
        order, order_args = f"id {direction}", []
    else:  # missing values last in both directions; sort ids only, then read the page's rows
        order, order_args = f"({key}) IS NULL, {key} {direction}, id {direction}", order_args * 2
    ids = [r[0] for r in con.execute(f"SELECT id FROM trials{clause} ORDER BY {order} LIMIT ? OFFSET ?",
                                     [*args, *order_args, limit, offset])]
    rows = {r[0]: r for r in con.execute(f"SELECT {_COLS} FROM trials WHERE id IN (SELECT value FROM json_each(?))",
                                         (json.dumps(ids),))}
    return TablePage(total, [_record(rows[i]) for i in ids])


def learning_curve(store: Any, trial_id: int) -> list[dict[str, Any]]:
    """The trial's intermediate reports, in step order: ``{step, value, metrics}`` (table ``learning_curves``).

    ``value`` is the objective as reported (None for NaN), ``metrics`` every metric of the
    report; an experiment without reports (no table, or none for this trial) gives ``[]``.
    """
    if not store.has_table("learning_curves"):
        return []
    rows = store.con().execute(
        "SELECT step, value, metrics FROM learning_curves WHERE trial_id = ? ORDER BY step", (trial_id,))
    return [{"step": s, "value": v, "metrics": {k: _num(x) for k, x in json.loads(m).items()}} for s, v, m in rows]
