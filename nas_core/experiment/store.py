"""The trial store: an SQLite database (WAL mode) in the experiment folder.

A trial is written when it is asked (status ``running``, with its sample) and again when
it finishes; the strategy's state is ONE row (``search_state``), replaced in the same
transaction as the trial row it belongs to, so a kill at any moment leaves a consistent
resume point and the store grows linearly with the trials. Several processes or threads
may write to one store at once: each write is a short ``BEGIN IMMEDIATE`` transaction and
every thread gets its own connection. ``TrialStore(path, read_only=True)`` opens the file
read-only, for reading commands (``nas results``, the dashboard, :mod:`.query`). Opening
checks the file (see :mod:`.store_file`): every failure is one :class:`StoreError` line.
"""
from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from nas_core.errors import ConfigError, StoreError
from nas_core.experiment import store_file

__all__ = ["TrialStore", "TrialRecord", "SCHEMA_VERSION", "TRIAL_COLUMNS", "record_from_row", "RUNNING", "ResumePoint"]

SCHEMA_VERSION = 1

#: status of a trial asked and started but not finished (rerun with the same sample on resume)
RUNNING = "running"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY,          -- trial number, in the order the strategy proposed it
    batch INTEGER NOT NULL,          -- synchronous batch the trial belongs to
    sample TEXT NOT NULL,            -- JSON dict label -> value
    sample_key TEXT NOT NULL,        -- canonical sorted JSON of the sample
    status TEXT NOT NULL,            -- succeeded | failed | rejected | timeout | pruned | running
    score REAL,                      -- the value told to the strategy (higher is better)
    metrics TEXT NOT NULL,           -- JSON: the trainer's metrics
    costs TEXT NOT NULL,             -- JSON: each profiler's cost
    feasible INTEGER NOT NULL,       -- 1 when every constraint holds
    error TEXT,                      -- error text of a failed or rejected trial
    duration REAL,                   -- seconds spent in the trial (training + evaluation)
    worker TEXT,                     -- host:pid of the process that ran it
    attempts INTEGER NOT NULL,       -- 1, or more when a dead worker's trial was retried
    finished REAL NOT NULL,          -- unix time the record was written
    told INTEGER,                    -- order in which the strategy was told this trial (NULL: not yet)
    partial INTEGER NOT NULL DEFAULT 0  -- 1 when the score is an intermediate value (a pruned trial)
);
CREATE INDEX IF NOT EXISTS trials_status ON trials(status);
CREATE INDEX IF NOT EXISTS trials_best ON trials(score DESC, id)  -- the best trial, best-so-far
    WHERE status = 'succeeded' AND feasible = 1 AND score IS NOT NULL;
