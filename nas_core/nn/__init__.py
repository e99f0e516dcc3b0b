"""``import nas_core.nn as nn``: torch.nn plus the search-space primitives and mutable layers.

Every ``torch.nn`` name is available; ``Conv*d``, ``Linear``, ``BatchNorm*d`` and
``LayerNorm`` accept :class:`ValueChoice` arguments; ``ModelSpace``, ``LayerChoice``,
``InputChoice``, ``ValueChoice`` and ``Repeat`` build the space.
"""
from torch.nn import *  # noqa: F401,F403
from torch.nn import functional  # noqa: F401

from nas_core.nn.layers import (  # noqa: F401
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    Conv1d,
    Conv2d,
    Conv3d,
    LayerNorm,
    Linear,
    MutableLayer,
    Parametrized,
    hparam,
    hparams,
)
from nas_core.space import InputChoice, LayerChoice, ModelSpace, Repeat, ValueChoice  # noqa: F401
