"""Every way the store file can be broken is one line: non-zero exit, no traceback, the file and the fix named."""
from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
import rich.console  # noqa: F401 - imported before the child drops to an unprivileged user who may not read them
import rich.table  # noqa: F401
from click.testing import CliRunner

from nas_core.cli.main import cli
from nas_core.errors import StoreError
from nas_core.experiment import Experiment, TrialRecord, TrialStore
from nas_core.experiment import store_file

import nas_exp_testkit as kit


def make_store(folder: Path, n: int = 60) -> Path:
    store = TrialStore(folder)
    store.set_meta("objectives", [["accuracy", "max"]])
    store.set_meta("labels", ["width"])
    for i in range(1, n + 1):
        store.add_trial(TrialRecord(id=i, batch=i, sample={"width": i % 7}, status="succeeded", score=i / n,
                                    metrics={"accuracy": i / n}, error="x" * 200))
    store.close()  # the last connection checkpoints the WAL into trials.db and removes it
    return folder / "trials.db"


def results(folder: Path) -> tuple[int, str]:
    res = CliRunner().invoke(cli, ["results", str(folder)])
    return res.exit_code, res.output


def assert_one_line(code: int, output: str, *fragments: str) -> None:
    assert code == 1, output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), output
    assert "Traceback" not in output
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def edit(db: Path, statement: str, *params: object) -> None:
    """Change the store behind nas-core's back, as a user with an SQLite client would."""
    con = sqlite3.connect(db)
    con.execute(statement, params)
    con.commit()
    con.close()


