"""Two digits spaces (scikit-learn's 8x8 ``load_digits``) evaluated exhaustively by
``make_digits_tables.py``; the search-quality and one-shot benchmarks read their tables
(``benchmarks/data/digits_wide.json.gz`` and ``digits_deep.json.gz``).

* :class:`DigitsWide` (2,304 samples): a CNN of widths, kernels, operations (convs,
  depthwise-separable convs, identity) and a shared activation; every decision can be
  mixed by DARTS / ProxylessNAS.
* :class:`DigitsDeep` (510 distinct networks): a stem, then a ``Repeat`` of 0..3 residual
  blocks, each a LayerChoice of conv 3x3, depthwise-separable conv, conv 5x5 or a
  self-attention block over the 16 positions of the 4x4 map. Blocks beyond the depth are
  unused: :func:`canonical` maps a sample to the one the table stores.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import torch
from torch import nn as tnn

import nas_core.nn as nn
from nas_core import InputChoice, LayerChoice, ModelSpace, Repeat, ValueChoice

__all__ = ["DigitsWide", "DigitsDeep", "SPACES", "canonical"]


def _acts() -> dict[str, tnn.Module]:
    return {"relu": tnn.ReLU(), "tanh": tnn.Tanh()}


class SepConv(tnn.Module):
    """Depthwise 3x3 then pointwise 1x1, ``channels`` -> ``out`` (value choices allowed)."""

    def __init__(self, channels: Any, out: Any) -> None:
        super().__init__()
        self.dw = nn.Conv2d(channels, channels, 3, padding=1, groups=channels)
        self.pw = nn.Conv2d(channels, out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pw(self.dw(x))


class DigitsWide(ModelSpace):
    """conv(1->w1, k1) -> act -> op2 (w1->w1) -> maxpool -> conv(w1->w2, k3) -> act -> op4 (w2->w2)
    -> pool (avg | max) -> linear(w2*4 -> 10).  4*2*4*3*2*3*2*2 = 2,304 samples."""

    def __init__(self) -> None:
        super().__init__()
        w1 = ValueChoice([8, 16, 24, 32], label="width1")
        k1 = ValueChoice([3, 5], label="kernel1")
        w2 = ValueChoice([16, 32, 48], label="width2")
        k3 = ValueChoice([1, 3], label="kernel3")
        self.conv1 = nn.Conv2d(1, w1, k1, padding=k1 // 2)
        self.act1 = LayerChoice(_acts(), label="act")
        self.op2 = LayerChoice(
            {
                "conv3x3": nn.Conv2d(w1, w1, 3, padding=1),
                "conv5x5": nn.Conv2d(w1, w1, 5, padding=2),
                "sepconv3x3": SepConv(w1, w1),
                "identity": tnn.Identity(),
            },
            label="op2",
        )
        self.conv3 = nn.Conv2d(w1, w2, k3, padding=k3 // 2)
        self.act3 = LayerChoice(_acts(), label="act")
        self.op4 = LayerChoice(
            {"conv3x3": nn.Conv2d(w2, w2, 3, padding=1), "sepconv3x3": SepConv(w2, w2), "identity": tnn.Identity()},
            label="op4",
        )
        self.pool = InputChoice(n_candidates=2, n_chosen=1, choose_from=["avg", "max"], label="pool")
        self.fc = nn.Linear(w2 * 4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.op2(self.act1(self.conv1(x)))
        x = tnn.functional.max_pool2d(x, 2)
        x = self.op4(self.act3(self.conv3(x)))
        x = self.pool([tnn.functional.avg_pool2d(x, 2), tnn.functional.max_pool2d(x, 2)])
        return self.fc(torch.flatten(x, 1))


class Attention(tnn.Module):
    """Single-head self-attention over the positions of a (B, C, H, W) map, C a value choice."""

    def __init__(self, channels: Any, max_channels: int) -> None:
        super().__init__()
        self.q = nn.Linear(channels, channels)
        self.k = nn.Linear(channels, channels)
        self.v = nn.Linear(channels, channels)
        self.scale = 1.0 / math.sqrt(max_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        t = x.flatten(2).transpose(1, 2)
        att = torch.softmax(self.q(t) @ self.k(t).transpose(1, 2) * self.scale, dim=-1)
        return (att @ self.v(t)).transpose(1, 2).reshape(b, c, h, w)


class Residual(tnn.Module):
    def __init__(self, op: tnn.Module) -> None:
        super().__init__()
        self.op = op

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.op(x))


def _block_ops(w: Any, max_w: int) -> dict[str, tnn.Module]:
    return {
        "conv3x3": nn.Conv2d(w, w, 3, padding=1),
        "sepconv3x3": SepConv(w, w),
        "conv5x5": nn.Conv2d(w, w, 5, padding=2),
        "attention": Attention(w, max_w),
    }


class DigitsDeep(ModelSpace):
    """conv(1->w, k) -> relu -> maxpool -> Repeat(0..3 of relu(x + op_i(x))) -> avgpool -> linear(w*4 -> 10).
    3 * 2 * (1 + 4 + 16 + 64) = 510 distinct networks (1,536 samples before :func:`canonical`)."""

    def __init__(self) -> None:
        super().__init__()
        widths = [16, 24, 32]
        w = ValueChoice(widths, label="width")
        k = ValueChoice([3, 5], label="kernel")
        self.stem = nn.Conv2d(1, w, k, padding=k // 2)
        self.blocks = Repeat(
            lambda i: Residual(LayerChoice(_block_ops(w, max(widths)), label=f"block{i}")),
            ValueChoice([0, 1, 2, 3], label="depth"),
        )
        self.fc = nn.Linear(w * 4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = tnn.functional.max_pool2d(torch.relu(self.stem(x)), 2)
        x = tnn.functional.avg_pool2d(self.blocks(x), 2)
        return self.fc(torch.flatten(x, 1))


SPACES: dict[str, type[ModelSpace]] = {"digits_wide": DigitsWide, "digits_deep": DigitsDeep}


def canonical(space_name: str, sample: Mapping[str, Any]) -> dict[str, Any]:
    """The table's form of ``sample``: for ``digits_deep``, blocks beyond the depth set to their first op."""
    out = dict(sample)
    if space_name == "digits_deep":
        for i in range(int(out["depth"]), 3):
            out[f"block{i}"] = "conv3x3"
    return out
