import pytest


@pytest.fixture(autouse=True)
def _one_thread(nas_one_torch_thread):
    """The core's one-shot pieces on torch layers: tiny networks train fastest on one intra-op thread."""
    yield