def _overwrite(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(data)


def test_truncated_store(tmp_path):
    db = make_store(tmp_path)
    size = db.stat().st_size
    os.truncate(db, size // 2)
    assert_one_line(*results(tmp_path), str(db), "is truncated", f"{size // 2} bytes", "--overwrite")


def test_random_bytes(tmp_path):
    (tmp_path / "trials.db").write_bytes(os.urandom(5000))
    assert_one_line(*results(tmp_path), str(tmp_path / "trials.db"), "is not an SQLite database", "--overwrite")
    with pytest.raises(StoreError, match="is not an SQLite database"):
        TrialStore(tmp_path)  # `nas search` on it: refused, not overwritten
    assert (tmp_path / "trials.db").stat().st_size == 5000


def test_corrupted_page(tmp_path):
    db = make_store(tmp_path)
    con = sqlite3.connect(db)
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'trials'").fetchone()[0]
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    assert con.execute("PRAGMA page_count").fetchone()[0] > root  # the table spans several pages
    con.close()
    _overwrite(db, (root - 1) * page_size, b"\xff" * 16)  # the page type of the table's root page
    assert_one_line(*results(tmp_path), str(db), "is damaged", "malformed", ".recover")


def test_sqlite_file_of_another_application(tmp_path):
    edit(tmp_path / "trials.db", "CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    assert_one_line(*results(tmp_path), "of another application (tables: moz_places)", "move this file away")
    with pytest.raises(StoreError, match="another application"):
        TrialStore(tmp_path)
    tables = sqlite3.connect(tmp_path / "trials.db").execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == [("moz_places",)]  # the writer added nothing to it


def test_invalid_meta_json(tmp_path):
    db = make_store(tmp_path)
    edit(db, "UPDATE meta SET value = '[[\"accuracy\", \"max\"' WHERE key = 'objectives'")
    assert_one_line(*results(tmp_path), str(db), "meta value 'objectives' is not valid JSON", "backup")


def test_invalid_trial_json(tmp_path):
    db = make_store(tmp_path)
    edit(db, "UPDATE trials SET metrics = '{oops' WHERE id = 60")
    assert_one_line(*results(tmp_path), str(db), "trial 60's metrics is not valid JSON")


@pytest.mark.parametrize("version, message", [("99", "store schema 99, written by a newer nas-core"),
                                              ("0", "invalid schema_version 0"),
                                              ('"one"', "invalid schema_version 'one'")])
def test_unknown_schema_version_is_refused(tmp_path, version, message):
    db = make_store(tmp_path)
    edit(db, "UPDATE meta SET value = ? WHERE key = 'schema_version'", version)
    assert_one_line(*results(tmp_path), str(db), message)
    with pytest.raises(StoreError, match=message):
        TrialStore(tmp_path)  # nor resumed


def _experiment(workdir: Path, max_trials: int) -> Experiment:
    space = kit.toy_space()  # FaultyTrainer: failed trials too, with their (long) error text
    return Experiment(space, kit.FaultyTrainer(), kit.ToyRandom(), profilers={"params": kit.ParamsCost(space)},
                      max_trials=max_trials, workdir=workdir, seed=3, progress=False, keep_weights=False)


def _table(folder: Path) -> list[tuple]:
    return [(t.id, t.sample, t.status, repr(t.metrics), t.error and t.error.splitlines()[0])
            for t in TrialStore(folder, read_only=True).trials()]


def test_disk_full_during_a_search_keeps_the_store_intact_and_resumable(tmp_path, monkeypatch):
    _experiment(tmp_path / "ref", 12).run()
    _experiment(tmp_path / "run", 2).run()  # the search's first trials, then the disk fills up
    con = sqlite3.connect(tmp_path / "run" / "trials.db")
    full = con.execute("PRAGMA page_count").fetchone()[0]
    con.close()
    connect = store_file.connect

    def full_disk(path, *, read_only, timeout=60.0):  # SQLite's own limit on the file size: a full disk
        con = connect(path, read_only=read_only, timeout=timeout)
        con.execute(f"PRAGMA max_page_count = {full}")
        return con

    monkeypatch.setattr(store_file, "connect", full_disk)
    with pytest.raises(StoreError, match=r"disk full while writing .*trials.db: the store is intact .* rerun the "
                                         "same command to resume"):
        _experiment(tmp_path / "run", 12).run()
    monkeypatch.setattr(store_file, "connect", connect)
    con = sqlite3.connect(tmp_path / "run" / "trials.db")
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()
    assert 2 <= len(_table(tmp_path / "run")) < 12  # it stopped part-way ...
    _experiment(tmp_path / "run", 12).run()  # ... and the same command finishes it, as if never stopped
    assert _table(tmp_path / "run") == _table(tmp_path / "ref")


def _as_other_user(folder: str, queue) -> None:  # runs in a forked child
    if os.getuid() == 0:  # root ignores file modes: read as nobody
        os.setgid(65534)
        os.setuid(65534)
    out = []
    for args in (["results", folder], ["results", folder, "--json", "--limit", "2"]):
        res = CliRunner().invoke(cli, args)
        out.append((res.exit_code, res.output))
    try:
        TrialStore(folder)
        out.append("opened for writing")
    except StoreError as err:
        out.append(str(err))
    queue.put(out)


@pytest.mark.parametrize("pending_wal", [False, True])
def test_read_only_folder(pending_wal):
    base = Path(tempfile.mkdtemp(prefix="nas-ro-"))  # not under tmp_path: its parents are private to root
    try:
        os.chmod(base, 0o755)
        folder = base / "run"
        make_store(folder, n=5)
        if pending_wal:  # a search was killed with trials still in the write-ahead log
            writer = TrialStore(folder)
            writer.add_trial(TrialRecord(id=6, batch=6, sample={"width": 1}, status="failed"))
            sqlite3.connect(folder / "trials.db").execute("PRAGMA wal_checkpoint(PASSIVE)").close()
        for p in folder.iterdir():
            os.chmod(p, 0o644)
        os.chmod(folder, 0o555)
        ctx = mp.get_context("fork")
        queue = ctx.Queue()
        child = ctx.Process(target=_as_other_user, args=(str(folder), queue))
        child.start()
        (code, text), (jcode, jtext), write = queue.get(timeout=60)
        child.join(30)
        assert code == 0 and f"{6 if pending_wal else 5} trials: " in text, text
        assert jcode == 0 and '"total": ' in jtext
        assert write.startswith(f"cannot write {folder / 'trials.db'}") and "read-only" in write, write
        if pending_wal:
            writer.close()
    finally:
        os.chmod(base / "run", 0o755)
        shutil.rmtree(base)


@pytest.mark.parametrize("breakage, message", [
    ("random", "is not an SQLite database"),
    ("schema", "store schema 99, written by a newer nas-core"),
])
def test_nas_search_on_a_broken_store_is_one_line_and_leaves_it_alone(tmp_path, breakage, message):
    from exp_configs import write_toy

    cfg = write_toy(tmp_path, max_trials=2, workdir="out")
    db = tmp_path / "out" / "trials.db"
    if breakage == "random":
        db.parent.mkdir()
        db.write_bytes(os.urandom(3000))
    else:
        make_store(tmp_path / "out", n=3)
        edit(db, "UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    before = db.read_bytes()
    res = CliRunner().invoke(cli, ["search", str(cfg), "--no-progress"])
    assert res.exit_code == 1 and "Traceback" not in res.output, res.output
    error = [line for line in res.output.splitlines() if line.startswith("Error: ")]
    assert len(error) == 1 and message in error[0] and str(db) in error[0], res.output
    assert db.read_bytes() == before


def test_a_store_written_before_the_told_and_partial_columns_is_read(tmp_path):
    db = tmp_path / "trials.db"
    con = sqlite3.connect(db)  # schema 1 as the first release wrote it
    con.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE trials (id INTEGER PRIMARY KEY, batch INTEGER NOT NULL, sample TEXT NOT NULL,
            sample_key TEXT NOT NULL, status TEXT NOT NULL, score REAL, metrics TEXT NOT NULL, costs TEXT NOT NULL,
            feasible INTEGER NOT NULL, error TEXT, duration REAL, worker TEXT, attempts INTEGER NOT NULL,
            finished REAL NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1'), ('objectives', '[["accuracy", "max"]]');
        INSERT INTO trials VALUES (1, 1, '{"w": 2}', '{"w": 2}', 'succeeded', 0.5, '{"accuracy": 0.5}', '{}', 1,
            NULL, 0.1, 'h:1', 1, 1000.0);
    """)
    con.close()
    before = db.read_bytes()
    code, output = results(tmp_path)
    assert code == 0 and "best: trial #1" in output, output
    assert db.read_bytes() == before  # read as it is: nothing added by a reader
    store = TrialStore(tmp_path)  # a search resuming it adds the columns
    assert store.trial(1).told is None and store.trial(1).metrics == {"accuracy": 0.5}
