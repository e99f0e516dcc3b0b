import pytest

from nas_core.testing import using_plugins
from nas_core.threads import torch_threads


@pytest.fixture(autouse=True)
def _one_thread():
    """One-shot tests train tiny networks: one intra-op thread is fastest, and immune to a busy machine."""
    with torch_threads(1):
        yield


@pytest.fixture(autouse=True, scope="module")
def _torch_formulas():
    """The MACs profiler traces torch layers: the torch formula pack is registered by name, whatever plugins the
    environment loads (the core's tests run with none)."""
    import nas_shapes_torch

    with using_plugins(nas_shapes_torch):
        yield
