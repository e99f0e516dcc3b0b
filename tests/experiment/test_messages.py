"""Logging and messages: -v logs every trial, CPU allocation failures are out of memory, kinds in the plural,
install hints that name only distributions that exist."""
from __future__ import annotations

import logging

import pytest
from click.testing import CliRunner

import nas_core
from nas_core.cli.main import cli
from nas_core.errors import UnknownComponentError
from nas_core.experiment import Experiment, TrialStore
from nas_core.registry import Registry, get_registry
from nas_core.registry.catalogue import plural
from nas_core.strategy.testing import UniformRandom

import nas_exp_testkit as kit

from exp_configs import write_toy


def test_verbose_search_logs_every_trial(tmp_path, caplog):
    cfg = write_toy(tmp_path, max_trials=4)
    with caplog.at_level(logging.INFO, logger="nas_core.experiment.trials"):
        result = CliRunner().invoke(cli, ["search", str(cfg), "--no-progress", "-v"])
    assert result.exit_code == 0, result.output
    lines = [r.getMessage() for r in caplog.records if r.name == "nas_core.experiment.trials"]
    trials = TrialStore(tmp_path / "out").trials()
    assert len(lines) == len(trials) >= 4
    logged = sorted(lines, key=lambda line: int(line.split()[1]))
    for line, rec in zip(logged, trials):
        assert line.startswith(f"trial {rec.id} {rec.status}")
    assert any("accuracy=" in line and "params=" in line and "'width'" in line for line in lines)


def test_cpu_allocation_failure_is_recorded_as_out_of_memory(tmp_path):
    exp = Experiment(kit.toy_space(), kit.HugeAllocTrainer(), kit.ToyRandom(), max_trials=1, workdir=tmp_path,
                     progress=False)
    assert exp.run() is None
    (rec,) = TrialStore(tmp_path).trials()
    assert rec.status == "failed" and rec.error.startswith("out of memory: RuntimeError")


class EvolutionStandIn:
    """A strategy registered as 'regularized-evolution' from a distribution the catalogue does not know."""

    @nas_core.hookimpl
    def register_strategies(self, register):
        register("regularized-evolution", UniformRandom)


def test_unknown_name_lists_kinds_in_the_plural_and_invents_no_distribution(nas_plugin):
    nas_plugin(EvolutionStandIn())
    with pytest.raises(UnknownComponentError) as info:
        get_registry().get("strategy", "regularised-evolution")
    msg = str(info.value)
    assert "Available strategies:" in msg and "strategys" not in msg
    assert "Did you mean 'regularized-evolution'" in msg
    assert "No known distribution provides a strategy named 'regularised-evolution'" in msg
    assert "pip install" not in msg


def test_install_hint_names_the_distribution_that_provides_a_known_name():
    bare = Registry(load_entry_points=False)  # the core alone: plugins not installed
    with pytest.raises(UnknownComponentError, match=r"It is provided by nas-strategy-evolution: `pip install "
                                                    r"nas-strategy-evolution`"):
        bare.get("strategy", "regularized-evolution")
    assert plural("strategy") == "strategies" and plural("profiler") == "profilers"
