"""A registry holding the core's components plus the plugins a test names, and nothing else installed.

For a plugin's tests that must mean the same whatever else the environment loads: the test
names the plugin modules it relies on (a formula pack, a profiler), and only those are
registered, each under its distribution's name::

    import nas_shapes_torch

    @pytest.fixture(autouse=True, scope="module")
    def _torch_formulas():
        with using_plugins(nas_shapes_torch):
            yield

(The core's own tests, ``tests/``, import and register no plugin at all: docs/contributing.md.)
"""
from __future__ import annotations

import contextlib
import importlib.metadata as md
from types import ModuleType
from typing import Iterator

from nas_core.registry.registry import Registry, reset_registry

__all__ = ["registry_with", "using_plugins"]


def _distribution_of(module: ModuleType) -> str:
    top = module.__name__.partition(".")[0]
    found = md.packages_distributions().get(top)
    return found[0] if found else top.replace("_", "-")


def registry_with(*plugins: ModuleType) -> Registry:
    """A fresh registry (no entry points loaded) with the core's components and ``plugins`` (plugin modules,
    each registered under its distribution's name)."""
    registry = Registry(load_entry_points=False)
    for module in plugins:
        distribution = _distribution_of(module)
        registry.add_plugin(module, name=distribution.removeprefix("nas-"), distribution=distribution)
    return registry


@contextlib.contextmanager
def using_plugins(*plugins: ModuleType) -> Iterator[Registry]:
    """Install :func:`registry_with` ``(*plugins)`` as the process-wide registry for the block."""
    registry = registry_with(*plugins)
    old = reset_registry(registry)
    try:
        yield registry
    finally:
        reset_registry(old)
