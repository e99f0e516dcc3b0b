"""Trial-script mode (seed 004's "distributed NAS"): your own training script is the trial.

In the script::

    import nas_core.trial as nni            # was: import nni
    from nas_core.trial import get_and_apply_next_architecture

    model = Net()
    get_and_apply_next_architecture(model)  # the architecture chosen for this trial
    train(model)
    acc = test(model)
    nni.report_final_result(acc)

Under an experiment, the ``script`` trainer (plugin ``nas-trainer-script``) runs the script
once per trial and passes it, through environment variables, the architecture file
(:data:`ARCHITECTURE_ENV`) and a report file (:data:`REPORT_ENV`) where each report is
appended as one JSON line. Run standalone (no experiment), the first candidate(s) of every
choice are applied and reports are printed: a quick check that the script runs.
"""
from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Any, Mapping

from torch import nn

from nas_core.errors import ConfigError

__all__ = [
    "ARCHITECTURE_ENV",
    "REPORT_ENV",
    "TRIAL_ID_ENV",
    "get_and_apply_next_architecture",
    "get_next_architecture",
    "get_trial_id",
    "is_standalone",
    "report_intermediate_result",
    "report_final_result",
    "read_reports",
]

ARCHITECTURE_ENV = "NAS_TRIAL_ARCHITECTURE"
REPORT_ENV = "NAS_TRIAL_REPORT"
TRIAL_ID_ENV = "NAS_TRIAL_ID"

log = logging.getLogger("nas_core.trial")


def is_standalone() -> bool:
    """True when no experiment runs this script (no architecture was handed to it)."""
    return not os.environ.get(ARCHITECTURE_ENV)


def get_trial_id() -> str:
    """This trial's id under an experiment, ``"STANDALONE"`` otherwise (as NNI)."""
    return os.environ.get(TRIAL_ID_ENV, "STANDALONE")


def get_next_architecture(model: nn.Module) -> dict[str, Any]:
    """The sample chosen for this trial (standalone: every choice's first candidate(s))."""
    from nas_core.space import decode_architecture, load_architecture, search_space

    space = search_space(model)
    path = os.environ.get(ARCHITECTURE_ENV)
    if not path:
        sample = space.default()
        log.info("standalone mode: first candidate(s) of every choice: %s", sample)
        return sample
    return decode_architecture(space, load_architecture(path))


def get_and_apply_next_architecture(model: nn.Module) -> nn.Module:
    """Fix ``model``'s choices, in place, to this trial's architecture; returns the model.

    Every mutable becomes its chosen plain module, so ``model`` trains like any module.
    (If ``model`` itself is a mutable, use the returned module.)
    """
    from nas_core.space import apply_fixed_architecture

    return apply_fixed_architecture(model, get_next_architecture(model))


def _check(value: Any, what: str) -> Any:
    """A report as JSON-ready data: a finite number, or a dict of them (NNI's ``{"default": ..., ...}``)."""
    def number(v: Any, key: str) -> float:
        if hasattr(v, "item") and callable(v.item):
            v = v.item()
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ConfigError(f"{what}: {key} must be a finite number, got {v!r}.")
        return float(v)

    if isinstance(value, Mapping):
        if not value:
            raise ConfigError(f"{what}: an empty dict reports nothing; report a number or {{'default': number}}.")
        return {str(k): number(v, f"value {k!r}") for k, v in value.items()}
    return number(value, "the value")


def _report(kind: str, value: Any) -> None:
    data = _check(value, f"report_{kind}_result")
    path = os.environ.get(REPORT_ENV)
    if not path:
        print(f"[nas_core.trial] {kind} result: {data}", flush=True)
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"type": kind, "value": data}) + "\n")
        fh.flush()


def report_intermediate_result(metric: object) -> None:
    """Report a per-epoch (or per-step) result: a number or a dict of numbers."""
    _report("intermediate", metric)


def report_final_result(metric: object) -> None:
    """Report the trial's result (the objective): a number, or a dict with ``"default"`` and other numbers."""
    _report("final", metric)


def read_reports(path: str | os.PathLike, complete_only: bool = False) -> tuple[list[Any], Any]:
    """``(intermediate results, final result or None)`` from a report file (the last final report counts).

    ``complete_only``: ignore a last line not yet ended (the script may be writing it).
    """
    intermediate: list[Any] = []
    final = None
    p = Path(path)
    if not p.exists():
        return intermediate, final
    text = p.read_text(encoding="utf-8")
    if complete_only:
        text = text[:text.rfind("\n") + 1]
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            kind, value = row["type"], row["value"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise ConfigError(f"report file {str(p)!r} line {n} is not a report ({line[:80]!r}); only nas_core.trial's "
                              "report functions should write it.") from None
        if kind == "final":
            final = value
        else:
            intermediate.append(value)
    return intermediate, final
