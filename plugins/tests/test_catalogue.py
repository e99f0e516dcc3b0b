"""The core's catalogue of known distributions (nas_core/registry/catalogue.py) agrees with this repository's
plugins. It needs every plugin of plugins/ installed (it fails, naming them, when one is not) and discovers them
itself, whatever NAS_CORE_PLUGINS says: so it runs with the plugins' tests (plugins/tests/: checks of all the
repository's plugins together), not with the core's, which run with no plugin."""
from __future__ import annotations

from pathlib import Path

import pytest

from nas_core.registry import Registry
from nas_core.registry.catalogue import KNOWN_DISTRIBUTIONS

OURS = {p.name for p in Path(__file__).resolve().parents[1].iterdir() if (p / "pyproject.toml").exists()}


@pytest.fixture
def everything_installed(monkeypatch):
    monkeypatch.delenv("NAS_CORE_PLUGINS", raising=False)
    monkeypatch.delenv("NAS_CORE_DISABLE_PLUGINS", raising=False)
    assert OURS, "found no plugin distribution (a folder with a pyproject.toml) beside plugins/tests"
    registry = Registry()
    loaded = {distribution for _, distribution, _ in registry.plugins()}
    assert OURS <= loaded, f"plugins not installed (run scripts/setup.sh): {sorted(OURS - loaded)}"
    return registry


def test_catalogue_names_only_what_those_distributions_register(everything_installed):
    registered = {(c.kind, c.name): c.distribution for c in everything_installed.components()}
    for key, dist in KNOWN_DISTRIBUTIONS.items():
        assert registered.get(key) == dist, f"{key} is registered by {registered.get(key)}, not {dist}"


def test_catalogue_lists_every_name_this_repository_s_plugins_register(everything_installed):
    missing = sorted((c.kind, c.name, c.distribution) for c in everything_installed.components()
                     if c.distribution in OURS | {"nas-core"} and (c.kind, c.name) not in KNOWN_DISTRIBUTIONS)
    assert not missing, f"add these to nas_core/registry/catalogue.py: {missing}"
