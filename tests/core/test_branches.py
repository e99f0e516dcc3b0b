"""One way to walk a space's branches: MutableModule.branches()."""
from torch import nn

from nas_core.nn.layers import Parametrized
from nas_core.space import InputChoice, LayerChoice, Repeat, ValueChoice


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
