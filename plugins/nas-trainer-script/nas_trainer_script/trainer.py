"""ScriptTrainer: a trial is one run of the user's own training command, in a subprocess.

The command gets the trial's architecture and a report file through the environment
variables of :mod:`nas_core.trial`; the script calls ``get_and_apply_next_architecture(model)``
and ``report_final_result(value)`` (and ``report_intermediate_result``). Any executor can run
it: the trainer is an ordinary picklable :class:`~nas_core.Trainer` whose ``fit`` starts the
subprocess where the trial runs. A script that exits with an error, runs over ``timeout``
or reports no final result fails the trial with :class:`ScriptTrialError` and its stderr tail.
"""
from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from torch import nn

from nas_core.errors import ConfigError, NasError
from nas_core.interfaces import Trainer
from nas_core.space import sample_key, sample_of
from nas_core.trial import ARCHITECTURE_ENV, REPORT_ENV, TRIAL_ID_ENV, read_reports

__all__ = ["ScriptTrainer", "ScriptTrialError"]

log = logging.getLogger("nas_core.trial")

_PYTHONS = ("python", "python3", f"python{sys.version_info.major}.{sys.version_info.minor}")


class ScriptTrialError(NasError, RuntimeError):
    """The trial script failed, ran too long, or reported no final result."""


def _intermediate_api() -> Callable[[int, Any], None] | None:
    """The experiment's intermediate-reporting function (``nas_core.pruning.report``), when installed."""
    try:
        from nas_core.pruning import report  # type: ignore[import-not-found]
    except ImportError:
        return None
    return report


def _tail(text: str | bytes | None, limit: int) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = text.strip()
    return text if len(text) <= limit else "..." + text[-limit:]


