"""Mobile blocks: structure, weight sharing, errors, and exact costs in a small space."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from nas_core import search_space
from nas_core.errors import SpaceDefinitionError
from nas_core.space import LayerChoice, ModelSpace, ValueChoice
from nas_profiler_flops import FlopsProfiler, reference_flops
from nas_profiler_params import NumParamsProfiler
from nas_shapes_mobile import ChannelShuffle, DropPath, InvertedResidual, SqueezeExcite, make_divisible


class TinyMobile(ModelSpace):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, 2, 1)
        self.b1 = InvertedResidual(16, 16, 1, expand_ratio=ValueChoice([3, 6], label="e1"),
                                   kernel_size=ValueChoice([3, 5, 7], label="k1"), se_ratio=0.25, se_label="se1",
                                   activation=nn.Hardswish, drop_path=0.1)
        self.b2 = LayerChoice({"mb": InvertedResidual(16, 16, 1, expand_ratio=ValueChoice([2, 4], label="e2"),
                                                      kernel_size=ValueChoice([3, 5], label="k2"), divisor=8),
                               "skip": nn.Identity()}, label="skip2")
        self.b3 = InvertedResidual(16, 24, 2, expand_ratio=ValueChoice([1, 3], label="e3"), kernel_size=3)
        self.shuffle = ChannelShuffle(4)
        self.fc = nn.Linear(24, 10)

    def forward(self, x):
        x = self.shuffle(self.b3(self.b2(self.b1(self.stem(x)))))
        return self.fc(x.mean((2, 3)))


def test_every_sample_exact():
    model = TinyMobile()
    x = torch.randn(1, 3, 8, 8)
    flops, params = FlopsProfiler(model, x, unit="flops"), NumParamsProfiler(model)
    space = search_space(model)
    assert space.count() == 2 * 3 * 2 * 2 * 2 * 2 * 2
    for s in [space.random(i) for i in range(12)]:
        frozen = space.freeze(s).eval()
        assert flops.profile(s) == reference_flops(frozen, x), s
        assert params.profile(s) == sum(p.numel() for p in frozen.parameters()), s


def test_weight_sharing_kernel_centre_and_first_channels():
    block = InvertedResidual(8, 8, 1, expand_ratio=ValueChoice([3, 6], label="e"),
                             kernel_size=ValueChoice([3, 5], label="k"))

    class S(ModelSpace):
        def __init__(self):
            super().__init__()
            self.block = block

        def forward(self, x):
            return self.block(x)

    model = S()
    frozen = search_space(model).freeze({"e": 3, "k": 3})
    dw_super = block.conv[1][0].weight
    dw_frozen = frozen.block.conv[1][0].weight
    assert dw_frozen.shape == (24, 1, 3, 3)
    assert torch.equal(dw_frozen, dw_super[:24, :, 1:4, 1:4])
    assert frozen.block.use_residual


def test_squeeze_excite_and_shuffle_and_drop_path_behave():
    x = torch.randn(2, 8, 5, 5)
    se = SqueezeExcite(8, se_ratio=0.25).eval()
    assert se(x).shape == x.shape
    assert torch.equal(ChannelShuffle(2)(x), nn.ChannelShuffle(2)(x))
    dp = DropPath(0.5)
    assert torch.equal(dp.eval()(x), x)
    torch.manual_seed(0)
    out = dp.train()(torch.ones(64, 3))
    assert set(out.unique().tolist()) <= {0.0, 2.0} and 0 < out[:, 0].sum() < 128
    assert [make_divisible(v) for v in (3.9, 12, 17, 30.1, 100)] == [8, 16, 16, 32, 104]


def test_bad_arguments_are_explained():
    with pytest.raises(SpaceDefinitionError, match="stride must be 1 or 2"):
        InvertedResidual(8, 8, 3)
    with pytest.raises(SpaceDefinitionError, match="residual=True or residual=False"):
        InvertedResidual(ValueChoice([8, 16], label="a"), ValueChoice([8, 16], label="b"), 1)
    with pytest.raises(SpaceDefinitionError, match="give se_ratio"):
        InvertedResidual(8, 8, 1, se_label="se")
    with pytest.raises(SpaceDefinitionError, match="se_ratio"):
        SqueezeExcite(8, se_ratio=2)
    with pytest.raises(SpaceDefinitionError, match="groups"):
        ChannelShuffle(0)
    with pytest.raises(SpaceDefinitionError, match="DropPath"):
        DropPath(1.0)
