"""Nested structures holding tensors (module and optimizer states) to and from JSON-safe values.

Tensors keep dtype and shape; dict keys keep their type (optimizer states use int keys);
tuples stay tuples. float32 values survive the JSON round trip exactly.
"""
from __future__ import annotations

from typing import Any

import torch

__all__ = ["to_jsonable", "from_jsonable"]


def to_jsonable(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu()
        return {"__tensor__": t.reshape(-1).tolist(), "dtype": str(t.dtype).removeprefix("torch."), "shape": list(t.shape)}
    if isinstance(obj, dict):
        return {"__dict__": [[to_jsonable(k), to_jsonable(v)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [to_jsonable(v) for v in obj]}
    if isinstance(obj, list):
        return [to_jsonable(v) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot save a value of type {type(obj).__name__} in a strategy state: {obj!r}")


def from_jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            dtype = getattr(torch, obj["dtype"])
            return torch.tensor(obj["__tensor__"], dtype=dtype).reshape(obj["shape"])
        if "__dict__" in obj:
            return {_key(from_jsonable(k)): from_jsonable(v) for k, v in obj["__dict__"]}
        if "__tuple__" in obj:
            return tuple(from_jsonable(v) for v in obj["__tuple__"])
        raise ValueError(f"unexpected saved object with keys {sorted(obj)}")
    if isinstance(obj, list):
        return [from_jsonable(v) for v in obj]
    return obj


def _key(k: Any) -> Any:
    return tuple(k) if isinstance(k, list) else k
