"""One log line per finished trial (``nas search -v`` shows them at INFO level)."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nas_core.experiment.store import TrialRecord

__all__ = ["log_trial", "trial_line"]

log = logging.getLogger("nas_core.experiment.trials")


def trial_line(rec: TrialRecord, units: dict[str, str] | None = None) -> str:
    """``trial 3 succeeded in 1.2 s: accuracy=0.91 fraction, flops=1.2e+05 MACs {sample}`` (error's first line)."""
    units = units or {}
    values = ", ".join(f"{k}={v:.4g}" + (f" {units[k]}" if units.get(k) else "")
                       for k, v in rec.values.items() if isinstance(v, (int, float)))
    took = f" in {rec.duration:.2f} s" if rec.duration else ""
    infeasible = " (infeasible)" if rec.status == "succeeded" and not rec.feasible else ""
    text = f"trial {rec.id} {rec.status}{infeasible}{took}"
    if values:
        text += f": {values}"
    text += f" {rec.sample}"
    if rec.error and (rec.status != "succeeded" or infeasible):
        text += f" -- {rec.error.splitlines()[0]}"
    return text


def log_trial(rec: TrialRecord, units: dict[str, str] | None = None) -> None:
    """Log ``rec`` at INFO level."""
    log.info("%s", trial_line(rec, units))
