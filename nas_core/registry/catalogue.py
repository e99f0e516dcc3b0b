"""The component names the nas-core project's own distributions register, for install hints.

When a name is not registered, the error says which distribution to install only when
this catalogue knows one that provides that name (a test checks every entry against the
plugins in this repository); otherwise it says that none is known, rather than guessing
a distribution name that may not exist.
"""
from __future__ import annotations

__all__ = ["KNOWN_DISTRIBUTIONS", "PLURALS", "plural", "distribution_for"]

#: (kind, registered name) -> the distribution on the package index that registers it
KNOWN_DISTRIBUTIONS: dict[tuple[str, str], str] = {
    ("executor", "in-process"): "nas-core",
    ("executor", "process-pool"): "nas-core",
    ("executor", "ray"): "nas-executor-ray",
    ("profiler", "device"): "nas-profiler-device",
    ("profiler", "flops"): "nas-profiler-flops",
    ("profiler", "nn-meter"): "nas-profiler-nnmeter",
    ("profiler", "params"): "nas-profiler-params",
    ("pruner", "asha"): "nas-pruner-asha",
    ("pruner", "median"): "nas-pruner-median",
    ("pruner", "optuna-median"): "nas-pruner-optuna",
    ("pruner", "optuna-percentile"): "nas-pruner-optuna",
    ("pruner", "optuna-wilcoxon"): "nas-pruner-optuna",
    ("strategy", "darts"): "nas-strategy-darts",
    ("strategy", "enas"): "nas-strategy-enas",
    ("strategy", "guided-evolution"): "nas-strategy-evolution",
    ("strategy", "tpe"): "nas-strategy-optuna",
    ("strategy", "nsga2"): "nas-strategy-optuna",
    ("strategy", "ppo"): "nas-strategy-ppo",
    ("strategy", "proxyless"): "nas-strategy-proxyless",
    ("strategy", "random"): "nas-strategy-random",
    ("strategy", "regularized-evolution"): "nas-strategy-evolution",
    ("trainer", "classification"): "nas-trainer-classification",
    ("trainer", "script"): "nas-trainer-script",
}

PLURALS = {"strategy": "strategies", "kind": "kinds"}


def plural(kind: str) -> str:
    """``"strategy"`` -> ``"strategies"``, ``"profiler"`` -> ``"profilers"``."""
    return PLURALS.get(kind, kind + "s")


def distribution_for(kind: str, name: str) -> str | None:
    """The known distribution that registers ``name`` as a ``kind``, or None."""
    return KNOWN_DISTRIBUTIONS.get((kind, name))
