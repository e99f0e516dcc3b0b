"""Seed 004's examples run with only their import lines changed."""
import json

import pytest
import torch
from torch import nn

from nas_core import ArchitectureError, InvalidSampleError, apply_fixed_architecture, search_space
from nas_core.space import ChosenInputs, InputChoice, LayerChoice, MutableModule
from nas_core.testing.seed_spaces import Net, SkipNet

X = torch.randn(1, 1, 28, 28)


def test_labels_are_generated_from_paths():
    space = search_space(SkipNet())
    assert space.labels == ["conv1", "skipcon"]
    assert space.choices["conv1"].domain == [0, 1]
    assert space.choices["skipcon"].domain == [[], [0]]
    assert space.count() == 4


def test_default_runs_first_candidates():
    net = SkipNet()
    assert search_space(net).default() == {"conv1": 0, "skipcon": [0]}
    assert net(X).shape == (1, 10)


@pytest.mark.parametrize("cls", [Net, SkipNet])
def test_bad_seed_candidate_names_sample_and_layer(cls):
    net = cls()
    space = search_space(net)
    net(X)  # the space remembers this input to check shapes when freezing
    with pytest.raises(ArchitectureError) as err:
        space.freeze({**space.default(), "conv1": 1})
    msg = str(err.value)
    assert "'conv1': 1" in msg and "'fc1'" in msg and "Linear" in msg


def test_bad_sample_fails_when_run_with_space_run():
    net = SkipNet()
    with pytest.raises(ArchitectureError, match=r"fc1"):
        search_space(net).run({"conv1": 1, "skipcon": []}, X)


@pytest.mark.parametrize("cls", [Net, SkipNet])
def test_every_fixed_sample_freezes_to_plain_model(cls):
    net = cls(fixed=True)
    space = search_space(net)
    for sample in space.enumerate():
        frozen = space.freeze(sample, example_input=X)
        assert not any(isinstance(m, MutableModule) for m in frozen.modules())
        assert frozen(X).shape == (1, 10)
        expected_kernel = 3 if sample["conv1"] == 0 else 5
        assert frozen.conv1.kernel_size == (expected_kernel, expected_kernel)
        assert type(frozen.conv1) is nn.Conv2d


def test_skip_connection_none_changes_output():
    net = SkipNet(fixed=True).eval()
    space = search_space(net)
    off = space.freeze({"conv1": 0, "skipcon": []}).eval()
    on = space.freeze({"conv1": 0, "skipcon": [0]}).eval()
    assert off.skipcon([X]) is None
    assert not torch.allclose(off(X), on(X))


def test_apply_fixed_architecture_from_file(tmp_path):
    path = tmp_path / "final_architecture.json"
    path.write_text(json.dumps({"conv1": 1, "skipcon": [False]}))
    model = apply_fixed_architecture(SkipNet(fixed=True), path)
    assert type(model.conv1) is nn.Conv2d and model.conv1.kernel_size == (5, 5)
    assert isinstance(model.skipcon, ChosenInputs) and model.skipcon.chosen == []
    assert model(X).shape == (1, 10)


def test_apply_fixed_architecture_checks_shapes_with_example_input():
    with pytest.raises(ArchitectureError, match="fc1"):
        apply_fixed_architecture(SkipNet(), {"conv1": 1, "skipcon": [0]}, example_input=X)


def test_invalid_samples_name_label_and_allowed_values():
    space = search_space(SkipNet())
    with pytest.raises(InvalidSampleError, match=r"unknown label 'conv9'.*'conv1'"):
        space.validate({"conv1": 0, "skipcon": [], "conv9": 1})
    with pytest.raises(InvalidSampleError, match=r"missing label 'skipcon'.*\[\[\], \[0\]\]"):
        space.validate({"conv1": 0})
    with pytest.raises(InvalidSampleError, match=r"value 2 for label 'conv1'.*\[0, 1\]"):
        space.validate({"conv1": 2, "skipcon": []})
    with pytest.raises(InvalidSampleError, match="must be a dict"):
        space.validate([0, 1])


def test_shared_key_is_one_decision():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = LayerChoice([nn.ReLU(), nn.Tanh()], key="act")
            self.b = LayerChoice([nn.ReLU(), nn.Tanh()], key="act")

        def forward(self, x):
            return self.b(self.a(x))

    net = Two()
    space = search_space(net)
    assert space.labels == ["act"]
    frozen = space.freeze({"act": 1})
    assert isinstance(frozen.a, nn.Tanh) and isinstance(frozen.b, nn.Tanh)


def test_input_choice_rejects_wrong_number_of_inputs():
    ic = InputChoice(n_candidates=2, n_chosen=1, label="x")
    with pytest.raises(ValueError, match="expects 2 inputs"):
        ic([torch.zeros(1)])
