"""A MobileNetV2-style model space shared by the nn-Meter profiler tests and benchmark."""
from __future__ import annotations

from torch import nn

import nas_core.nn as nnn
from nas_core.space import LayerChoice, ModelSpace, Repeat, ValueChoice


def conv_bn_relu(cin, cout, k, stride=1, groups=1, relu=True, conv=nn.Conv2d):
    layers = [conv(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand, k):
        super().__init__()
        hidden = cin * expand
        self.body = nn.Sequential(
            conv_bn_relu(cin, hidden, 1),
            conv_bn_relu(hidden, hidden, k, stride, groups=hidden),
            conv_bn_relu(hidden, cout, 1, relu=False),
        )

    def forward(self, x):
        return self.body(x)


class Residual(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


def block_choice(cin, cout, stride, label, residual):
    cands = {f"k{k}e{e}": InvertedResidual(cin, cout, stride, e, k) for k in (3, 5) for e in (3, 6)}
    choice = LayerChoice(cands, label=label)
    return Residual(choice) if residual else choice


class MobileNetV2Space(ModelSpace):
    """Stem, four searchable stages (LayerChoice of kernel/expansion per block, Repeat depth), a
    searchable head width (ValueChoice), global pooling and a classifier."""

    STAGES = ((16, 1, 2), (24, 2, 3), (32, 2, 3), (64, 2, 2))

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.stem = conv_bn_relu(3, 16, 3, 2)
        stages = []
        cin = 16
        for i, (cout, stride, depth) in enumerate(self.STAGES):
            first = block_choice(cin, cout, stride, f"s{i}b0", residual=False)
            rest = Repeat(lambda j, c=cout, i=i: block_choice(c, c, 1, f"s{i}b{j + 1}", residual=True),
                          (0, depth - 1), label=f"s{i}depth")
            stages += [first, rest]
            cin = cout
        self.stages = nn.Sequential(*stages)
        width = ValueChoice([96, 128], label="head_width")
        self.head = nn.Sequential(nnn.Conv2d(cin, width, 1, bias=False), nnn.BatchNorm2d(width), nn.ReLU6())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(0.2)
        self.fc = nnn.Linear(width, num_classes)

    def forward(self, x):
        x = self.head(self.stages(self.stem(x)))
        return self.fc(self.dropout(self.flatten(self.pool(x))))
