"""Supernet machinery: exact mixing, single paths, parameters kept apart, errors for unmixable layers."""
import pytest
import torch
from torch import nn
from torch.nn.functional import one_hot

import nas_core.nn as nnn
from nas_core import ModelSpace, SpaceDefinitionError, ValueChoice
from nas_core.oneshot import Supernet
from nas_core.oneshot.testing import DigitsOneShotSpace
from nas_core.space import InputChoice, LayerChoice, Repeat


def _one_hot(sn, sample):
    return {l: one_hot(torch.tensor(sn.space.choices[l].index(sample[l])), len(sn.space.choices[l].domain)).float()
            for l in sn.space.labels}


class DeepSpace(ModelSpace):
    """Repeat depth, width shared by several layers, a depthwise kernel choice, InputChoice over 3."""

    def __init__(self):
        super().__init__()
        w = ValueChoice([4, 8], label="w")
        k = ValueChoice([3, 5, 7], label="k")
        self.stem = nn.Sequential(nnn.Conv2d(1, w, 3, padding=1), nnn.BatchNorm2d(w), nn.ReLU())
        self.dw = nnn.Conv2d(w, w, k, padding=k // 2, groups=w)
        self.rep = Repeat(lambda i: nn.Sequential(nnn.Conv2d(w, w, 3, padding=1), nn.ReLU()), (0, 2), label="d")
        self.pick = InputChoice(n_candidates=3, n_chosen=None, reduction="sum", label="pick")
        self.head = nn.Sequential(nn.Flatten(), nnn.Linear(w * 64, ValueChoice([16, 32], label="h")), nn.ReLU(),
                                  nnn.Linear(ValueChoice([16, 32], label="h"), 10))

    def forward(self, x):
        a = self.stem(x)
        b = self.dw(a)
        c = self.rep(b)
        s = self.pick([a, b, c])
        return self.head(c if s is None else c + s)


@pytest.mark.parametrize("space_cls", [DigitsOneShotSpace, DeepSpace])
def test_one_hot_weights_equal_the_single_path_and_the_frozen_model(space_cls):
    torch.manual_seed(0)
    space = space_cls()
    sn = Supernet(space).eval()
    x = torch.randn(3, 1, 8, 8)
    for i in range(8):
        sample = space.random(i)
        frozen = space.freeze(sample).eval()
        sn.set_sample(sample)
        single = sn(x)
        sn.set_weights(_one_hot(sn, sample))
        mixed = sn(x)
        assert torch.allclose(single, frozen(x), atol=1e-6), sample
        assert torch.allclose(mixed, single, atol=1e-5), sample


def test_soft_weights_mix_every_candidate_and_reach_every_logit():
    sn = Supernet(DeepSpace())
    sn.set_weights(sn.arch.probs())
    sn(torch.randn(2, 1, 8, 8)).square().sum().backward()
    for label in sn.space.labels:
        assert sn.arch[label].grad is not None and sn.arch[label].grad.abs().sum() > 0, label


@pytest.mark.parametrize("space_cls", [DigitsOneShotSpace, DeepSpace])
def test_every_mixed_layer_asks_for_its_weights_on_the_device_of_its_data(space_cls):
    # a DataParallel replica runs on another GPU than the architecture weights: each mixed
    # layer must take the weights to its data's device (the copy keeps the gradient)
    sn = Supernet(space_cls())
    sn.set_weights(sn.arch.probs())
    asked, weight = [], sn.state.weight

    def spy(label, device=None):
        asked.append((label, device))
        return weight(label, device)

    sn.state.weight = spy
    sn(torch.randn(2, 1, 8, 8)).sum().backward()
    assert asked and all(device == torch.device("cpu") for _, device in asked), asked
    assert {label for label, _ in asked} == set(sn.space.labels)
    assert all(sn.arch[l].grad is not None for l in sn.space.labels)


def test_weights_and_architecture_parameters_are_disjoint_and_complete():
    sn = Supernet(DigitsOneShotSpace())
    w = {id(p) for p in sn.weight_parameters()}
    a = {id(p) for p in sn.arch_parameters()}
    assert not (w & a) and w | a == {id(p) for p in sn.parameters()}
    assert [len(p) for p in sn.arch_parameters()] == [len(c.domain) for c in sn.space]


def test_the_users_space_is_left_untouched():
    space = DigitsOneShotSpace()
    before = {k: v.clone() for k, v in space.state_dict().items()}
    sn = Supernet(space)
    sn.set_sample(space.random(1))
    for p in sn.weight_parameters():
        p.data.add_(1.0)
    assert all(torch.equal(before[k], v) for k, v in space.state_dict().items())
    assert isinstance(space.op1, LayerChoice)


def test_nograd_paths_keep_their_output_only():
    """ProxylessNAS' arch step: the second sampled path runs without gradient, others do not run."""
    sn = Supernet(DigitsOneShotSpace())
    calls = []
    for name, cand in sn.net.op2.candidates.items():
        cand.register_forward_hook(lambda m, i, o, name=name: calls.append((name, o.requires_grad)))
    w = {l: torch.softmax(sn.arch[l], -1) for l in sn.space.labels}
    sn.set_weights(w, grad_paths={"op2": [0]}, nograd_paths={"op2": [2]})
    sn(torch.randn(2, 1, 8, 8))
    assert calls == [("conv3x3", True), ("conv1x1", False)]


class StrideSpace(ModelSpace):
    def __init__(self):
        super().__init__()
        self.conv = nnn.Conv2d(1, 4, 3, stride=ValueChoice([1, 2], label="s"))

    def forward(self, x):
        return self.conv(x)


class PadSpace(ModelSpace):
    def __init__(self):
        super().__init__()
        self.conv = nnn.Conv2d(1, 4, ValueChoice([3, 5], label="k"), padding=0)

    def forward(self, x):
        return self.conv(x)


def test_unmixable_value_choices_are_clear_errors_and_still_work_for_sampling():
    with pytest.raises(SpaceDefinitionError, match=r"layer 'conv'.*\['stride'\].*LayerChoice.*ENAS"):
        Supernet(StrideSpace(), weighted=True)
    with pytest.raises(SpaceDefinitionError, match="not the centre of the largest kernel"):
        Supernet(PadSpace(), weighted=True)
    sn = Supernet(StrideSpace(), weighted=False)
    sn.set_sample({"s": 2})
    assert sn(torch.randn(1, 1, 8, 8)).shape == (1, 4, 3, 3)


def test_space_without_choices_is_an_error():
    with pytest.raises(SpaceDefinitionError, match="nothing for a one-shot strategy to search"):
        Supernet(nn.Sequential(nn.Linear(2, 2)))
