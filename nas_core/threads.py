"""Run a block of torch code on a given number of intra-op threads."""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch

__all__ = ["torch_threads"]


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(n)``, restoring the previous count after.

    ``None`` or 0 leaves the thread count as it is.
    """
    before = torch.get_num_threads()
    if not n or n == before:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
