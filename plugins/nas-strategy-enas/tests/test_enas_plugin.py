"""The `enas` plugin registers through the hooks and validates its arguments."""
import pytest

import nas_core
from nas_core import OneShotStrategy


def test_registered_by_name():
    strategy = nas_core.create("strategy", "enas", epochs=2, seed=1)
    assert isinstance(strategy, OneShotStrategy) and strategy.epochs == 2 and strategy.seed == 1


@pytest.mark.parametrize("kwargs, match", [({"epochs": 0}, "epochs must be an integer >= 1"),
                                           ({"arch_data": "test"}, "arch_data must be 'split' or 'val'"),
                                           ({"seed": -1}, "seed must be an integer >= 0")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nas_core.create("strategy", "enas", **kwargs)
