"""One way to walk a space's branches: MutableModule.branches() and active_children()."""
import torch
from torch import nn

from nas_core.nn.layers import Parametrized
from nas_core.space import InputChoice, LayerChoice, Repeat, ValueChoice, search_space
from nas_core.space.mutable import MutableModule


def test_a_layer_choice_has_one_branch_per_candidate():
    relu, tanh = nn.ReLU(), nn.Tanh()
    choice = LayerChoice({"relu": relu, "tanh": tanh}, label="act")
    branches = choice.branches()
    assert [(b.values, b.module) for b in branches] == [((("act", "relu"),), relu), ((("act", "tanh"),), tanh)]
    assert branches[1].labels == ["act"] and branches[1].key == ("tanh",)


def test_a_parametrized_layer_has_one_branch_per_combination_in_variant_order():
    layer = Parametrized(nn.Linear, ValueChoice([2, 3], label="i"), ValueChoice([4, 5], label="o"))
    branches = layer.branches()
    assert [b.key for b in branches] == [(2, 4), (2, 5), (3, 4), (3, 5)]
    for b in branches:
        assert b.module is layer.variant_for(b.key)
        assert (b.module.in_features, b.module.out_features) == b.key
    assert branches[0].values == (("i", 2), ("o", 4))


def test_modules_that_pick_no_child_have_no_branches():
    assert InputChoice(n_candidates=2, n_chosen=1, label="skip").branches() == []
    assert Repeat(lambda i: nn.Identity(), (1, 2), label="d").branches() == []


def test_an_unlabelled_choice_says_how_to_get_a_label():
    import pytest

    from nas_core.errors import SpaceDefinitionError

    with pytest.raises(SpaceDefinitionError, match=r"has no label yet: give it label=\.\.\., or call"):
        LayerChoice([nn.Identity(), nn.ReLU()]).branches()


# -- which children run under a sample: MutableModule.active_children ------------------------------------
class Switch(MutableModule):
    """A user's own mutable module: runs ``a`` or ``b`` as its ValueChoice says."""

    def __init__(self, a: nn.Module, b: nn.Module, label: str) -> None:
        super().__init__()
        self.a, self.b, self.use = a, b, ValueChoice(["a", "b"], label=label)

    def value_choices(self):
        return {"use": self.use}

    def active_children(self, sample):
        return [self.a if sample[self.use.require_label()] == "a" else self.b]

    def freeze(self, sample):
        return self.active_children(sample)[0]

    def forward(self, x):
        return (self.a if self.use.current == "a" else self.b)(x)


def test_the_built_in_mutables_say_which_children_run():
    relu, tanh = nn.ReLU(), nn.Tanh()
    assert LayerChoice({"relu": relu, "tanh": tanh}, label="act").active_children({"act": "tanh"}) == [tanh]
    rep = Repeat(lambda i: nn.Linear(2, 2), (1, 3), label="d")
    assert rep.active_children({"d": 2}) == list(rep.blocks[:2])
    layer = Parametrized(nn.Linear, ValueChoice([2, 3], label="i"), 4)
    assert layer.active_children({"i": 3}) == [layer.variant_for((3,))]
    assert InputChoice(n_candidates=2, n_chosen=1, label="skip").active_children({"skip": [0]}) is None


def test_a_users_mutable_module_decides_which_labels_are_active_and_what_freezing_keeps():
    model = nn.Sequential(Switch(LayerChoice([nn.ReLU(), nn.Tanh()], label="inner_a"),
                                 LayerChoice([nn.ReLU(), nn.Sigmoid()], label="inner_b"), label="use"))
    space = search_space(model)
    sample = {"use": "a", "inner_a": 1, "inner_b": 1}
    assert space.inactive(sample) == {"inner_b"}
    assert space.canonical(sample) == {"use": "a", "inner_a": 1, "inner_b": 0}
    assert space.canonical_key(sample) == space.canonical_key({"use": "a", "inner_a": 1, "inner_b": 0})
    assert space.canonical_key(sample) != space.canonical_key({"use": "b", "inner_a": 1, "inner_b": 1})
    frozen = space.freeze({"use": "b", "inner_a": 0, "inner_b": 1})
    assert isinstance(frozen[0], nn.Sigmoid)
    x = torch.linspace(-2, 2, 5)
    assert torch.equal(frozen(x), torch.sigmoid(x))
