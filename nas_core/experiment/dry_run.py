"""Before a search starts: does the configured input shape fit the space at all?

An ``input_shape`` that the space cannot take would otherwise surface one trial at a time
(every sample rejected by its profiler, or failed by its trainer), then as "no trial
succeeded". A dry run of a few frozen samples on the dummy input catches it first: when
every one fails, the error names the layer where the first one failed and its input.
"""
from __future__ import annotations

import json
from typing import Any

from torch import nn

from nas_core.errors import ConfigError
from nas_core.space import search_space
from nas_core.space.diagnose import describe_input, locate_failure

__all__ = ["check_input_fits"]


def _samples(space: Any, count: int, seed: int) -> list[dict[str, Any]]:
    out = [space.default()]
    for i in range(count * 4):
        if len(out) >= count:
            break
        s = space.random(seed + i)
        if s not in out:
            out.append(s)
    return out


def check_input_fits(model: nn.Module, dummy: Any, fieldname: str = "space.input_shape", tries: int = 3,
                     seed: int = 0) -> None:
    """Run the default sample and ``tries - 1`` random ones on ``dummy``; raise when none runs."""
    space = search_space(model)
    first: str | None = None
    samples = _samples(space, tries, seed)
    for sample in samples:
        try:
            frozen = space.freeze(sample).eval()
        except Exception as err:  # noqa: BLE001 - a sample that cannot be built is one more failure
            first = first or f"freezing it failed: {type(err).__name__}: {err}"
            continue
        hit = locate_failure(frozen, dummy)
        if hit is None:
            return
        if first is None:
            path, module, shapes, err = hit
            first = (f"it failed in layer {path!r} ({type(module).__name__}) on input {shapes}: "
                     f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")
    shown = list(getattr(dummy, "shape", [])) or describe_input(dummy)
    raise ConfigError(
        f"{fieldname} {shown} does not fit the space: a dry run of the default sample "
        f"{json.dumps(samples[0], default=repr)} on an input of that shape failed before the search started; {first}"
        f" ({len(samples) - 1} random sample(s) failed too). Set {fieldname} to the shape the space's forward takes, "
        "batch first (e.g. [1, 3, 32, 32]).")
