"""The seeds' import ``from nas_core.strategy import PolicyBasedRL`` is this plugin's class."""
from nas_strategy_ppo import PolicyBasedRL


def test_the_seed_import_is_this_plugins_class():
    from nas_core.strategy import PolicyBasedRL as SeedPolicyBasedRL

    assert SeedPolicyBasedRL is PolicyBasedRL
