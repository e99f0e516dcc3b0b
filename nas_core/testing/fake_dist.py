"""Fake installed distributions: a dist-info folder plus modules, found by importlib.metadata."""
from __future__ import annotations

import importlib
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

__all__ = ["FakeDistribution", "make_fake_distribution"]


@dataclass
class FakeDistribution:
    """A distribution written under ``root``; remove it with :meth:`uninstall`."""

    name: str
    version: str
    root: Path
    modules: list[str] = field(default_factory=list)

    def uninstall(self) -> None:
        if str(self.root) in sys.path:
            sys.path.remove(str(self.root))
        for mod in self.modules:
            for key in [k for k in sys.modules if k == mod or k.startswith(mod + ".")]:
                del sys.modules[key]
        importlib.invalidate_caches()


def make_fake_distribution(
    root: Path,
    name: str,
    version: str = "0.0.1",
    modules: Mapping[str, str] | None = None,
    entry_points: Mapping[str, Mapping[str, str]] | None = None,
) -> FakeDistribution:
    """Write modules and a ``<name>-<version>.dist-info`` into ``root`` and put it on ``sys.path``.

    ``modules`` maps a module name (``"my_plugin"``) to its source; ``entry_points`` maps
    a group (``"nas_core"``) to ``{entry-point name: "module[:attr]"}``.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for mod, src in (modules or {}).items():
        (root / f"{mod.replace('.', '/')}.py").parent.mkdir(parents=True, exist_ok=True)
        (root / f"{mod.replace('.', '/')}.py").write_text(textwrap.dedent(src))
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = []
    for group, eps in (entry_points or {}).items():
        lines.append(f"[{group}]")
        lines += [f"{k} = {v}" for k, v in eps.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    return FakeDistribution(name, version, root, list((modules or {}).keys()))
