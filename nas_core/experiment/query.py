"""Reading an experiment's results straight from its SQLite store: what `nas results` and a dashboard show.

:class:`TrialQuery` opens the store read-only (it never writes, works while a search is
writing and on a read-only folder) and answers each question with SQL: one page of the
trial table (sorted by any column, metric, cost or label; filtered by status, label values
or a search text; with the total count), the best trial, the Pareto set, the best-so-far
series and the counts by status. Nothing loads every row into Python except the Pareto
set, which reads only the objective values of the succeeded, feasible trials::

    q = TrialQuery("runs/digits")
    page = q.page(sort="accuracy", descending=True, status="succeeded", offset=0, limit=50)
    page.total, [t.id for t in page.trials], q.best(), q.pareto(), q.counts()

Every method is safe to call from several threads (each thread has its own connection).
"""
from __future__ import annotations

import difflib
import json
import math
import os
from dataclasses import dataclass
from typing import Any, Iterable, Literal, Mapping, Sequence

from nas_core.errors import ConfigError
from nas_core.experiment import store_file
from nas_core.experiment.spec import Objective
from nas_core.experiment.store import RUNNING, TrialRecord, TrialStore, record_from_row
from nas_core.statuses import STATUSES, SUCCEEDED

__all__ = ["TrialQuery", "TrialPage", "BestPoint", "best_trial", "TABLE_COLUMNS"]

#: the trial table's own columns, sortable by name (metrics, costs and labels come on top)
TABLE_COLUMNS = ("id", "batch", "status", "score", "feasible", "duration", "worker", "attempts", "finished", "error")
_MISSING = object()
_ELIGIBLE = f"status = '{SUCCEEDED}' AND feasible = 1 AND score IS NOT NULL"  # matches the trials_best index


def best_trial(trials: Iterable[TrialRecord] | TrialStore) -> TrialRecord | None:
    """The succeeded, feasible trial with the highest score (the earliest one on a tie).

    ``trials`` is a list of records or a :class:`TrialStore` (then one indexed query
    finds it, without reading the other rows).
    """
    if isinstance(trials, TrialStore):
        return TrialQuery(trials).best()
    ok = [t for t in trials if t.status == SUCCEEDED and t.feasible and t.score is not None]
    return max(ok, key=lambda t: (t.score, -t.id)) if ok else None


@dataclass(frozen=True)
class TrialPage:
    """One page of the trial table: ``trials`` in the requested order, ``total`` matching the filter."""

    trials: list[TrialRecord]
    total: int
    offset: int
    limit: int | None
    sort: str
    descending: bool


@dataclass(frozen=True)
class BestPoint:
    """A trial that improved the best so far: the series is a step function through these points.

    ``x`` is the trial number (``by="trial"``) or the seconds since the experiment's first
    trial started (``by="time"``); ``value`` is the primary objective in its own unit and
    direction, ``score`` the same signed so that larger is better.
    """

    x: float
    trial_id: int
    value: float
    score: float
    finished: float


