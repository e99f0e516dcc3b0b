"""Open an experiment's SQLite store read-only, and find experiment folders."""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Iterable

from nas_core.errors import ConfigError
from nas_core.experiment.store import TrialStore

__all__ = ["connect_readonly", "find_experiments", "ReadOnlyStore"]


def connect_readonly(db: Path) -> sqlite3.Connection:
    """A connection that cannot write (SQLite's ``mode=ro`` and ``PRAGMA query_only``).

    A store being written (WAL mode) is read live, and a copied store (``trials.db``, with
    or without its ``-wal`` file) is read as it is.
    """
    con = sqlite3.connect(f"{Path(db).resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    con.execute("PRAGMA query_only=1")
    return con


class ReadOnlyStore:
    """One read-only connection per thread to ``<workdir>/trials.db`` (the server answers from a thread pool)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.path = self.workdir / TrialStore.FILENAME
        self._local = threading.local()

    def con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = connect_readonly(self.path)
        return con

    def has_table(self, name: str) -> bool:
        row = self.con().execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone()
        return row is not None


def find_experiments(dirs: Iterable[str | Path]) -> list[Path]:
    """Experiment folders (holding ``trials.db``) in ``dirs``: each is one, or a parent of several.

    Raises :class:`ConfigError` naming a folder that does not exist or holds no experiment.
    """
    found: list[Path] = []
    for d in dirs:
        path = Path(d)
        if not path.is_dir():
            raise ConfigError(f"{str(path)!r} is not a folder; give an experiment folder (the workdir that "
                              "`nas search` wrote, holding trials.db) or a folder of such folders.")
        if (path / TrialStore.FILENAME).is_file():
            found.append(path)
            continue
        children = sorted(p.parent for p in path.glob(f"*/{TrialStore.FILENAME}"))
        if not children:
            raise ConfigError(f"{str(path)!r} holds no experiment: neither {path / TrialStore.FILENAME} nor any "
                              f"*/{TrialStore.FILENAME}. Give the workdir of a `nas search` run or its parent.")
        found.extend(children)
    unique: list[Path] = []
    for p in found:
        if p.resolve() not in {u.resolve() for u in unique}:
            unique.append(p)
    if not unique:
        raise ConfigError("no experiment folder given; pass one or more workdirs: `nas dashboard runs/digits`.")
    return unique
