"""The search space as JSON (what NNI's ``nnictl ss_gen`` wrote): one entry per label.

``{"conv1": {"_type": "layer_choice", "_value": ["conv3x3", "conv5x5"], "paths": ["conv1"]}, ...}``:
``_type`` is ``layer_choice``, ``input_choice``, ``choice`` (a ValueChoice) or ``depth``
(a Repeat); ``_value`` lists the domain (candidate names where they exist). The file is
for reading and for other tools; a search reads the space from the model code itself.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from torch import nn

from nas_core.space.model_space import search_space
from nas_core.space.search_space import SearchSpace

__all__ = ["space_to_json", "write_space_json"]

_TYPES = {"layer": "layer_choice", "input": "input_choice", "value": "choice", "depth": "depth"}


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def space_to_json(space: SearchSpace | nn.Module) -> dict[str, Any]:
    """Every choice of ``space``: its type, domain and where it is used."""
    space = space if isinstance(space, SearchSpace) else search_space(space)
    out: dict[str, Any] = {}
    for label, choice in space.choices.items():
        entry: dict[str, Any] = {"_type": _TYPES.get(choice.kind, choice.kind)}
        if choice.kind == "layer" and choice.names:
            entry["_value"] = list(choice.names)
        else:
            entry["_value"] = _plain(choice.domain)
        if choice.kind == "input" and choice.names:
            entry["candidates"] = list(choice.names)
        entry["default"] = _plain(choice.default)
        entry["paths"] = list(choice.paths)
        out[label] = entry
    return out


def write_space_json(space: SearchSpace | nn.Module, file: str | os.PathLike) -> dict[str, Any]:
    """Write :func:`space_to_json` to ``file`` (folders are created); return it."""
    data = space_to_json(space)
    path = Path(file)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return data
