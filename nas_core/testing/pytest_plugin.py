"""pytest fixtures for plugin authors (installed with nas-core as a ``pytest11`` plugin).

``nas_registry``
    A fresh registry with only the core's own components, installed as the process-wide
    registry for the test. Call ``nas_registry.add_plugin(obj, name=..., distribution=...)``.
``nas_plugin``
    ``nas_plugin(obj, name=None, distribution="test-plugin", version="0.0.0")`` registers a
    throw-away plugin (a module, class or object with hookimpls) into ``nas_registry``.
``fake_distribution``
    ``fake_distribution(name, version, modules={...}, entry_points={"nas_core": {...}})``
    installs a fake distribution found by ``importlib.metadata`` and resets the registry
    so the next lookup discovers it through its entry point.
``nas_one_torch_thread``
    Runs the test on one intra-op torch thread (tiny networks train fastest so, and a busy
    machine slows them least): ``pytestmark = pytest.mark.usefixtures("nas_one_torch_thread")``.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from nas_core.registry.registry import Registry, reset_registry
from nas_core.testing.fake_dist import FakeDistribution, make_fake_distribution


@pytest.fixture
def nas_registry() -> Iterator[Registry]:
    reg = Registry(load_entry_points=False)
    old = reset_registry(reg)
    try:
        yield reg
    finally:
        reset_registry(old)


@pytest.fixture
def nas_plugin(nas_registry: Registry) -> Callable[..., str]:
    counter = {"n": 0}

    def add(obj: Any, name: str | None = None, distribution: str = "test-plugin", version: str = "0.0.0") -> str:
        counter["n"] += 1
        return nas_registry.add_plugin(obj, name=name or f"test-plugin-{counter['n']}",
                                       distribution=distribution, version=version)

    return add


@pytest.fixture
def fake_distribution(tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., FakeDistribution]]:
    made: list[FakeDistribution] = []
    # the fake distributions are discovered whatever NAS_CORE_PLUGINS / NAS_CORE_DISABLE_PLUGINS say
    monkeypatch.delenv("NAS_CORE_PLUGINS", raising=False)
    monkeypatch.delenv("NAS_CORE_DISABLE_PLUGINS", raising=False)
    old = reset_registry(None)

    def make(name: str, version: str = "0.0.1", modules: dict | None = None,
             entry_points: dict | None = None) -> FakeDistribution:
        dist = make_fake_distribution(tmp_path_factory.mktemp("fakedist"), name, version, modules, entry_points)
        made.append(dist)
        reset_registry(None)
        return dist

    try:
        yield make
    finally:
        for d in made:
            d.uninstall()
        reset_registry(old)


@pytest.fixture
def nas_one_torch_thread() -> Iterator[None]:
    from nas_core.threads import torch_threads  # imports torch: only when a test asks

    with torch_threads(1):
        yield
