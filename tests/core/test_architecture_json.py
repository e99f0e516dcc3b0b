"""Architecture JSON round-trips in every seed format, and malformed files get clear errors."""
import json

import pytest
import torch
from torch import nn

from nas_core import ArchitectureFormatError
from nas_core.space import (
    FORMATS,
    InputChoice,
    LayerChoice,
    ModelSpace,
    Repeat,
    ValueChoice,
    apply_fixed_architecture,
    decode_architecture,
    export_architecture,
)
import nas_core.nn as nnn


class Space(ModelSpace):
    def __init__(self):
        super().__init__()
        self.stem = nnn.Conv2d(3, ValueChoice([8, 16], label="width"), 3, padding=1)
        self.op = LayerChoice({"conv3x3": nn.Conv2d(16, 16, 3, padding=1), "conv5x5": nn.Conv2d(16, 16, 5, padding=2),
                               "skip": nn.Identity()}, label="op")
        self.pick = InputChoice(n_candidates=3, n_chosen=2, choose_from=["layer1", "layer2", "layer3"], label="pick")
        self.any = InputChoice(n_candidates=4, label="any")
        self.body = Repeat(lambda i: nn.ReLU(), (1, 3), label="depth")

    def forward(self, x):
        return x


@pytest.fixture
def space():
    return Space().space


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_every_format(space, fmt, tmp_path):
    for seed in range(20):
        sample = space.random(seed)
        arch = export_architecture(space, sample, fmt=fmt, file=tmp_path / "a.json")
        assert json.loads((tmp_path / "a.json").read_text()) == arch
        assert decode_architecture(space, json.loads(json.dumps(arch))) == sample


def test_seed_style_values(space):
    arch = {"width": 16, "op": "conv5x5", "pick": ["layer1", "layer3"], "any": [False, True, False, True], "depth": 2}
    assert decode_architecture(space, arch) == {"width": 16, "op": "conv5x5", "pick": [0, 2], "any": [1, 3], "depth": 2}
    assert decode_architecture(space, {**arch, "op": 1, "pick": [2, 0]})["op"] == "conv5x5"


@pytest.mark.parametrize(
    "patch, match",
    [
        ({"op": "conv7x7"}, r"'op'.*names no candidate.*conv3x3"),
        ({"op": 9}, r"'op'.*index 9 out of range"),
        ({"pick": [0]}, r"'pick'"),
        ({"any": [True, False]}, r"multi-hot list of length 2, expected 4"),
        ({"width": 12}, r"value 12 for label 'width'.*\[8, 16\]"),
        ({"nope": 1}, r"unknown label 'nope'"),
        ({"op": ["conv3x3", "skip"]}, r"exactly one"),
    ],
)
def test_malformed_architecture(space, patch, match):
    arch = {"width": 16, "op": "skip", "pick": [0, 1], "any": [], "depth": 1}
    arch.update(patch)
    with pytest.raises(ArchitectureFormatError, match=match):
        decode_architecture(space, arch)


def test_missing_entry_and_bad_file(space, tmp_path):
    with pytest.raises(ArchitectureFormatError, match="missing label 'depth'"):
        decode_architecture(space, {"width": 16, "op": "skip", "pick": [0, 1], "any": []})
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ArchitectureFormatError, match="not valid JSON"):
        apply_fixed_architecture(Space(), bad)
    with pytest.raises(ArchitectureFormatError, match="does not exist"):
        apply_fixed_architecture(Space(), tmp_path / "none.json")
    with pytest.raises(ArchitectureFormatError, match="JSON object"):
        decode_architecture(space, [1, 2])
