"""Resume refuses changed options (what a stored trial means) and accepts a new budget, executor or workers."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from nas_core.cli.main import cli
from nas_core.errors import ConfigError
from nas_core.experiment import Experiment, TrialStore, load_config
from nas_core.experiment.fingerprint import check_resume, component_fingerprint
from nas_core.strategy.testing import UniformRandom

import nas_exp_testkit as kit

from exp_configs import write_toy


def _run(cfg, *args):
    return CliRunner().invoke(cli, ["search", str(cfg), "--no-progress", *args])


def test_changed_trainer_option_is_refused_and_says_how_to_start_over(tmp_path):
    cfg = write_toy(tmp_path, max_trials=2, sleep=0.0)
    assert _run(cfg).exit_code == 0
    cfg.write_text(cfg.read_text().replace("sleep = 0.0", "sleep = 0.001"))
    result = _run(cfg, "--max-trials", "4")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "trainer.sleep (was 0.0, now 0.001)" in result.output
    assert "--overwrite" in result.output and "--workdir" in result.output
    assert len(TrialStore(tmp_path / "out").trials()) == 2  # nothing lost
    assert _run(cfg, "--max-trials", "3", "--overwrite").exit_code == 0
    assert len(TrialStore(tmp_path / "out").trials()) == 3


@pytest.mark.slow
def test_budget_executor_and_workers_may_change_on_resume(tmp_path):
    cfg = write_toy(tmp_path, max_trials=2)
    assert _run(cfg).exit_code == 0
    result = _run(cfg, "--max-trials", "3", "--executor", "process-pool", "--workers", "2", "--max-duration", "10m")
    assert result.exit_code == 0, result.output
    assert "(resuming)" in result.output and len(TrialStore(tmp_path / "out").trials()) >= 3


class PopulationStrategy(UniformRandom):
    """A strategy with an option kept as a public attribute (as RegularizedEvolution keeps population_size)."""

    def __init__(self, population_size: int) -> None:
        super().__init__()
        self.population_size_option = population_size


def _evolution_exp(tmp_path, population):
    return Experiment(kit.toy_space(), kit.CheapTrainer(), PopulationStrategy(population_size=population),
                      max_trials=2, workdir=tmp_path / "evo", progress=False)


def test_changed_strategy_option_is_refused(tmp_path):
    assert _evolution_exp(tmp_path, 4).run() is not None
    with pytest.raises(ConfigError, match=r"strategy.population_size_option \(was 4, now 6\)"):
        _evolution_exp(tmp_path, 6).run()
    assert _evolution_exp(tmp_path, 4).run() is not None  # the same options resume


def test_changed_constraints_and_profilers_are_named(tmp_path):
    cfg = load_config(write_toy(tmp_path, max_trials=1))
    old = cfg.build(progress=False).fingerprint()
    tighter = load_config(write_toy(tmp_path, "b.toml", max_trials=1, extra=""))
    tighter.raw["constraints"] = {"params": {"max": 300}}
    new = tighter.build(progress=False).fingerprint()
    with pytest.raises(ConfigError, match=r"constraints \(was \['params <= 400'\], now \['params <= 300'\]\)"):
        check_resume(old, new, "runs/x")
    no_prof = dict(new, profilers=[])
    no_prof.pop("profilers.params")
    with pytest.raises(ConfigError, match=r"profilers.params \(was 'nas_exp_testkit.ParamsCost', now unset\)"):
        check_resume(new, no_prof, "runs/x")


def test_store_of_the_first_layout_is_checked_on_what_it_recorded(tmp_path):
    exp = load_config(write_toy(tmp_path, max_trials=1)).build(progress=False)
    new = exp.fingerprint()
    legacy = {"labels": new["labels"], "strategy": "HillClimb", "seed": 3, "objectives": new["objectives"],
              "constraints": new["constraints"], "profilers": ["params"], "trainer": "CheapTrainer", "batch_size": 1}
    check_resume(legacy, new, "runs/x")  # same settings: resumes
    with pytest.raises(ConfigError, match=r"seed \(was 2, now 3\)"):
        check_resume(dict(legacy, seed=2), new, "runs/x")


def test_component_options_are_its_config_options_and_plain_public_attributes():
    trainer = kit.CheapTrainer(sleep=0.5)
    trainer.big = list(range(1000))  # not plain data of a bounded size: left out
    fp = component_fingerprint(trainer)
    assert fp == {"class": "nas_exp_testkit.CheapTrainer", "sleep": 0.5}


def test_state_a_strategy_builds_while_searching_is_not_an_option(tmp_path):
    strategy = kit.ToyRandom()  # setup() creates public counters (told, seen) that tell() changes
    exp = Experiment(kit.toy_space(), kit.CheapTrainer(), strategy, max_trials=2, workdir=tmp_path, progress=False)
    exp.run()
    assert strategy.told == 2
    exp.max_trials = 4
    exp.run()  # the same objects resume: their fingerprint was taken before they were set up
    assert len(TrialStore(tmp_path).trials()) == 4



def test_sync_batch_size_may_change_on_resume(tmp_path):
    def exp(batch_size, max_trials):
        return Experiment(kit.toy_space(), kit.CheapTrainer(), kit.HillClimb(), max_trials=max_trials,
                          schedule="sync", batch_size=batch_size, workdir=tmp_path, progress=False)

    exp(3, 3).run()
    exp(1, 5).run()  # the batch size follows the workers: it is not what a trial means
    assert len(TrialStore(tmp_path).trials()) == 5
    with pytest.raises(ConfigError, match=r"schedule \(was 'sync', now 'async'\)"):
        Experiment(kit.toy_space(), kit.CheapTrainer(), kit.HillClimb(), max_trials=6, workdir=tmp_path,
                   progress=False).run()
