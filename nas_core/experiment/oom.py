"""Telling an out-of-memory failure from other errors, on every device.

``torch.OutOfMemoryError`` covers CUDA; a failed CPU allocation is a plain
``RuntimeError`` ("DefaultCPUAllocator: can't allocate memory: you tried to allocate ...")
and MPS has its own text. All of them are recorded as ``out of memory: ...``.
"""
from __future__ import annotations

import torch

__all__ = ["is_out_of_memory"]

_MARKERS = (
    "can't allocate memory",  # torch CPU allocator (DefaultCPUAllocator)
    "out of memory",  # CUDA/MPS/HIP texts raised as RuntimeError by some ops
    "not enough memory",  # Windows CPU allocator
    "failed to allocate memory",
)


def is_out_of_memory(err: BaseException) -> bool:
    """True when ``err`` says that memory could not be allocated."""
    if isinstance(err, (torch.OutOfMemoryError, MemoryError)):
        return True
    if not isinstance(err, RuntimeError):
        return False
    text = str(err).lower()
    return any(m in text for m in _MARKERS)