"""
# -- the search's write side: resume point (one row) and told order ------------------------
_SEARCH_SCHEMA = """
CREATE TABLE IF NOT EXISTS search_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),  -- a single row, replaced with every ask and tell
    next_id INTEGER NOT NULL,        -- the next trial number
    told INTEGER NOT NULL,           -- how many trials the strategy has been told
    batch INTEGER NOT NULL,          -- the last synchronous batch started (0 when asynchronous)
    elapsed REAL NOT NULL,           -- seconds of search so far (max_duration)
    state TEXT NOT NULL,             -- strategy.state_dict() right after that ask or tell
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS trials_untold ON trials(id) WHERE told IS NULL;
CREATE INDEX IF NOT EXISTS trials_told ON trials(told) WHERE told IS NOT NULL;
"""


def _dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=_default)


def _default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    """Metrics as JSON numbers; NaN and infinities become strings so JSON stays valid."""
    out: dict[str, Any] = {}
    for k, v in values.items():
        if isinstance(v, float) and not math.isfinite(v):
            out[k] = str(v)
        elif hasattr(v, "item") and callable(v.item):
            try:
                out[k] = float(v.item())
            except Exception:  # noqa: BLE001 - not a scalar: keep its repr
                out[k] = repr(v)
        else:
            out[k] = v
    return out


@dataclass
class TrialRecord:
    """One row of the ``trials`` table."""

    id: int
    batch: int
    sample: dict[str, Any]
    status: str
    score: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    costs: dict[str, float] = field(default_factory=dict)
    feasible: bool = True
    error: str | None = None
    duration: float | None = None
    worker: str | None = None
    attempts: int = 1
    finished: float = 0.0
    #: order in which the strategy was told this trial (None: not told yet)
    told: int | None = None
    #: True when ``score`` is an intermediate value (a pruned trial's last report)
    partial: bool = False

    @property
    def values(self) -> dict[str, Any]:
        """Metrics and costs together (costs win on a name clash)."""
        return {**self.metrics, **self.costs}

    @property
    def sample_key(self) -> str:
        return json.dumps(self.sample, sort_keys=True, default=str)


class TrialStore:
    """The SQLite store of one experiment folder (``<workdir>/trials.db``)."""

    FILENAME = "trials.db"

    def __init__(self, path: str | os.PathLike, timeout: float = 60.0, *, read_only: bool = False) -> None:
        path = Path(path)
        if path.is_dir() or path.suffix != ".db":
            path = path / self.FILENAME
        self.path = path
        self.timeout = timeout
        self.read_only = read_only
        self._local = threading.local()
        if not read_only:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise StoreError(f"cannot create the experiment folder {path.parent} ({err.strerror or err}); "
                                 "give a writable --workdir, or fix the permissions.") from err
        con = self._con()
        store_file.check_store(con, path, SCHEMA_VERSION, read_only=read_only)
        #: the ``SELECT`` list of :func:`record_from_row` for this file (a reader of a store written before
        #: the ``told``/``partial`` columns existed reads them as NULL/0; a writer adds them)
        self.columns = TRIAL_COLUMNS
        if read_only:
            have = {row[1] for row in con.execute("PRAGMA table_info(trials)").fetchall()}
            self.columns = ", ".join(c if c in have else _DEFAULTS.get(c, c) for c in TRIAL_COLUMNS.split(", "))
        if not read_only:
            con.execute("PRAGMA journal_mode=WAL")  # persistent: set once, every later connection uses it
            con.executescript(_SCHEMA)  # idempotent; executescript manages its own transaction
            self._add_search_schema()
            with self._write() as con:
                con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    # -- connections ------------------------------------------------------------------------
    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None or getattr(self._local, "pid", None) != os.getpid():
            con = store_file.connect(self.path, read_only=self.read_only, timeout=self.timeout)
            self._local.con, self._local.pid = con, os.getpid()
        return con

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (for read queries, see :mod:`nas_core.experiment.query`)."""
        return self._con()

    class _Tx:
        def __init__(self, con: sqlite3.Connection) -> None:
            self.con = con

        def __enter__(self) -> sqlite3.Connection:
            self.con.execute("BEGIN IMMEDIATE")
            return self.con

        def __exit__(self, exc_type: Any, *exc: Any) -> None:
            if exc_type is not None:
                self._rollback()
                return
            try:
                self.con.execute("COMMIT")
            except BaseException:  # a failed COMMIT (disk full) leaves the transaction open: end it
                self._rollback()
                raise

        def _rollback(self) -> None:
            if self.con.in_transaction:
                self.con.execute("ROLLBACK")

    def _write(self) -> "TrialStore._Tx":
        return TrialStore._Tx(self._con())

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    # -- metadata ---------------------------------------------------------------------------
    def set_meta(self, key: str, value: Any) -> None:
        with self._write() as con:
            con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, _dumps(value)))

    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self._con().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return store_file.loads(row[0], self.path, f"meta value {key!r}") if row else default

    # -- trials -----------------------------------------------------------------------------
    def add_trial(self, rec: TrialRecord) -> bool:
        """Write a finished trial; returns False (and changes nothing) if its id is already stored."""
        with self._write() as con:
            cur = con.execute(
                "INSERT OR IGNORE INTO trials (id, batch, sample, sample_key, status, score, metrics, costs, "
                "feasible, error, duration, worker, attempts, finished) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (rec.id, rec.batch, _dumps(rec.sample), rec.sample_key, rec.status,
                 None if rec.score is None or not math.isfinite(rec.score) else float(rec.score),
                 _dumps(_clean(rec.metrics)), _dumps(_clean(rec.costs)), int(bool(rec.feasible)), rec.error,
                 rec.duration, rec.worker, rec.attempts, rec.finished or time.time()),
            )
            return cur.rowcount == 1

    def trial(self, trial_id: int) -> TrialRecord | None:
        row = self._con().execute(f"SELECT {self.columns} FROM trials WHERE id = ?", (trial_id,)).fetchone()
        return record_from_row(row, self.path) if row else None

    def trials(self, status: str | None = None) -> list[TrialRecord]:
        """Every stored trial in trial order (optionally only one status)."""
        q = f"SELECT {self.columns} FROM trials" + (" WHERE status = ?" if status else "") + " ORDER BY id"
        return [record_from_row(r, self.path) for r in self._con().execute(q, (status,) if status else ()).fetchall()]

    def count(self, *statuses: str) -> int:
        if not statuses:
            return self._con().execute("SELECT COUNT(*) FROM trials").fetchone()[0]
        marks = ",".join("?" * len(statuses))
        return self._con().execute(f"SELECT COUNT(*) FROM trials WHERE status IN ({marks})", statuses).fetchone()[0]

    # -- the search's write side: trials as they are asked and told, and the resume point ---
    def _add_search_schema(self) -> None:
        con = self._con()
        have = {row[1] for row in con.execute("PRAGMA table_info(trials)")}
        with self._write() as tx:
            for column, decl in (("told", "INTEGER"), ("partial", "INTEGER NOT NULL DEFAULT 0")):
                if column not in have:  # a store written before these columns existed
                    tx.execute(f"ALTER TABLE trials ADD COLUMN {column} {decl}")
        con.executescript(_SEARCH_SCHEMA)

    def record(self, records: Sequence[TrialRecord] = (), resume: "ResumePoint | None" = None) -> None:
        """Write (insert or replace) ``records`` and the resume point, all in one transaction.

        The runner calls it when it asks a sample (its ``running`` record, the rejections
        that came before it, and the strategy's state after the ask) and when it tells one
        (the finished record with its ``told`` order, and the state after the tell), so a
        kill at any moment leaves trials and state consistent.
        """
        with self._write() as con:
            for rec in records:
                con.execute(
                    "INSERT OR REPLACE INTO trials (id, batch, sample, sample_key, status, score, metrics, costs, "
                    "feasible, error, duration, worker, attempts, finished, told, partial) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (rec.id, rec.batch, _dumps(rec.sample), rec.sample_key, rec.status,
                     None if rec.score is None or not math.isfinite(rec.score) else float(rec.score),
                     _dumps(_clean(rec.metrics)), _dumps(_clean(rec.costs)), int(bool(rec.feasible)), rec.error,
                     rec.duration, rec.worker, rec.attempts, rec.finished or time.time(), rec.told,
                     int(bool(rec.partial))),
                )
            if resume is not None:
                con.execute("INSERT OR REPLACE INTO search_state VALUES (1, ?, ?, ?, ?, ?, ?)",
                            (resume.next_id, resume.told, resume.batch, resume.elapsed, _state_json(resume.state),
                             time.time()))

    def resume_point(self) -> "ResumePoint | None":
        """Where the search stopped (None for a fresh store)."""
        row = self._con().execute(
            "SELECT next_id, told, batch, elapsed, state FROM search_state WHERE id = 1").fetchone()
        return ResumePoint(row[0], row[1], row[2], row[3], store_file.loads(row[4], self.path, 'the strategy state')) if row else None

    def told_history(self) -> list[tuple[dict[str, Any], Any]]:
        """Every ``(sample, TrialResult)`` the strategy was told, in the order it was told (read once, on resume)."""
        from nas_core.interfaces import TrialResult

        rows = self._con().execute(
            "SELECT sample, score, metrics, costs, status, error, partial FROM trials WHERE told IS NOT NULL "
            "ORDER BY told")
        out = []
        for sample, score, metrics, costs, status, error, partial in rows:
            values = {k: _num(v) for k, v in store_file.loads(metrics, self.path, "a trial's metrics").items()}
            values.update({k: _num(v) for k, v in store_file.loads(costs, self.path, "a trial's costs").items()})
            out.append((store_file.loads(sample, self.path, "a trial's sample"),
                        TrialResult(score, values, status, error, partial=bool(partial))))
        return out

    def untold_trials(self) -> list[TrialRecord]:
        """Trials asked but not told yet, in trial order: ``running`` ones, and finished ones of an unfinished batch."""
        rows = self._con().execute(f"SELECT {_COLS} FROM trials WHERE told IS NULL AND status != 'rejected' ORDER BY id")
        return [record_from_row(row, self.path) for row in rows]

    def count_told(self, batch: int) -> int:
        """Trials of synchronous ``batch`` already told (rejections excepted)."""
        return self._con().execute("SELECT COUNT(*) FROM trials WHERE batch = ? AND told IS NOT NULL AND "
                                   "status != 'rejected'", (batch,)).fetchone()[0]

    def count_asked(self) -> int:
        """Trials asked so far, rejections excepted (running, finished or told)."""
        return self._con().execute("SELECT COUNT(*) FROM trials WHERE status != 'rejected'").fetchone()[0]

    def __iter__(self) -> Iterator[TrialRecord]:
        return iter(self.trials())

    def __len__(self) -> int:
        return self.count()

    def __repr__(self) -> str:
        return f"TrialStore({str(self.path)!r}, trials={self.count()})"