class TrialQuery:
    """Read-only queries on the store of an experiment folder (or a ``trials.db`` path, or a store)."""

    def __init__(self, source: str | os.PathLike | TrialStore) -> None:
        self.store = source if isinstance(source, TrialStore) else TrialStore(source, read_only=True)
        self.path = self.store.path
        self._meta: dict[str, Any] = {}

    # -- what the experiment is -------------------------------------------------------------
    def _get(self, key: str, default: Any) -> Any:
        """A meta value, kept once the search has written it (a search never changes it afterwards)."""
        if key not in self._meta:
            value = self.store.get_meta(key, _MISSING)
            if value is _MISSING:
                return default
            self._meta[key] = value
        return self._meta[key]

    @property
    def objectives(self) -> list[Objective]:
        """The objectives in order (the first is primary), as the search was configured."""
        return [Objective(m, d) for m, d in self._get("objectives", [])]

    @property
    def units(self) -> dict[str, str]:
        """Each metric's and cost's unit (``""`` when it has none)."""
        return dict(self._get("units", {}))

    @property
    def labels(self) -> list[str]:
        """The labels of the space, in order (from the search; else those of the last trial)."""
        labels = self._get("labels", None)
        if labels is None:
            row = self.store.connection().execute("SELECT id, sample FROM trials ORDER BY id DESC LIMIT 1").fetchone()
            labels = list(store_file.loads(row[1], self.path, f"trial {row[0]}'s sample")) if row else []
        return list(labels)

    @property
    def cost_names(self) -> list[str]:
        """The profilers' metric names."""
        return list(self._get("costs", []))

    def metric_names(self) -> list[str]:
        """Every metric and cost name: the objectives, the costs, then those the last 200 trials hold."""
        known = [o.metric for o in self.objectives] + self.cost_names + sorted(self._value_columns())
        return list(dict.fromkeys(known))

    def _value_columns(self) -> dict[str, str]:
        """Where each metric or cost name of the last 200 trials is stored: ``"metrics"`` or ``"costs"``."""
        rows = self.store.connection().execute(
            "SELECT DISTINCT 'metrics', j.key FROM (SELECT metrics FROM trials ORDER BY id DESC LIMIT 200) AS t, "
            "json_each(t.metrics) AS j UNION ALL SELECT DISTINCT 'costs', j.key FROM "
            "(SELECT costs FROM trials ORDER BY id DESC LIMIT 200) AS t, json_each(t.costs) AS j").fetchall()
        where = {name: column for column, name in rows if column == "metrics"}
        where.update({name: column for column, name in rows if column == "costs"})  # costs win on a clash
        return where

    def columns(self) -> list[str]:
        """Every name :meth:`page` sorts by: the table's columns, metrics and costs, ``label:<label>``."""
        return [*TABLE_COLUMNS, *self.metric_names(), *[f"label:{label}" for label in self.labels]]

    # -- counts -----------------------------------------------------------------------------
    def count(self, status: str | Sequence[str] | None = None) -> int:
        """The number of trials (of one status or of several)."""
        where, params = self._where(status, None, None)
        return self.store.connection().execute(f"SELECT COUNT(*) FROM trials{where}", params).fetchone()[0]

    def counts(self) -> dict[str, int]:
        """Trials per status: every known status (0 when none) and any other status found."""
        rows = self.store.connection().execute("SELECT status, COUNT(*) FROM trials GROUP BY status").fetchall()
        out = {s: 0 for s in STATUSES}
        out.update({s: n for s, n in rows})
        return out

    def infeasible(self) -> int:
        """The number of succeeded trials that break a bound on a trainer metric."""
        return self.store.connection().execute(
            f"SELECT COUNT(*) FROM trials WHERE status = '{SUCCEEDED}' AND feasible = 0").fetchone()[0]

    # -- the trial table --------------------------------------------------------------------
    def page(self, sort: str = "id", *, descending: bool = False, status: str | Sequence[str] | None = None,
             label_values: Mapping[str, object] | None = None, search: str | None = None, offset: int = 0,
             limit: int | None = 50) -> TrialPage:
        """One page of the trial table, sorted and filtered in SQLite.

        ``sort``: a table column (:data:`TABLE_COLUMNS`), a metric or cost name, or
        ``label:<label>`` (a bare label works when no metric has its name); trials without
        a value (NaN, missing) come last in both directions, ties in trial order.
        ``status``: one status or several. ``label_values``: ``{label: value}``, trials whose
        sample has exactly these values. ``search``: trials with a label value containing
        this text (case-insensitive). ``offset``/``limit``: the page (``limit=None``: all).
        """
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ConfigError(f"offset must be an integer >= 0, got {offset!r}.")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise ConfigError(f"limit must be an integer >= 0 or None (every trial), got {limit!r}.")
        key, key_params, numeric = self._sort_key(sort)
        where, params = self._where(status, label_values, search)
        con = self.store.connection()
        total = con.execute(f"SELECT COUNT(*) FROM trials{where}", params).fetchone()[0]
        order = "DESC" if descending else "ASC"
        window = [-1 if limit is None else limit, offset]
        if sort == "id":  # the primary key: no sort at all
            rows = con.execute(f"SELECT {self.store.columns} FROM trials{where} ORDER BY id {order} LIMIT ? OFFSET ?",
                               [*params, *window]).fetchall()
            return TrialPage([record_from_row(r, self.path) for r in rows], total, offset, limit, sort, descending)
        # the key once per row (materialised), sorted; then only this page's rows are read whole
        missing, value = ("typeof(v) NOT IN ('integer', 'real')", "CASE WHEN typeof(v) IN ('integer', 'real') THEN v END"
                          ) if numeric else ("v IS NULL", "v")  # NaN (the text "nan") counts as missing
        ids = [r[0] for r in con.execute(
            f"WITH k AS MATERIALIZED (SELECT id, {key} AS v FROM trials{where}) "
            f"SELECT id FROM k ORDER BY {missing}, {value} {order}, id LIMIT ? OFFSET ?",
            [*key_params, *params, *window]).fetchall()]
        by_id = {t.id: t for t in self.trials(ids)}
        return TrialPage([by_id[i] for i in ids], total, offset, limit, sort, descending)

    def last(self, n: int) -> list[TrialRecord]:
        """The last ``n`` trials, in trial order."""
        return list(reversed(self.page("id", descending=True, limit=n).trials))

    def trials(self, ids: Iterable[int] | None = None) -> list[TrialRecord]:
        """The trials with these ids (every trial when None), in trial order."""
        if ids is None:
            return self.store.trials()
        rows = self.store.connection().execute(
            f"SELECT {self.store.columns} FROM trials WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
            (json.dumps([int(i) for i in ids]),)).fetchall()
        return [record_from_row(r, self.path) for r in rows]

    # -- best, Pareto set, best so far ------------------------------------------------------
    def best(self) -> TrialRecord | None:
        """The succeeded, feasible trial with the highest score (the earliest on a tie): one indexed lookup."""
        row = self.store.connection().execute(
            f"SELECT {self.store.columns} FROM trials WHERE {_ELIGIBLE} ORDER BY score DESC, id ASC LIMIT 1").fetchone()
        return record_from_row(row, self.path) if row else None

    def pareto(self, objectives: Sequence[Objective] | Mapping[str, str] | None = None) -> list[TrialRecord]:
        """The succeeded, feasible trials no other one dominates on ``objectives`` (default: the search's).

        Reads only the objective values, computes the set with :func:`nas_core.pareto.nondominated`
        (sort and sweep for two objectives), then reads the rows of the set; in trial order.
        """
        return self.trials(self.pareto_ids(objectives))

    def pareto_ids(self, objectives: Sequence[Objective] | Mapping[str, str] | None = None) -> list[int]:
        """The ids of :meth:`pareto`'s trials, ascending, without reading their rows (trials with equal
        values are all in the set, so it can be large when many trials tie)."""
        from nas_core.pareto import nondominated

        objs = self._objectives(objectives)
        if not objs:
            return []
        exprs, params = [], []
        columns = self._value_columns()
        stored = self.objectives
        signs = [1.0 if o.direction == "max" else -1.0 for o in objs]
        for i, o in enumerate(objs):
            if i == 0 and stored and o == stored[0]:  # the score column: the primary value, signed, no JSON
                exprs.append("score")
                signs[0] = 1.0
                continue
            e, p = self._value_expr(o.metric, columns)
            exprs.append(e)
            params += p
        rows = self.store.connection().execute(  # a table scan ('+status': not row by row through the index)
            f"SELECT id, {', '.join(exprs)} FROM trials WHERE +status = '{SUCCEEDED}' AND feasible = 1", params
        ).fetchall()
        values = [[_as_float(v) * sign for v, sign in zip(row[1:], signs)] for row in rows]
        return [rows[i][0] for i in nondominated(values)]

    def best_so_far(self, by: Literal["trial", "time"] = "trial") -> list[BestPoint]:
        """The trials that improved the best (succeeded, feasible, highest score), in order.

        ``by="trial"``: ``x`` is the trial number; ``by="time"``: seconds since the first
        trial started (trials ordered by when they finished).
        """
        if by not in ("trial", "time"):
            raise ConfigError(f"best_so_far: by must be 'trial' or 'time', got {by!r}.")
        con = self.store.connection()
        order = "id" if by == "trial" else "finished, id"
        rows = con.execute(  # only the rows that beat every earlier one (a window function in SQLite)
            f"SELECT id, score, finished FROM (SELECT id, score, finished, MAX(score) OVER (ORDER BY {order} ROWS "
            f"BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before FROM trials WHERE {_ELIGIBLE}) "
            f"WHERE before IS NULL OR score > before ORDER BY {order}").fetchall()
        start = con.execute("SELECT MIN(finished - COALESCE(duration, 0)) FROM trials").fetchone()[0] or 0.0
        sign = 1.0 if not self.objectives or self.objectives[0].direction == "max" else -1.0
        return [BestPoint(float(tid) if by == "trial" else finished - start, tid, sign * score, score, finished)
                for tid, score, finished in rows]

    # -- SQL pieces -------------------------------------------------------------------------
    def _objectives(self, objectives: Sequence[Objective] | Mapping[str, str] | None) -> list[Objective]:
        if objectives is None:
            return self.objectives
        if isinstance(objectives, Mapping):
            objectives = [Objective(m, d) for m, d in objectives.items()]
        for o in objectives:
            if o.direction not in ("max", "min"):
                raise ConfigError(f"objective {o.metric!r}: direction must be 'max' or 'min', got {o.direction!r}.")
        return list(objectives)

    def _value_expr(self, name: str, columns: Mapping[str, str] | None = None) -> tuple[str, list[Any]]:
        """A metric's or cost's raw JSON value in a row (costs win on a name clash), as SQL and its parameters."""
        path = _json_path(name)
        column = (self._value_columns() if columns is None else columns).get(name)
        if column is not None:  # where the recent trials keep it: one JSON lookup per row
            return f"json_extract({column}, ?)", [path]
        return "COALESCE(json_extract(costs, ?), json_extract(metrics, ?))", [path, path]

    def _sort_key(self, sort: str) -> tuple[str, list[Any], bool]:
        """The SQL of a sort key, its parameters, and whether it is numeric (then NaN sorts as missing)."""
        if not isinstance(sort, str) or not sort:
            raise ConfigError(f"sort must be a column name, got {sort!r}; e.g. 'id', 'accuracy', 'label:width'.")
        if sort in TABLE_COLUMNS:
            return sort, [], False
        kind, _, name = sort.partition(":")
        if kind == "label" and name:
            return "json_extract(sample, ?)", [_json_path(name)], False
        metrics = self.metric_names()
        if kind in ("metric", "cost") and name:
            return f"json_extract({'metrics' if kind == 'metric' else 'costs'}, ?)", [_json_path(name)], True
        if sort in metrics:
            return (*self._value_expr(sort), True)
        if sort in self.labels:
            return "json_extract(sample, ?)", [_json_path(sort)], False
        names = [*TABLE_COLUMNS, *metrics, *[f"label:{label}" for label in self.labels]]
        close = difflib.get_close_matches(sort, names, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ConfigError(f"cannot sort by {sort!r}: it is neither a column, a metric nor a label.{hint} "
                          f"Sortable: {', '.join(names)}.")

    def _where(self, status: str | Sequence[str] | None, label_values: Mapping[str, Any] | None,
               search: str | None) -> tuple[str, list[Any]]:

        clauses, params = [], []
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            known = {*STATUSES, RUNNING, *self.counts()}
            for s in statuses:
                if s not in known:
                    close = difflib.get_close_matches(str(s), sorted(known), n=1)
                    hint = f" Did you mean {close[0]!r}?" if close else ""
                    raise ConfigError(f"unknown status {s!r}.{hint} Statuses: {', '.join((*STATUSES, RUNNING))}.")
            clauses.append(f"status IN ({','.join('?' * len(statuses))})")
            params += statuses
        for label, value in (label_values or {}).items():
            labels = self.labels
            if labels and label not in labels:
                close = difflib.get_close_matches(label, labels, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ConfigError(f"unknown label {label!r}.{hint} Labels: {', '.join(labels)}.")
            if isinstance(value, (list, dict)):
                clauses.append("json_extract(sample, ?) = json(?)")
                params += [_json_path(label), json.dumps(value)]
            else:
                clauses.append("json_extract(sample, ?) = ?")
                params += [_json_path(label), value]
        if search:
            escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            clauses.append("EXISTS (SELECT 1 FROM json_each(trials.sample) AS j "
                           "WHERE CAST(j.value AS TEXT) LIKE ? ESCAPE '\\')")
            params.append(f"%{escaped}%")
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _json_path(name: str) -> str:
    """The JSON path of a top-level key (quoted, so dots and spaces in names are fine)."""
    if '"' in name:
        raise ConfigError(f"metric and label names with a double quote cannot be queried: {name!r}.")
    return f'$."{name}"'


def _as_float(v: Any) -> float:
    """A stored value as a float: numbers, None (missing) and the texts "nan"/"inf"/"-inf" the store
    writes for non-finite values; anything else (a non-numeric metric) is NaN."""
    if v is None or isinstance(v, bool):
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan
