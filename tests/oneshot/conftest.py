import pytest

from nas_core.threads import torch_threads


@pytest.fixture(autouse=True)
def _one_thread():
    """One-shot tests train tiny networks: one intra-op thread is fastest, and immune to a busy machine."""
    with torch_threads(1):
        yield