#: the columns, in order, that :func:`record_from_row` reads
TRIAL_COLUMNS = _COLS = ("id, batch, sample, status, score, metrics, costs, feasible, error, duration, worker, "
                         "attempts, finished, told, partial")
_DEFAULTS = {"told": "NULL AS told", "partial": "0 AS partial"}  # columns added after schema 1's first release


def record_from_row(row: tuple, path: Path) -> TrialRecord:
    """A :class:`TrialRecord` from a row of ``SELECT {TRIAL_COLUMNS}`` (invalid JSON: a StoreError naming the trial)."""
    what = f"trial {row[0]}'s"
    return TrialRecord(
        id=row[0], batch=row[1], sample=store_file.loads(row[2], path, f"{what} sample"), status=row[3], score=row[4],
        metrics={k: _num(v) for k, v in store_file.loads(row[5], path, f"{what} metrics").items()},
        costs={k: _num(v) for k, v in store_file.loads(row[6], path, f"{what} costs").items()},
        feasible=bool(row[7]), error=row[8], duration=row[9], worker=row[10], attempts=row[11], finished=row[12],
        told=row[13] if len(row) > 13 else None, partial=bool(row[14]) if len(row) > 14 else False,
    )


def _num(v: Any) -> Any:
    if isinstance(v, str) and v in ("nan", "inf", "-inf"):
        return float(v)
    return v


def _state_json(state: Mapping[str, Any]) -> str:
    try:
        return _dumps(state)
    except TypeError as err:
        raise ConfigError(
            f"the strategy's state_dict() is not JSON-serialisable ({err}); a strategy must return plain "
            "dicts, lists, strings and numbers from state_dict() so the search can be resumed."
        ) from None


@dataclass
class ResumePoint:
    """The single ``search_state`` row: where a resumed search continues."""

    next_id: int
    told: int
    batch: int
    elapsed: float
    state: dict[str, Any]
