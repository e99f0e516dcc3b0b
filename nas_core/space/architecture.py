"""Architecture files: export a sample to JSON and read one back, in every seed format.

A value in an architecture file can be written as
  * a name (``"conv5x5"``) or an index (``6``) of a LayerChoice candidate,
  * a list of names (``["layer1", "layer3"]``), a list of indices (``[1, 2]``) or a
    multi-hot list of booleans (``[false, true, false]``) for an InputChoice
    (a LayerChoice accepts these too when they pick exactly one candidate),
  * the value itself for a ValueChoice or a Repeat depth.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

from torch import nn

from nas_core.errors import ArchitectureFormatError, InvalidSampleError
from nas_core.space.model_space import search_space
from nas_core.space.search_space import Choice, SearchSpace, freeze_tree

__all__ = ["FORMATS", "export_architecture", "load_architecture", "decode_architecture", "apply_fixed_architecture"]

FORMATS = ("name", "index", "names", "indices", "multihot")


def _encode(choice: Choice, value: Any, fmt: str) -> Any:
    if choice.kind == "layer":
        idx = choice.index(value)
        if fmt in ("name", "names"):
            name = choice.names[idx] if choice.names else idx
            return [name] if fmt == "names" else name
        if fmt in ("index", "indices"):
            return [idx] if fmt == "indices" else idx
        return [i == idx for i in range(len(choice.domain))]
    if choice.kind == "input":
        n = len(choice.names) if choice.names else _n_inputs(choice)
        if fmt in ("name", "names") and choice.names:
            return [choice.names[i] for i in value]
        if fmt == "multihot":
            return [i in value for i in range(n)]
        return list(value)
    return value


def _n_inputs(choice: Choice) -> int:
    return max((max(v) for v in choice.domain if v), default=-1) + 1


def export_architecture(
    space: SearchSpace | nn.Module, sample: Mapping[str, object], fmt: str = "name", file: str | os.PathLike | None = None
) -> dict[str, Any]:
    """Encode ``sample`` in format ``fmt`` (one of :data:`FORMATS`); write it to ``file`` if given."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown architecture format {fmt!r}; use one of {FORMATS}.")
    space = space if isinstance(space, SearchSpace) else search_space(space)
    sample = space.validate(sample)
    arch = {label: _encode(space.choices[label], value, fmt) for label, value in sample.items()}
    if file is not None:
        path = Path(file)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(arch, indent=2) + "\n")
    return arch


def _bad(label: str, value: Any, choice: Choice, why: str) -> ArchitectureFormatError:
    names = f" names {choice.names}," if choice.names else ""
    return ArchitectureFormatError(
        f"architecture entry {label!r}: {value!r} {why}. This {choice.kind} choice accepts{names} "
        f"indices 0..{len(choice.names or []) - 1 if choice.names else _size(choice) - 1}"
        + (", lists of them or a multi-hot list" if choice.kind != "value" else "")
        + f"; allowed values: {choice.domain[:12]}."
    )


def _size(choice: Choice) -> int:
    return len(choice.domain) if choice.kind == "layer" else _n_inputs(choice)


def _decode(label: str, choice: Choice, value: Any) -> Any:
    if choice.kind in ("value", "depth"):
        return value
    names = choice.names or []
    n = len(choice.domain) if choice.kind == "layer" else (len(names) if names else _n_inputs(choice))

    def to_index(v: Any) -> int:
        if isinstance(v, bool):
            raise _bad(label, value, choice, "mixes booleans with names or indices")
        if isinstance(v, str):
            if v in names:
                return names.index(v)
            raise _bad(label, value, choice, f"names no candidate ({v!r} is unknown)")
        if isinstance(v, int):
            if 0 <= v < n:
                return v
            raise _bad(label, value, choice, f"has index {v} out of range")
        raise _bad(label, value, choice, f"has a {type(v).__name__}, not a name or an index")

    if isinstance(value, list):
        if value and all(isinstance(v, bool) for v in value):
            if len(value) != n:
                raise _bad(label, value, choice, f"is a multi-hot list of length {len(value)}, expected {n}")
            indices = [i for i, v in enumerate(value) if v]
        else:
            indices = sorted(to_index(v) for v in value)
    else:
        indices = [to_index(value)]
    if choice.kind == "layer":
        if len(indices) != 1:
            raise _bad(label, value, choice, "must pick exactly one candidate")
        return choice.domain[indices[0]]
    return indices


def decode_architecture(space: SearchSpace | nn.Module, arch: Mapping[str, Any]) -> dict[str, Any]:
    """Turn an architecture dict in any accepted format into a validated sample."""
    space = space if isinstance(space, SearchSpace) else search_space(space)
    if not isinstance(arch, Mapping):
        raise ArchitectureFormatError(
            f"an architecture must be a JSON object mapping labels to choices, got {type(arch).__name__}."
        )
    sample: dict[str, Any] = {}
    for label, value in arch.items():
        if label not in space.choices:
            try:
                space.validate({label: value})
            except InvalidSampleError as err:
                raise ArchitectureFormatError(f"architecture has {err}") from None
        sample[label] = _decode(label, space.choices[label], value)
    try:
        return space.validate(sample)
    except InvalidSampleError as err:
        raise ArchitectureFormatError(f"architecture does not fit the space: {err}") from None


def load_architecture(path_or_dict: str | os.PathLike | Mapping[str, Any]) -> dict[str, Any]:
    """Read an architecture JSON file (or pass a dict through)."""
    if isinstance(path_or_dict, Mapping):
        return dict(path_or_dict)
    path = Path(path_or_dict)
    if not path.exists():
        raise ArchitectureFormatError(f"architecture file {str(path)!r} does not exist.")
    from nas_core.files import read_text_file

    text = read_text_file(path, "architecture file", "a JSON file mapping labels to choices", ArchitectureFormatError)
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        raise ArchitectureFormatError(
            f"architecture file {str(path)!r} is not valid JSON ({err}); it should map labels to choices."
        ) from None


def apply_fixed_architecture(
    model: nn.Module, path_or_dict: str | os.PathLike | Mapping[str, Any], example_input: Any = None
) -> nn.Module:
    """Fix ``model``'s decisions in place from an architecture file or dict; return it.

    Every mutable is replaced by its chosen plain module, so the model trains and runs
    like any ``nn.Module``. With ``example_input`` the result is run once to check shapes.
    """
    space = search_space(model)
    sample = decode_architecture(space, load_architecture(path_or_dict))
    space.set_current(sample)
    frozen = freeze_tree(model, sample)
    model.__dict__.pop("_nas_space", None)
    example = example_input if example_input is not None else model.__dict__.pop("_nas_example_input", None)
    if example is not None:
        from nas_core.space.diagnose import check_runs

        check_runs(frozen, example, sample)
    return frozen
