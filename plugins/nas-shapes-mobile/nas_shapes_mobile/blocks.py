"""Mobile blocks: inverted residual (MBConv), squeeze-and-excitation, channel shuffle, DropPath.

Each is a plain ``nn.Module`` built from :mod:`nas_core.nn` layers, so kernel size,
expansion ratio and widths can be :class:`~nas_core.space.ValueChoice` decisions with
weight sharing (the largest kernel and width are allocated; a sample uses the centre of
the kernel and the first channels). Shape inference opens them: everything inside has a
formula in nas-shapes-torch.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

import nas_core.nn as nnn
from nas_core.errors import SpaceDefinitionError
from nas_core.space import LayerChoice
from nas_core.space.expr import is_expr

__all__ = ["make_divisible", "ConvBNAct", "SqueezeExcite", "InvertedResidual", "MBConv", "ChannelShuffle", "DropPath",
           "HardSwish", "HardSigmoid"]

HardSwish = nn.Hardswish  # torch's hard-swish (MobileNetV3's h-swish)
HardSigmoid = nn.Hardsigmoid  # torch's hard-sigmoid (MobileNetV3's h-sigmoid)


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round ``value`` to a multiple of ``divisor``, not below 90% of it (MobileNet's rule)."""
    min_value = min_value or divisor
    new = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new


def _divisible(value: Any, divisor: int) -> Any:
    if is_expr(value):
        return value.map(lambda v: make_divisible(v, divisor))
    return make_divisible(value, divisor)


def _act(activation: Callable[[], nn.Module] | None) -> nn.Module:
    return nn.Identity() if activation is None else activation()


class ConvBNAct(nn.Sequential):
    """Convolution (no bias), batch norm, activation; ``padding`` keeps the size at stride 1.

    ``kernel_size`` and the channels may be choices; ``groups="depthwise"`` makes a
    depthwise convolution over ``in_channels``.
    """

    def __init__(self, in_channels: Any, out_channels: Any, kernel_size: Any = 3, stride: int = 1,
                 groups: Any = 1, activation: Callable[[], nn.Module] | None = nn.ReLU6) -> None:
        if groups == "depthwise":
            groups = in_channels
        padding = kernel_size // 2
        super().__init__(
            nnn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding, groups=groups, bias=False),
            nnn.BatchNorm2d(out_channels),
            _act(activation),
        )


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation: global pool, 1x1 reduce, activation, 1x1 expand, gate, scale.

    ``channels`` may be a choice (expression); the squeezed width is
    ``make_divisible(channels * se_ratio, divisor)`` for each value.
    """

    def __init__(self, channels: Any, se_ratio: float = 0.25, divisor: int = 8,
                 activation: Callable[[], nn.Module] = nn.ReLU, gate: Callable[[], nn.Module] = nn.Hardsigmoid) -> None:
        super().__init__()
        if not 0 < se_ratio <= 1:
            raise SpaceDefinitionError(f"SqueezeExcite se_ratio must be in (0, 1], got {se_ratio!r}.")
        squeezed = _divisible(channels * se_ratio, divisor)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nnn.Conv2d(channels, squeezed, 1)
        self.act = activation()
        self.expand = nnn.Conv2d(squeezed, channels, 1)
        self.gate = gate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.gate(self.expand(self.act(self.reduce(self.pool(x)))))
        return x * s


class DropPath(nn.Module):
    """Stochastic depth: in training, zero whole samples with probability ``p`` (rescaling the rest)."""

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise SpaceDefinitionError(f"DropPath p must be in [0, 1), got {p!r}.")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"p={self.p}"


class InvertedResidual(nn.Module):
    """MobileNetV2 / ProxylessNAS / MobileNetV3 block (MBConv).

    1x1 expansion to ``in_channels * expand_ratio`` (skipped when ``expand_ratio`` is the
    int 1), depthwise ``kernel_size`` convolution with ``stride``, optional
    squeeze-and-excitation, 1x1 projection to ``out_channels``, and a residual connection
    when the block keeps the shape. ``kernel_size`` and ``expand_ratio`` (and the widths)
    may be :class:`~nas_core.space.ValueChoice` s. ``divisor`` rounds the expanded width
    with :func:`make_divisible`; ``se_label`` makes squeeze-excite a choice (a
    ``LayerChoice`` between ``"identity"`` and ``"se"``). Pass ``residual`` explicitly when
    the widths are choices that may differ.
    """

    def __init__(self, in_channels: Any, out_channels: Any, stride: int = 1, expand_ratio: Any = 6,
                 kernel_size: Any = 3, se_ratio: float | None = None,
                 activation: Callable[[], nn.Module] = nn.ReLU6, se_gate: Callable[[], nn.Module] = nn.Hardsigmoid,
                 residual: bool | None = None, drop_path: float = 0.0, divisor: int | None = None,
                 se_label: str | None = None) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise SpaceDefinitionError(f"InvertedResidual stride must be 1 or 2, got {stride!r}.")
        if se_label is not None and not se_ratio:
            raise SpaceDefinitionError("InvertedResidual se_label makes squeeze-excite optional; give se_ratio too.")
        if residual is None:
            if is_expr(in_channels) or is_expr(out_channels):
                if in_channels is not out_channels:
                    raise SpaceDefinitionError(
                        "InvertedResidual cannot tell whether in_channels and out_channels are equal when they are "
                        "choices; pass residual=True or residual=False."
                    )
                residual = stride == 1
            else:
                residual = stride == 1 and in_channels == out_channels
        self.use_residual = residual
        hidden = in_channels * expand_ratio
        if divisor is not None:
            hidden = _divisible(hidden, divisor)
        layers: list[nn.Module] = []
        if not (isinstance(expand_ratio, (int, float)) and expand_ratio == 1):
            # a choice of ratios that includes 1 keeps the 1x1 expansion (in -> in channels) at ratio 1
            layers.append(ConvBNAct(in_channels, hidden, 1, activation=activation))
        else:
            hidden = in_channels
        layers.append(ConvBNAct(hidden, hidden, kernel_size, stride=stride, groups="depthwise", activation=activation))
        if se_ratio:
            se = SqueezeExcite(hidden, se_ratio, gate=se_gate)
            layers.append(LayerChoice({"identity": nn.Identity(), "se": se}, label=se_label) if se_label else se)
        layers.append(ConvBNAct(hidden, out_channels, 1, activation=None))
        self.conv = nn.Sequential(*layers)
        self.drop_path = DropPath(drop_path) if residual and drop_path else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        if self.use_residual:
            return x + self.drop_path(out)
        return out


MBConv = InvertedResidual


class ChannelShuffle(nn.Module):
    """ShuffleNet's channel shuffle over ``groups`` groups (view, transpose, flatten)."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        if not isinstance(groups, int) or groups < 1:
            raise SpaceDefinitionError(f"ChannelShuffle groups must be a positive int, got {groups!r}.")
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        x = x.view(n, self.groups, c // self.groups, h, w)
        return x.transpose(1, 2).reshape(n, c, h, w)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
