"""Write docs/api.md from the docstrings and signatures of the public API.

Run: .venv/bin/python scripts/gen_api_docs.py
"""
from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

MODULES = [
    "nas_core",
    "nas_core.space",
    "nas_core.nn.layers",
    "nas_core.interfaces",
    "nas_core.registry",
    "nas_core.hookspecs",
    "nas_core.shapes",
    "nas_core.strategy",
    "nas_core.strategy.middleware",
    "nas_core.experiment",
    "nas_core.pruning",
    "nas_core.oneshot",
    "nas_core.oneshot.adapter",
    "nas_core.oneshot.estimator",
    "nas_core.oneshot.trainers",
    "nas_core.training",
    "nas_core.trial",
    "nas_core.errors",
]


def _sig(obj: object) -> str:
    try:
        return re.sub(r" at 0x[0-9a-f]+>", ">", str(inspect.signature(obj)))  # stable across runs
    except (TypeError, ValueError):
        return "(...)"


def _doc(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.split("\n\n")[0].replace("\n", " ")


def main() -> None:
    out = ["# API reference", "", "Generated from the docstrings by `scripts/gen_api_docs.py`.", ""]
    seen: set[int] = set()
    for name in MODULES:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        names = getattr(mod, "__all__", None) or [n for n in vars(mod) if not n.startswith("_")]
        rows = []
        for n in names:
            obj = getattr(mod, n, None)
            if obj is None or id(obj) in seen or not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            seen.add(id(obj))
            kind = "class" if inspect.isclass(obj) else "function"
            rows.append(f"### `{name}.{n}{_sig(obj)}`\n\n*{kind}* {_doc(obj)}\n")
            if inspect.isclass(obj):
                for mname, member in vars(obj).items():
                    if mname.startswith("_") or not callable(member) or not getattr(member, "__doc__", None):
                        continue
                    rows.append(f"- `{mname}{_sig(member)}`: {_doc(member)}")
                rows.append("")
        if rows:
            out += [f"## `{name}`", "", _doc(mod), ""] + rows
    Path(__file__).resolve().parents[1].joinpath("docs", "api.md").write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
