"""Shared by the codebase checks: which import names the plugin distributions under ``plugins/`` provide."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]


def read_plugin_packages(plugins: Path = ROOT / "plugins") -> dict[str, str]:
    """Top-level import name of every plugin package -> the folder of its distribution under ``plugins/``."""
    packages: dict[str, str] = {}
    for pyproject in sorted(plugins.glob("*/pyproject.toml")):
        config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        names = {target.split(":")[0].split(".")[0]
                 for target in config.get("project", {}).get("entry-points", {}).get("nas_core", {}).values()}
        find = config.get("tool", {}).get("setuptools", {}).get("packages", {}).get("find", {})
        names |= {pattern.rstrip("*").rstrip(".").split(".")[0] for pattern in find.get("include", [])}
        names |= {child.name for child in pyproject.parent.iterdir()
                  if (child / "__init__.py").is_file() and child.name != "tests"}
        for name in names - {""}:
            packages[name] = pyproject.parent.name
    return packages


@pytest.fixture(scope="session")
def plugin_packages() -> dict[str, str]:
    """Top-level import name of every plugin package -> the folder of its distribution under ``plugins/``."""
    return read_plugin_packages()
