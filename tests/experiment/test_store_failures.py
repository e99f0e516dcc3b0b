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
    con = sqlite3.connect(tmp_path / "trials.db")
    con.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    con.commit()
    con.close()
    assert_one_line(*results(tmp_path), "of another application (tables: moz_places)", "move this file away")
    with pytest.raises(StoreError, match="another application"):
        TrialStore(tmp_path)
    tables = sqlite3.connect(tmp_path / "trials.db").execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == [("moz_places",)]  # the writer added nothing to it


def test_invalid_meta_json(tmp_path):
    db = make_store(tmp_path)
    con = sqlite3.connect(db)
    con.execute("UPDATE meta SET value = '[[\"accuracy\", \"max\"' WHERE key = 'objectives'")
    con.commit()
    con.close()
    assert_one_line(*results(tmp_path), str(db), "meta value 'objectives' is not valid JSON", "backup")


def test_invalid_trial_json(tmp_path):
    db = make_store(tmp_path)
    con = sqlite3.connect(db)
    con.execute("UPDATE trials SET metrics = '{oops' WHERE id = 60")
    con.commit()
    con.close()
    assert_one_line(*results(tmp_path), str(db), "trial 60's metrics is not valid JSON")


@pytest.mark.parametrize("version, message", [("99", "store schema 99, written by a newer nas-core"),
                                              ("0", "invalid schema_version 0"),
                                              ('"one"', "invalid schema_version 'one'")])
def test_unknown_schema_version_is_refused(tmp_path, version, message):
    db = make_store(tmp_path)
    con = sqlite3.connect(db)
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (version,))
    con.commit()
    con.close()
    assert_one_line(*results(tmp_path), str(db), message)
    with pytest.raises(StoreError, match=message):
        TrialStore(tmp_path)  # nor resumed


def _experiment(workdir: Path, max_trials: int) -> Experiment:
    space = kit.toy_space()
    return Experiment(space, kit.CheapTrainer(), kit.ToyRandom(), profilers={"params": kit.ParamsCost(space)},
                      max_trials=max_trials, workdir=workdir, seed=3, progress=False, keep_weights=False)


def test_disk_full_during_a_search_keeps_the_store_intact_and_resumable(tmp_path, monkeypatch):
    reference = _experiment(tmp_path / "ref", 12)
    reference.run()
    connect = store_file.connect

    def small_disk(path, *, read_only, timeout=60.0):  # SQLite's own limit on the file: a full disk
        con = connect(path, read_only=read_only, timeout=timeout)
        con.execute("PRAGMA max_page_count = 14")
        return con

    monkeypatch.setattr(store_file, "connect", small_disk)
    with pytest.raises(StoreError, match=r"disk full while writing .*trials.db: the store is intact .* rerun the "
                                         "same command to resume"):
        _experiment(tmp_path / "run", 12).run()
    monkeypatch.setattr(store_file, "connect", connect)
    con = sqlite3.connect(tmp_path / "run" / "trials.db")
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    stored = con.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
    con.close()
    assert 0 < stored < 12  # it stopped part-way ...
    _experiment(tmp_path / "run", 12).run()  # ... and the same command finishes it, as if never stopped
    ref = [(t.id, t.sample, t.metrics, t.status) for t in TrialStore(tmp_path / "ref").trials()]
    assert [(t.id, t.sample, t.metrics, t.status) for t in TrialStore(tmp_path / "run").trials()] == ref


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
