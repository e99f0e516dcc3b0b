"""A MobileNetV2-style model space (plain torch.nn + LayerChoice), used by the benchmark and tests.

Each inverted-residual block chooses its kernel size (3/5/7) and expansion ratio (3/6);
blocks after the first of a stage may also be skipped (``"skip"``), as in ProxylessNAS.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

from torch import nn

from nas_core.space import LayerChoice, ModelSpace

__all__ = ["InvertedResidual", "MobileNetV2Space", "MBV2_STAGES"]

#: (expansion is searched) output channels, blocks, first stride, per stage (MobileNetV2's table)
MBV2_STAGES: tuple[tuple[int, int, int], ...] = ((24, 2, 2), (32, 3, 2), (64, 4, 2), (96, 3, 1), (160, 3, 2), (320, 1, 1))


def _divisible(v: float, d: int = 8) -> int:
    return max(d, int(v + d / 2) // d * d)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, kxk depthwise, 1x1 project; residual when shapes allow."""

    def __init__(self, cin: int, cout: int, stride: int, kernel: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        if expand != 1:
            layers += [nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6()]
        layers += [nn.Conv2d(hidden, hidden, kernel, stride, kernel // 2, groups=hidden, bias=False),
                   nn.BatchNorm2d(hidden), nn.ReLU6(), nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2Space(ModelSpace):
    """MobileNetV2 with a LayerChoice per block (labels ``s{stage}b{block}``).

    ``width`` scales every channel count; ``stages`` overrides :data:`MBV2_STAGES`.
    """

    def __init__(self, width: float = 1.0, num_classes: int = 1000, kernels: Sequence[int] = (3, 5, 7),
                 expands: Sequence[int] = (3, 6), stages: Sequence[tuple[int, int, int]] = MBV2_STAGES) -> None:
        super().__init__()
        c0, c1 = _divisible(32 * width), _divisible(16 * width)
        self.stem = nn.Sequential(nn.Conv2d(3, c0, 3, 2, 1, bias=False), nn.BatchNorm2d(c0), nn.ReLU6(),
                                  InvertedResidual(c0, c1, 1, 3, 1))
        blocks, cin = [], c1
        for si, (c, n, s) in enumerate(stages):
            cout = _divisible(c * width)
            for bi in range(n):
                stride = s if bi == 0 else 1
                cands: "OrderedDict[str, nn.Module]" = OrderedDict(
                    (f"k{k}e{e}", InvertedResidual(cin, cout, stride, k, e)) for k in kernels for e in expands)
                if bi > 0:
                    cands["skip"] = nn.Identity()
                blocks.append(LayerChoice(cands, label=f"s{si + 1}b{bi + 1}"))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        last = _divisible(1280 * max(1.0, width))
        self.head = nn.Sequential(nn.Conv2d(cin, last, 1, bias=False), nn.BatchNorm2d(last), nn.ReLU6())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(last, num_classes)

    def forward(self, x):
        x = self.head(self.blocks(self.stem(x)))
        return self.classifier(self.pool(x).flatten(1))
