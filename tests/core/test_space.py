"""ValueChoice arithmetic, mutable layers, Repeat and the space API."""
import pytest
import torch
from torch import nn

import nas_core.nn as nnn
from nas_core import SpaceDefinitionError
from nas_core.space import ModelSpace, MutableModule, Repeat, ValueChoice


class WidthSpace(ModelSpace):
    def __init__(self):
        super().__init__()
        w = ValueChoice([16, 32], label="w")
        k = ValueChoice([3, 5, 7], label="k")
        self.conv = nnn.Conv2d(3, w * 2, k, padding=k // 2)
        self.bn = nnn.BatchNorm2d(w * 2)
        self.dw = nnn.Conv2d(w * 2, w * 2, 3, padding=1, groups=w * 2)
        self.blocks = Repeat(lambda i: nn.Sequential(nn.ReLU()), (1, 3), label="depth")
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nnn.Linear(w * 2, ValueChoice([10, 20], label="hidden"))
        self.head = nnn.Linear(ValueChoice([10, 20], label="hidden"), 4)
        self.ln = nnn.LayerNorm(ValueChoice([10, 20], label="hidden"))

    def forward(self, x):
        x = self.blocks(self.dw(self.bn(self.conv(x))))
        x = self.pool(x).flatten(1)
        return self.head(self.ln(self.fc(x)))


def test_value_choice_arithmetic():
    w = ValueChoice([16, 32], label="w")
    e = (w * 2 + 1) // 3
    assert e.evaluate({"w": 32}) == 21
    assert e.possible_values() == [11, 21]
    assert e.labels() == ["w"]
    assert (w.map(lambda v: v + 1)).evaluate({"w": 16}) == 17
    with pytest.raises(SpaceDefinitionError, match="no truth value"):
        bool(w)


def test_mutable_layers_equal_frozen_layers():
    torch.manual_seed(0)
    model = WidthSpace().eval()
    x = torch.randn(2, 3, 16, 16)
    space = model.space
    assert space.labels == ["w", "k", "depth", "hidden"]
    assert space.count() == 2 * 3 * 3 * 2
    for sample in [space.random(seed) for seed in range(24)]:
        frozen = space.freeze(sample).eval()
        assert not any(isinstance(m, MutableModule) for m in frozen.modules())
        assert type(frozen.conv) is nn.Conv2d and frozen.conv.out_channels == sample["w"] * 2
        assert frozen.conv.kernel_size == (sample["k"],) * 2 and frozen.conv.padding == (sample["k"] // 2,) * 2
        assert frozen.dw.groups == sample["w"] * 2
        assert len(frozen.blocks) == sample["depth"]
        with model.activate(sample):
            expected = model(x)
        torch.testing.assert_close(frozen(x), expected)


def test_frozen_model_trains_independently():
    model = WidthSpace()
    frozen = model.freeze({"w": 16, "k": 3, "depth": 1, "hidden": 10})
    n_params = sum(p.numel() for p in frozen.parameters())
    assert n_params < sum(p.numel() for p in model.parameters())
    frozen(torch.randn(2, 3, 8, 8)).sum().backward()
    assert model.conv.weight.grad is None


def test_random_is_seeded_and_valid():
    space = WidthSpace().space
    assert space.random(3) == space.random(3)
    assert len({str(space.random(s)) for s in range(30)}) > 5
    for s in range(30):
        assert space.validate(space.random(s)) == space.random(s)


def test_conflicting_shared_label():
    class Bad(ModelSpace):
        def __init__(self):
            super().__init__()
            self.a = nnn.Linear(4, ValueChoice([1, 2], label="x"))
            self.b = nnn.Linear(4, ValueChoice([3, 4], label="x"))

    with pytest.raises(SpaceDefinitionError, match="label 'x' is shared"):
        Bad().space


def test_parametrized_any_module():
    class Attn(ModelSpace):
        def __init__(self):
            super().__init__()
            self.attn = nnn.Parametrized(nn.MultiheadAttention, 16, ValueChoice([2, 4], label="heads"), batch_first=True)

        def forward(self, x):
            return self.attn(x, x, x)[0]

    m = Attn()
    frozen = m.freeze({"heads": 4})
    assert type(frozen.attn) is nn.MultiheadAttention and frozen.attn.num_heads == 4
    assert frozen(torch.randn(1, 5, 16)).shape == (1, 5, 16)


def test_model_space_forward_error_names_layer():
    class Broken(ModelSpace):
        def __init__(self):
            super().__init__()
            self.fc = nnn.Linear(ValueChoice([4, 8], label="inp"), 2)

        def forward(self, x):
            return self.fc(x)

    m = Broken()
    m.set_current({"inp": 8})
    from nas_core import ArchitectureError

    with pytest.raises(ArchitectureError, match=r"'inp': 8.*'fc'.*Linear"):
        m(torch.randn(1, 4))
