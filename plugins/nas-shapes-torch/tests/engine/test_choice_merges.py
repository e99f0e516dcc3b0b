"""choice_merges: which traced tensor a choice's output is, for each sample."""
import itertools

import torch
from torch import nn

import nas_core.nn as nnn
from nas_core import search_space
from nas_core.shapes import Merge, choice_merges, evaluate_sym, trace
from nas_core.space import InputChoice, LayerChoice, ModelSpace, Repeat, ValueChoice


class MergeSpace(ModelSpace):
    def __init__(self):
        super().__init__()
        w = ValueChoice([4, 8], label="w")
        self.stem = nnn.Conv2d(1, w, 3, padding=1)
        self.op = LayerChoice({"same": nn.Identity(), "down": nn.MaxPool2d(2)}, label="op")
        self.rep = Repeat(lambda i: nnn.Conv2d(w, w, 1), (0, 2), label="d")
        self.skip = InputChoice(n_candidates=2, n_chosen=1, label="skip")

    def forward(self, x):
        x = self.stem(x)
        y = self.rep(self.op(x))
        return self.skip([y, y * 2])


def test_each_merge_resolves_to_the_tensor_the_sample_runs():
    model = MergeSpace()
    space = search_space(model)
    t = trace(model, torch.zeros(1, 1, 8, 8))
    merges = choice_merges(t)
    by_module = {type(m.module).__name__: m for m in merges.values()}
    assert set(by_module) == {"LayerChoice", "Repeat", "InputChoice"}
    assert all(isinstance(m, Merge) for m in merges.values())
    assert by_module["LayerChoice"].labels == {"op"} and set(by_module["LayerChoice"].alternatives) == {"same", "down"}
    assert by_module["Repeat"].labels == {"d"} and set(by_module["Repeat"].alternatives) == {0, 1, 2}
    assert set(by_module["InputChoice"].alternatives) == {(0,), (1,)}
    for values in itertools.product(*(space.choices[label].domain for label in sorted(space.choices))):
        sample = dict(zip(sorted(space.choices), values))
        frozen = space.freeze(sample)
        x = frozen.stem(torch.zeros(1, 1, 8, 8))
        after_op = frozen.op(x)
        chosen = by_module["LayerChoice"].resolve(sample)
        assert list(evaluate_sym(chosen.shape, sample)) == list(after_op.shape), sample
        after_rep = by_module["Repeat"].resolve(sample)
        assert list(evaluate_sym(after_rep.shape, sample)) == list(frozen.rep(after_op).shape), sample


class Pair(nn.Module):
    def forward(self, x):
        return x, x + 1


def test_a_choice_whose_output_is_not_one_tensor_has_no_merge():
    class PairSpace(ModelSpace):
        def __init__(self):
            super().__init__()
            self.pair = LayerChoice({"a": Pair(), "b": Pair()}, label="pair")
            self.op = LayerChoice({"a": nn.Identity(), "b": nn.ReLU()}, label="op")

        def forward(self, x):
            a, _ = self.pair(x)
            return self.op(a)

    model = PairSpace()
    search_space(model)
    t = trace(model, torch.zeros(1, 3))
    assert [type(c.output).__name__ for c in t.calls if c.module is model.pair] == ["tuple"]
    assert [m.labels for m in choice_merges(t).values()] == [frozenset({"op"})]
