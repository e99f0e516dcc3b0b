"""nas-shapes-mobile: mobile search-space blocks and their formulas.

``InvertedResidual``/``MBConv``, ``SqueezeExcite``, ``ConvBNAct``, ``ChannelShuffle``
and ``DropPath`` are plain modules; shape inference opens all but ``DropPath`` (declared
a leaf costing nothing: an identity at inference) because everything inside them has a
formula in nas-shapes-torch.
"""
from __future__ import annotations

import nas_core
from nas_core.shapes import Formula, same_shape
from nas_shapes_mobile.blocks import (
    ChannelShuffle,
    ConvBNAct,
    DropPath,
    HardSigmoid,
    HardSwish,
    InvertedResidual,
    MBConv,
    SqueezeExcite,
    make_divisible,
)

__all__ = ["ChannelShuffle", "ConvBNAct", "DropPath", "HardSigmoid", "HardSwish", "InvertedResidual", "MBConv",
           "SqueezeExcite", "make_divisible"]


@nas_core.hookimpl
def register_shape_formulas(register):
    # an identity at inference: declared to cost nothing (explicitly, so profilers do not warn)
    register([DropPath], Formula(same_shape, lambda m, out, x: {"elementwise": 0}, name="drop-path"), leaf=True)
