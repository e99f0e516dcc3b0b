"""The core's names that mean this plugin: the seeds' ``from nas_core.strategy import RegularizedEvolution`` and the
strategy a config without a [strategy] section gets (guided evolution)."""
from nas_core.experiment import load_config
from nas_strategy_evolution import GuidedEvolution, RegularizedEvolution


def test_the_seed_import_is_this_plugins_class():
    from nas_core.strategy import RegularizedEvolution as SeedRegularizedEvolution

    assert SeedRegularizedEvolution is RegularizedEvolution


def test_a_config_without_a_strategy_section_searches_with_guided_evolution(tmp_path):
    p = tmp_path / "nostrategy.toml"
    p.write_text('[experiment]\nmax_trials = 1\n\n[space]\nclass = "nas_core.strategy.testing:ToyNet"\ninput_shape = [1, 1, 8, 8]\n\n'
                 '[trainer]\nfactory = "nas_core.oneshot.testing:RandomDataTrainer"\n')
    assert isinstance(load_config(p).build(progress=False).strategy, GuidedEvolution)
