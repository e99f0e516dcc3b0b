"""JSON-safe snapshots of random-number-generator states (for strategy ``state_dict``)."""
from __future__ import annotations

import random
from typing import Any

import torch

__all__ = ["random_state", "set_random_state", "torch_generator_state", "set_torch_generator_state"]


def random_state(rng: random.Random) -> list[Any]:
    """``rng.getstate()`` as nested lists of ints (JSON-serialisable)."""
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def set_random_state(rng: random.Random, state: Any) -> None:
    """Restore a state made by :func:`random_state` (after a JSON round trip)."""
    try:
        version, internal, gauss = state
        rng.setstate((int(version), tuple(int(x) for x in internal), gauss))
    except (TypeError, ValueError) as err:
        raise ValueError(f"not a saved random.Random state: {err}. Pass the value saved by state_dict().") from None


def torch_generator_state(gen: torch.Generator) -> list[int]:
    """A ``torch.Generator``'s state as a list of byte values."""
    return gen.get_state().tolist()


def set_torch_generator_state(gen: torch.Generator, state: Any) -> None:
    """Restore a state made by :func:`torch_generator_state`."""
    gen.set_state(torch.tensor(list(state), dtype=torch.uint8))
