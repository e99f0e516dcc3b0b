import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """One-shot tests train tiny networks: one intra-op thread is fastest, and immune to a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
