"""Config files are validated before any training; every error names the field and the fix."""
from __future__ import annotations

import pytest

import nas_core
from nas_core.errors import ConfigError
from nas_core.experiment import load_config, parse_duration
from nas_core.experiment.config import DEFAULT_STRATEGY
from nas_core.strategy.testing import UniformRandom

from exp_configs import write_toy


def _err(tmp_path, text: str, suffix: str = ".toml") -> str:
    p = tmp_path / f"bad{suffix}"
    p.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(p).build(progress=False)
    return str(info.value)


def test_valid_toml_builds_the_experiment(tmp_path):
    exp = load_config(write_toy(tmp_path)).build(progress=False)
    assert exp.max_trials == 8 and exp.seed == 3
    assert [(o.metric, o.direction) for o in exp.objectives] == [("accuracy", "max"), ("params", "min")]
    assert exp.workdir == tmp_path / "out"
    assert [b.describe() for b in exp.bounds] == ["params <= 400"]


def test_yaml_config_is_accepted(tmp_path):
    p = tmp_path / "toy.yaml"
    p.write_text(
        "experiment: {seed: 1, max_trials: 3}\n"
        "space: {class: 'nas_exp_testkit:ToySpace'}\n"
        "strategy: {factory: 'nas_exp_testkit:ToyRandom'}\n"
        "trainer: {factory: 'nas_exp_testkit:CheapTrainer'}\n"
        "constraints: {width: {allowed: [8, 16]}}\n"
    )
    exp = load_config(p).build(progress=False)
    assert exp.workdir == tmp_path / "runs" / "toy"
    best = exp.run()
    assert best is not None and best.sample["width"] in (8, 16)


class EvolutionPlugin:
    """Registers stand-ins under the evolution plugin's names (the core's tests run without plugins)."""

    class Regularized(UniformRandom):
        pass

    class Guided(UniformRandom):
        pass

    @nas_core.hookimpl
    def register_strategies(self, register):
        register("regularized-evolution", self.Regularized)
        register("guided-evolution", self.Guided)


def test_unknown_strategy_name_suggests_close_match(tmp_path, nas_plugin):
    nas_plugin(EvolutionPlugin())
    text = write_toy(tmp_path).read_text().replace('factory = "nas_exp_testkit:HillClimb"', 'name = "regularised-evolution"')
    msg = _err(tmp_path, text)
    assert msg.startswith("strategy.name:") and "regularized-evolution" in msg


def test_unknown_executor_name(tmp_path):
    msg = _err(tmp_path, write_toy(tmp_path).read_text().replace('"in-process"', '"proces-pool"'))
    assert msg.startswith("executor.name:") and "'process-pool'" in msg


def test_missing_section(tmp_path):
    text = write_toy(tmp_path).read_text().replace("[trainer]", "[unused]")
    assert "unknown key 'unused'" in _err(tmp_path, text)
    text = "[space]\nclass = 'nas_exp_testkit:ToySpace'\n[strategy]\nname = 'random'\n"
    msg = _err(tmp_path, text)
    assert "missing section [trainer]" in msg and 'name = "classification"' in msg


def test_missing_space_class(tmp_path):
    msg = _err(tmp_path, write_toy(tmp_path).read_text().replace('class = "nas_exp_testkit:ToySpace"', ""))
    assert "space.class is missing" in msg


def test_wrong_type(tmp_path):
    msg = _err(tmp_path, write_toy(tmp_path).read_text().replace("max_trials = 8", 'max_trials = "eight"'))
    assert "experiment.max_trials must be an integer" in msg and "'eight'" in msg


def test_misspelled_experiment_key(tmp_path):
    msg = _err(tmp_path, write_toy(tmp_path).read_text().replace("max_trials = 8", "max_trial = 8"))
    assert "experiment: unknown key 'max_trial'" in msg and "Did you mean 'max_trials'" in msg


def test_unknown_label_or_metric_in_constraint(tmp_path):
    msg = _err(tmp_path, write_toy(tmp_path).read_text().replace("params = { max = 400 }", "widht = { max = 8 }"))
    assert msg.startswith("constraints.widht:") and "'width'" in msg and "labels:" in msg


def test_label_constraint_value_outside_domain(tmp_path):
    msg = _err(tmp_path, write_toy(tmp_path).read_text().replace("params = { max = 400 }", "width = { allowed = [5] }"))
    assert "constraints.width.allowed: 5 is not a value of label 'width'" in msg


def test_unknown_metric_in_objective(tmp_path):
    msg = _err(tmp_path, write_toy(tmp_path).read_text().replace('params = "min"', 'latency = "min"'))
    assert msg.startswith("objectives.latency: unknown metric 'latency'") and "'params'" in msg


def test_bad_direction(tmp_path):
    msg = _err(tmp_path, write_toy(tmp_path).read_text().replace('params = "min"', 'params = "minimise"'))
    assert 'objectives.params: direction must be "max" or "min"' in msg


def test_bad_component_option(tmp_path):
    msg = _err(tmp_path, write_toy(tmp_path).read_text().replace("sleep = 0.0", "sleeep = 0.0"))
    assert msg.startswith("trainer:") and "sleeep" in msg and "sleep" in msg


def test_unimportable_space(tmp_path):
    msg = _err(tmp_path, write_toy(tmp_path).read_text().replace("nas_exp_testkit:ToySpace", "no_such_mod:Net"))
    assert "space.class" in msg and "no_such_mod" in msg


def test_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    p = tmp_path / "c.json"
    p.write_text("{}")
    with pytest.raises(ConfigError, match="use a .toml, .yaml or .yml"):
        load_config(p)
    p = tmp_path / "c.toml"
    p.write_text("[space\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(p)


def test_durations():
    assert parse_duration(170) == 170.0
    assert parse_duration("3m") == 180.0
    assert parse_duration("1h30m") == 5400.0
    assert parse_duration("90s") == 90.0
    with pytest.raises(ConfigError, match="not a duration"):
        parse_duration("soon")
    with pytest.raises(ConfigError, match="must be positive"):
        parse_duration(0)


def test_without_a_strategy_section_the_default_strategy_is_used(tmp_path, nas_plugin):
    nas_plugin(EvolutionPlugin())
    p = tmp_path / "nostrategy.yaml"
    p.write_text(
        "experiment: {seed: 1, max_trials: 2}\n"
        "space: {class: 'nas_exp_testkit:ToySpace'}\n"
        "trainer: {factory: 'nas_exp_testkit:CheapTrainer'}\n"
    )
    exp = load_config(p).build(progress=False)
    assert DEFAULT_STRATEGY == {"name": "guided-evolution"} and isinstance(exp.strategy, EvolutionPlugin.Guided)
