"""Learning curves in the experiment's SQLite store (the ``learning_curves`` tables).

Workers write their trial's reports here and read the other trials' curves back, so a
pruner decides locally, with no message to the main process. The database is the
experiment's ``trials.db`` in WAL mode: concurrent writers wait their turn (busy timeout)
and readers never block.
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from nas_core.errors import ConfigError
from nas_core.pruning.curves import RUNNING, LearningCurve, as_score

__all__ = ["CurveStore", "CurvePoint", "CURVES_SCHEMA"]

CURVES_SCHEMA = """
CREATE TABLE IF NOT EXISTS learning_curves (
    trial_id INTEGER NOT NULL,       -- the trial (trials.id)
    step INTEGER NOT NULL,           -- the trainer's step (the epoch, for the classification trainer)
    value REAL,                      -- the objective as reported (NULL when NaN)
    metrics TEXT NOT NULL,           -- JSON: every metric of the report
    time REAL NOT NULL,              -- unix time of the report
    PRIMARY KEY (trial_id, step)
);
CREATE TABLE IF NOT EXISTS learning_curve_status (
    trial_id INTEGER PRIMARY KEY,    -- a trial that reported at least once
    status TEXT NOT NULL,            -- running | completed | pruned | failed
    started REAL NOT NULL            -- unix time its (last) attempt started
);
"""


@dataclass(frozen=True)
class CurvePoint:
    """One stored report, as the trainer made it."""

    step: int
    value: float
    metrics: dict[str, Any] = field(default_factory=dict)
    time: float = 0.0


class CurveStore:
    """The learning-curve tables of one experiment's ``trials.db``.

    ``create=False`` (a worker) requires the database to exist already: a worker that does
    not share the experiment's file system fails with a clear error instead of writing
    its curve into a new, empty database nobody reads. ``read_only=True`` (``nas results``)
    never writes; a store without curve tables then reads as having no curves.
    """

    def __init__(self, path: str | os.PathLike, *, create: bool = True, read_only: bool = False,
                 timeout: float = 60.0) -> None:
        from nas_core.experiment import store_file

        path = Path(path)
        if path.is_dir() or path.suffix != ".db":
            path = path / "trials.db"
        self.path = path
        if not create and not path.exists():
            raise ConfigError(
                f"the experiment store {str(path)!r} is not reachable from this worker; intermediate reports and "
                "pruning need the experiment folder on a file system shared with the workers."
            )
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.con = store_file.connect(path, read_only=read_only, timeout=timeout)
        if not read_only:
            self.con.execute("PRAGMA journal_mode=WAL")
            self.con.executescript(CURVES_SCHEMA)
        self._tables = not read_only or self.con.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'learning_curves'").fetchone()[0] > 0

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "CurveStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing (the worker that runs the trial) -----------------------------------------------
    def start(self, trial_id: int) -> None:
        """A new attempt of ``trial_id``: forget the curve of an earlier, interrupted attempt."""
        self.con.execute("BEGIN IMMEDIATE")
        try:
            self.con.execute("DELETE FROM learning_curves WHERE trial_id = ?", (trial_id,))
            self.con.execute("INSERT OR REPLACE INTO learning_curve_status VALUES (?, ?, ?)",
                             (trial_id, RUNNING, time.time()))
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def add(self, trial_id: int, step: int, value: float, metrics: Mapping[str, float]) -> None:
        self.con.execute(
            "INSERT INTO learning_curves VALUES (?, ?, ?, ?, ?)",
            (trial_id, step, None if math.isnan(value) else value,
             json.dumps({k: (v if math.isfinite(v) else str(v)) for k, v in metrics.items()}), time.time()),
        )

    def end(self, trial_id: int, status: str) -> None:
        """The attempt ended: ``completed``, ``pruned`` or ``failed``."""
        self.con.execute("UPDATE learning_curve_status SET status = ? WHERE trial_id = ?", (status, trial_id))

    # -- reading ----------------------------------------------------------------------------------
    def curves(self, maximize: bool = True, exclude: int | None = None) -> list[LearningCurve]:
        """Every stored curve as scores (higher is better), in trial order; ``exclude`` leaves one out."""
        if not self._tables:
            return []
        rows = self.con.execute(
            "SELECT c.trial_id, c.step, c.value, COALESCE(s.status, ?) FROM learning_curves c "
            "LEFT JOIN learning_curve_status s ON s.trial_id = c.trial_id ORDER BY c.trial_id, c.step", (RUNNING,)
        ).fetchall()
        out: list[LearningCurve] = []
        points: list[tuple[int, float]] = []
        for i, (tid, step, value, status) in enumerate(rows):
            points.append((step, as_score(value, maximize)))
            if i + 1 == len(rows) or rows[i + 1][0] != tid:
                if tid != exclude:
                    out.append(LearningCurve.of(tid, points, status))
                points = []
        return out

    def points(self, trial_id: int) -> list[CurvePoint]:
        """One trial's reports as made (raw values and every metric), in step order."""
        if not self._tables:
            return []
        rows = self.con.execute(
            "SELECT step, value, metrics, time FROM learning_curves WHERE trial_id = ? ORDER BY step", (trial_id,)
        ).fetchall()
        return [CurvePoint(s, math.nan if v is None else v, {k: _num(x) for k, x in json.loads(m).items()}, t)
                for s, v, m, t in rows]

    def status(self, trial_id: int) -> str | None:
        if not self._tables:
            return None
        row = self.con.execute("SELECT status FROM learning_curve_status WHERE trial_id = ?", (trial_id,)).fetchone()
        return row[0] if row else None

    def steps_done(self) -> dict[int, int]:
        """The last reported step of every trial that reported (its epochs done)."""
        if not self._tables:
            return {}
        return dict(self.con.execute("SELECT trial_id, MAX(step) FROM learning_curves GROUP BY trial_id"))


def _num(v: Any) -> Any:
    return float(v) if isinstance(v, str) and v in ("nan", "inf", "-inf") else v
