"""The trial store's SQLite file: opening it (read-write or read-only) and one-line errors.

Every connection the store makes is a :class:`CheckedConnection`: an ``sqlite3`` error
raised by any statement or row fetch becomes a :class:`~nas_core.errors.StoreError` whose
one-line message names the file, says what is wrong with it (damaged, truncated, not an
SQLite file, disk full, read-only, locked) and what to do. Readers open the file
read-only (``mode=ro``), so reading commands never write the database, work while a search
is writing it, and work on a read-only folder or file system.
"""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Iterable, cast

from nas_core.errors import StoreError

__all__ = ["CheckedConnection", "connect", "check_store", "store_error", "loads", "STORE_TABLES"]

#: the tables every nas-core trial store has (a file without them belongs to another application)
STORE_TABLES = frozenset({"meta", "trials"})

_START_OVER = "start over with `nas search CONFIG --overwrite` or another --workdir"
_REPLACE_FIX = f"restore it from a backup, or {_START_OVER}"
_DAMAGED_FIX = f"{_REPLACE_FIX} (`sqlite3 FILE .recover` may rescue the trials it still holds)"
_MAGIC = b"SQLite format 3\x00"


def _checked(name: str) -> Any:
    """``sqlite3.Cursor.<name>`` whose sqlite3 errors are :class:`StoreError` naming the store's file."""
    base = getattr(sqlite3.Cursor, name)

    def method(self: sqlite3.Cursor, *args: Any) -> Any:
        try:
            return base(self, *args)
        except sqlite3.Error as err:
            raise store_error(err, cast("CheckedConnection", self.connection).path) from err

    method.__name__ = name
    return method


class _CheckedCursor(sqlite3.Cursor):
    """A cursor whose sqlite3 errors (also those raised while fetching rows) are :class:`StoreError`."""

    execute = _checked("execute")
    executemany = _checked("executemany")
    fetchone = _checked("fetchone")
    fetchmany = _checked("fetchmany")
    fetchall = _checked("fetchall")
    __next__ = _checked("__next__")


class CheckedConnection(sqlite3.Connection):
    """An ``sqlite3.Connection`` to the store at ``path`` whose errors are one-line :class:`StoreError`."""

    path: Path

    def cursor(self, factory: Any = _CheckedCursor) -> sqlite3.Cursor:  # type: ignore[override]
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:  # type: ignore[override]
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, seq: Iterable[Any]) -> sqlite3.Cursor:  # type: ignore[override]
        return self.cursor().executemany(sql, seq)

    def executescript(self, script: str) -> sqlite3.Cursor:  # type: ignore[override]
        try:
            return super().executescript(script)
        except sqlite3.Error as err:
            raise store_error(err, self.path) from err


def connect(path: Path, *, read_only: bool, timeout: float = 60.0) -> CheckedConnection:
    """A checked connection to ``path`` in autocommit mode, with a busy timeout.

    ``read_only=True`` opens with ``mode=ro`` (the file must exist); when its folder is
    read-only and no write-ahead log is pending, it falls back to ``immutable=1``, which
    needs no ``-shm``/``-wal`` files next to the database.
    """
    if not read_only:
        con = _open(str(path), uri=False, timeout=timeout, path=path)
        con.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        con.execute("PRAGMA synchronous=NORMAL")
        return con
    if not path.is_file():
        raise StoreError(f"{path} does not exist; give the experiment folder that `nas search` wrote (its workdir).")
    uri = path.resolve().as_uri()
    con = _open(uri + "?mode=ro", uri=True, timeout=timeout, path=path)
    try:
        sqlite3.Connection.execute(con, "SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as err:
        con.close()
        if _writable(path.parent) or _wal_pending(path):
            raise store_error(err, path) from err
        con = _open(uri + "?mode=ro&immutable=1", uri=True, timeout=timeout, path=path)
    con.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
    return con


def _open(target: str, *, uri: bool, timeout: float, path: Path) -> CheckedConnection:
    try:
        con = sqlite3.connect(target, timeout=timeout, isolation_level=None, uri=uri, factory=CheckedConnection,
                              check_same_thread=True)
    except sqlite3.Error as err:
        raise store_error(err, path) from err
    con.path = path
    return con


def _writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK)