class ScriptTrainer(Trainer):
    """Runs ``command`` once per trial (NNI's ``trialCommand``) and returns what it reports.

    ``command``: a string (split like a shell would) or a list; a leading ``python`` or
    ``python3`` runs with this interpreter (``sys.executable``), so the script sees the same
    installed packages. ``cwd``: the folder it runs in (default: the current one, fixed at
    construction). ``env``: extra environment variables. ``timeout``: seconds per trial.

    The final report becomes the metrics: a number is the ``objective`` (default
    ``"accuracy"``); a dict maps ``"default"`` (NNI's key) to the objective and keeps its
    other numbers. The intermediate reports of the last trial are in :attr:`last_intermediate`;
    when the experiment's intermediate-reporting API (``nas_core.pruning.report``) is
    installed, each is forwarded to it while the script runs (step = its position), and a
    pruner's stop kills the script and propagates.
    """

    def __init__(self, command: str | Sequence[str], *, objective: str = "accuracy", cwd: str | os.PathLike | None = None,
                 env: Mapping[str, str] | None = None, timeout: float | None = None, tail_chars: int = 2000) -> None:
        args = shlex.split(command) if isinstance(command, str) else list(command)
        if not args or not all(isinstance(a, str) and a for a in args):
            raise ConfigError(f"script trainer command must be a non-empty command line such as 'python train.py', "
                              f"got {command!r}.")
        if not isinstance(objective, str) or not objective:
            raise ConfigError(f"script trainer objective must be a metric name, got {objective!r}.")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
            raise ConfigError(f"script trainer timeout must be a positive number of seconds, got {timeout!r}.")
        if env is not None and not all(isinstance(k, str) and isinstance(v, str) for k, v in dict(env).items()):
            raise ConfigError("script trainer env must map variable names to strings.")
        self.command = args
        self.objective = objective  # type: ignore[misc]
        self.cwd = Path(cwd).resolve() if cwd is not None else Path.cwd()
        if not self.cwd.is_dir():
            raise ConfigError(f"script trainer cwd {str(self.cwd)!r} is not a folder.")
        self.env = dict(env or {})
        self.timeout = timeout
        self.tail_chars = tail_chars
        self.poll_seconds = 0.1
        self.last_intermediate: list[Any] = []

    def _argv(self) -> list[str]:
        head, *rest = self.command
        return [sys.executable, *rest] if head in _PYTHONS else [head, *rest]

    def run(self, sample: Mapping[str, Any]) -> dict[str, float]:
        """Run the command for ``sample``; return the metrics from its final report."""
        argv = self._argv()
        with tempfile.TemporaryDirectory(prefix="nas-trial-") as tmp:
            arch, reports = Path(tmp) / "architecture.json", Path(tmp) / "reports.jsonl"
            arch.write_text(json.dumps(dict(sample)))
            env = {**os.environ, **self.env, ARCHITECTURE_ENV: str(arch), REPORT_ENV: str(reports),
                   TRIAL_ID_ENV: sample_key(sample)[:12]}
            log.debug("trial script %s for %s", argv, dict(sample))
            with open(Path(tmp) / "stdout.txt", "w+") as out, open(Path(tmp) / "stderr.txt", "w+") as err:
                try:
                    proc = subprocess.Popen(argv, cwd=self.cwd, env=env, stdout=out, stderr=err, text=True)
                except FileNotFoundError:
                    raise ScriptTrialError(f"trial command {argv[0]!r} was not found (cwd {self.cwd}); check the "
                                           "command and that it is installed.") from None
                returncode = self._follow(proc, reports, argv, err)
                err.seek(0)
                stderr = err.read()
            intermediate, final = read_reports(reports)
        self.last_intermediate = intermediate
        if returncode != 0:
            raise ScriptTrialError(f"trial script {' '.join(argv)} exited with code {returncode}; stderr tail:\n"
                                   f"{_tail(stderr, self.tail_chars)}")
        if final is None:
            raise ScriptTrialError(
                f"trial script {' '.join(argv)} finished but reported no final result: call "
                "nas_core.trial.report_final_result(value) at its end. stderr tail:\n"
                f"{_tail(stderr, self.tail_chars)}"
            )
        return self.metrics_of(final)

    def _follow(self, proc: subprocess.Popen, reports: Path, argv: list[str], err: Any) -> int:
        """Wait for ``proc``, forwarding its intermediate reports as they come; stop it on timeout or pruning."""
        forward = _intermediate_api()
        start, sent = time.monotonic(), 0
        try:
            while True:
                done = proc.poll() is not None
                if forward is not None:
                    intermediate, _ = read_reports(reports, complete_only=not done)
                    for value in intermediate[sent:]:
                        report = self.intermediate_of(value)
                        if report is not None:  # a learning-curve point: it carries the objective
                            forward(sent, report)  # may raise the pruner's stop
                        sent += 1
                if done:
                    return int(proc.returncode)
                if self.timeout is not None and time.monotonic() - start > self.timeout:
                    proc.kill()
                    proc.wait()
                    err.seek(0)
                    raise ScriptTrialError(f"trial script {' '.join(argv)} ran over its timeout of {self.timeout} s "
                                           f"and was stopped; stderr tail:\n{_tail(err.read(), self.tail_chars)}")
                time.sleep(self.poll_seconds)
        except BaseException:
            if proc.poll() is None:  # pruned, interrupted: the script must not run on
                proc.kill()
                proc.wait()
            raise

    def intermediate_of(self, value: Any) -> Any:
        """An intermediate report as the experiment's reporting API takes it (NNI's ``"default"`` is the objective).

        None for a dict without the objective: it is no point of the learning curve (pruners compare the
        objective), so it is not forwarded.
        """
        if isinstance(value, Mapping):
            if "default" in value:
                value = {(self.objective if k == "default" else k): v for k, v in value.items()}
            if self.objective not in value:
                return None
        return value

    def metrics_of(self, final: Any) -> dict[str, float]:
        """The metrics dict of a final report."""
        if not isinstance(final, Mapping):
            return {self.objective: float(final)}
        out = {("default" if k == "default" else k): float(v) for k, v in final.items()}
        if "default" in out:
            out[self.objective] = out.pop("default")
        if self.objective not in out:
            raise ScriptTrialError(f"the final report {dict(final)} has neither 'default' nor {self.objective!r}; "
                                   f"report a number, or a dict with 'default' (the objective).")
        return out

    def fit(self, model: nn.Module) -> dict[str, float]:
        """Run the script for the architecture ``model`` was frozen from (the script trains its own model)."""
        sample = sample_of(model)
        if sample is None:
            raise ConfigError("the script trainer runs a trial for a sample, but this model was not frozen by a search "
                              "space (space.freeze(sample)); call trainer.run(sample) directly instead.")
        return self.run(sample)

    def __repr__(self) -> str:
        return f"ScriptTrainer({' '.join(self.command)!r}, objective={self.objective!r}, cwd={str(self.cwd)!r})"
