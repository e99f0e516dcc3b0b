"""One search per experiment folder: a second one is refused at once, a dead holder's lock is taken over,
readers are never blocked; ``--workdir`` and the other overrides reach the experiment."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from nas_core.cli.main import cli
from nas_core.errors import ExperimentInUseError
from nas_core.experiment import TrialStore, load_config
from nas_core.experiment.lock import LOCK_FILENAME, ExperimentLock, lock_holder

from exp_configs import write_toy

HOLD = ("import sys, time\n"
        "from nas_core.experiment.lock import ExperimentLock\n"
        "lock = ExperimentLock(sys.argv[1]).acquire()\n"
        "print('locked', flush=True)\n"
        "time.sleep(120)\n")


def _holder(folder):
    """A separate process holding the folder's lock (the test kills it)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def _stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(10)


@pytest.mark.slow
def test_second_search_on_a_locked_folder_is_refused_at_once_and_results_still_read(tmp_path):
    cfg = write_toy(tmp_path, max_trials=2)
    first = CliRunner().invoke(cli, ["search", str(cfg), "--no-progress"])
    assert first.exit_code == 0, first.output
    holder = _holder(tmp_path / "out")
    try:
        t0 = time.monotonic()
        second = CliRunner().invoke(cli, ["search", str(cfg), "--no-progress", "--max-trials", "6"])
        assert second.exit_code == 1 and second.output.startswith("Error: ") and len(second.output.splitlines()) == 1
        assert (f"experiment folder {tmp_path / 'out'} is in use by process {holder.pid} on host "
                f"{socket.gethostname()}") in second.output
        assert "Traceback" not in second.output and time.monotonic() - t0 < 30
        assert len(TrialStore(tmp_path / "out").trials()) == 2  # nothing was run, nothing lost
        over = CliRunner().invoke(cli, ["search", str(cfg), "--no-progress", "--overwrite"])
        assert over.exit_code == 1 and "in use by process" in over.output
        assert len(TrialStore(tmp_path / "out").trials()) == 2  # --overwrite wiped nothing under the lock
        read = CliRunner().invoke(cli, ["results", str(tmp_path / "out")])  # readers are not blocked
        assert read.exit_code == 0 and "succeeded" in read.output
    finally:
        _stop(holder)


@pytest.mark.slow
def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    holder = _holder(tmp_path)
    assert lock_holder(tmp_path)["pid"] == holder.pid
    with pytest.raises(ExperimentInUseError, match=f"in use by process {holder.pid}"):
        ExperimentLock(tmp_path).acquire()
    _stop(holder)  # kill -9: the OS drops its lock
    with ExperimentLock(tmp_path) as lock:
        assert lock.held and lock_holder(tmp_path)["pid"] == os.getpid()
        with pytest.raises(ExperimentInUseError, match=f"in use by process {os.getpid()}"):
            ExperimentLock(tmp_path).acquire()  # a second search in this very process is refused too
    with ExperimentLock(tmp_path):  # released: free again
        pass
    assert (tmp_path / LOCK_FILENAME).exists()


def test_every_cli_override_reaches_the_experiment(tmp_path):
    cfg = load_config(write_toy(tmp_path, max_trials=8, seed=3, workdir="configured"))
    exp = cfg.build(workdir=str(tmp_path / "fresh"), max_trials=1, seed=7, executor="process-pool", workers=3,
                    max_duration=42.0, overwrite=True, progress=False)
    assert exp.workdir == tmp_path / "fresh"
    assert (exp.max_trials, exp.seed, exp.max_duration, exp.overwrite, exp.progress) == (1, 7, 42.0, True, False)
    assert type(exp.executor).__name__ == "ProcessPoolExecutor" and exp.executor.max_workers == 3
    exp.executor.shutdown()


def test_workdir_override_with_overwrite_leaves_the_configured_folder_alone(tmp_path):
    cfg = write_toy(tmp_path, max_trials=2, workdir="runs/wd")
    assert CliRunner().invoke(cli, ["search", str(cfg), "--no-progress"]).exit_code == 0
    result = CliRunner().invoke(cli, ["search", str(cfg), "--workdir", str(tmp_path / "runs" / "fresh"),
                                      "--overwrite", "--max-trials", "1", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert f"experiment folder: {tmp_path / 'runs' / 'fresh'}" in result.output
    assert len(TrialStore(tmp_path / "runs" / "wd").trials()) == 2
    assert len(TrialStore(tmp_path / "runs" / "fresh").trials()) == 1


def test_a_folder_that_cannot_be_created_is_one_line(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    cfg = write_toy(tmp_path, max_trials=1, workdir="file/run")
    result = CliRunner().invoke(cli, ["search", str(cfg), "--no-progress"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"Error: cannot write in the experiment folder {tmp_path / 'file' / 'run'} (" in result.output
    assert "--workdir" in result.output