def _wal_pending(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    return wal.is_file() and wal.stat().st_size > 0


def check_store(con: sqlite3.Connection, path: Path, schema_version: int, *, read_only: bool) -> bool:
    """Check that ``path`` is a nas-core store of a schema this code reads; True when it is empty (new).

    Refuses an SQLite file of another application, a store without or with an unknown
    ``schema_version`` (newer stores are never read by older code), and an empty database
    opened for reading.
    """
    tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
    if not tables:
        if read_only:
            raise StoreError(f"{path} is an empty SQLite file, not a nas-core trial store (no trials were ever "
                             "written to it); give the experiment folder that `nas search` wrote.")
        return True
    if not STORE_TABLES <= tables:
        shown = ", ".join(sorted(tables)[:6]) + (", ..." if len(tables) > 6 else "")
        raise StoreError(f"{path} is an SQLite database of another application (tables: {shown}), not a nas-core "
                         "trial store; give the experiment folder that `nas search` wrote, or move this file away.")
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        raise StoreError(f"{path} has no schema_version in its meta table, so it was not written by nas-core or "
                         f"was edited; {_REPLACE_FIX}.")
    found = loads(row[0], path, "meta value 'schema_version'")
    readable = f"schema 1 to {schema_version}" if schema_version > 1 else "schema 1"
    if isinstance(found, bool) or not isinstance(found, int) or not 1 <= found <= schema_version:
        newer = isinstance(found, int) and not isinstance(found, bool) and found > schema_version
        if newer:
            raise StoreError(f"{path} has store schema {found}, written by a newer nas-core; this one reads "
                             f"{readable}. Upgrade nas-core (`pip install -U nas-core`) to read it, or "
                             f"{_START_OVER}.")
        raise StoreError(f"{path} has an invalid schema_version {found!r} (this nas-core reads {readable}); "
                         f"{_REPLACE_FIX}.")
    return False


def loads(text: str | bytes, path: Path, what: str) -> Any:
    """``json.loads(text)``; invalid JSON is a :class:`StoreError` naming the file and ``what`` held it."""
    try:
        return json.loads(text)
    except (TypeError, ValueError) as err:
        shown = repr(text if not isinstance(text, str) or len(text) < 40 else text[:37] + "...")
        raise StoreError(f"{path}: the {what} is not valid JSON ({shown}: {err}); the store was edited or "
                         f"damaged: correct it with an SQLite client, {_REPLACE_FIX}.") from err


def store_error(err: sqlite3.Error, path: Path) -> StoreError:
    """The one-line :class:`StoreError` for an sqlite3 error on the store at ``path``."""
    name = getattr(err, "sqlite_errorname", "") or ""
    text = str(err)
    if name == "SQLITE_NOTADB" or name.startswith("SQLITE_CORRUPT") or "malformed" in text:
        return StoreError(_diagnose(path, text))
    if name == "SQLITE_FULL" or "disk is full" in text:
        return StoreError(f"disk full while writing {path}: the store is intact and holds every trial finished "
                          "before this one; free space on its disk and rerun the same command to resume.")
    if name.startswith("SQLITE_READONLY") or name in ("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH"):
        return StoreError(f"cannot write {path} ({text}): its folder or file system is read-only or belongs to "
                          "another user; run the search with a writable --workdir, or fix the permissions.")
    if name.startswith("SQLITE_BUSY") or name.startswith("SQLITE_LOCKED"):
        return StoreError(f"{path} stayed locked by another process ({text}); wait for the other `nas search` "
                          "to finish, or stop it, then rerun.")
    if name.startswith("SQLITE_IOERR"):
        return StoreError(f"I/O error on {path} ({text}): the disk or network file system failed; check it "
                          "and rerun the same command to resume.")
    return StoreError(f"{path}: SQLite error {name or type(err).__name__} ({text}); {_DAMAGED_FIX}.")


def _diagnose(path: Path, text: str) -> str:
    """Why the file at ``path`` is not a readable store, from its size and SQLite header."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(100)
    except OSError as err:
        return f"{path} cannot be read ({err.strerror or err}); check the file and its permissions."
    if size == 0:
        return f"{path} is empty (0 bytes), not a trial store; {_REPLACE_FIX}."
    if not head.startswith(_MAGIC):
        return (f"{path} is not an SQLite database (its first bytes are {head[:8]!r}); it was overwritten or "
                f"replaced: {_REPLACE_FIX}.")
    if len(head) == 100:
        page_size = int.from_bytes(head[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        pages = int.from_bytes(head[28:32], "big")
        counter_ok = head[24:28] == head[92:96]
        if counter_ok and page_size and size < pages * page_size:
            return (f"{path} is truncated: {size} bytes, but its header says {pages} pages of {page_size} bytes "
                    f"({pages * page_size} bytes); {_DAMAGED_FIX}.")
        if page_size and size % page_size:
            return (f"{path} is truncated: {size} bytes is not a whole number of its {page_size}-byte pages; "
                    f"{_DAMAGED_FIX}.")
    return f"{path} is damaged ({text}); {_DAMAGED_FIX}."
