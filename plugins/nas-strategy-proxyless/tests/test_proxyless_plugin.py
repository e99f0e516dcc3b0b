"""ProxylessNAS against the one-shot kit, plus what only ProxylessNAS does: the NNI hardware loss, the hardware named
by its registry name, and the seed's code with the FLOPs profiler."""
import pytest
import torch

import nas_core
from nas_core.oneshot import ExpectationProfilerPenalty
from nas_core.oneshot.testing import DifferentiableOneShotKit, DigitsOneShotSpace, MacsProfiler, ZeroLossTrainer
from nas_strategy_proxyless import HardwareLoss, ProxylessNAS

pytestmark = pytest.mark.usefixtures("nas_one_torch_thread")


class TestProxylessKit(DifferentiableOneShotKit):
    name = "proxyless"


def test_proxyless_hardware_loss_arguments():
    prof = MacsProfiler(DigitsOneShotSpace(), torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="unknown grad_reg_loss_type 'mul#lin'"):
        ProxylessNAS(grad_reg_loss_type="mul#lin")
    with pytest.raises(ValueError, match=r"needs grad_reg_loss_params with \['alpha', 'beta'\]; missing \['beta'\]"):
        ProxylessNAS(grad_reg_loss_type="mul#log", grad_reg_loss_params={"alpha": 0.2})
    with pytest.raises(ValueError, match=r"missing \['lambda'\]"):
        ProxylessNAS(grad_reg_loss_type="add#linear", grad_reg_loss_params={"alpha": 0.2})
    with pytest.raises(ValueError, match="needs dummy_input"):
        ProxylessNAS(applied_hardware="flops")
    with pytest.raises(ValueError, match="give one hardware term"):
        ProxylessNAS(applied_hardware="flops", dummy_input=(1, 1, 8, 8), penalty=ExpectationProfilerPenalty(prof, 1))
    ce, lat = torch.tensor(2.0), torch.tensor(80.0, requires_grad=True)
    assert float(HardwareLoss("add#linear", {"lambda": 0.1}, 65.0)(ce, lat).detach()) == pytest.approx(2.0 + 0.1 * 15 / 65)
    mul = HardwareLoss("mul#log", {"alpha": 0.2, "beta": 0.3}, 65.0)(ce, lat)
    assert float(mul.detach()) == pytest.approx(0.2 * 2.0 * (torch.log(lat) / torch.log(torch.tensor(65.0))).item() ** 0.3)
    mul.backward()
    assert lat.grad > 0


def test_applied_hardware_by_registry_name_moves_expected_cost():
    space = DigitsOneShotSpace()
    strategy = ProxylessNAS(epochs=2, warmup_epochs=0, arch_lr=0.05, applied_hardware="flops", dummy_input=(1, 1, 8, 8),
                            grad_reg_loss_type="add#linear", grad_reg_loss_params={"lambda": 5.0}, ref_latency=1e4)
    strategy.fit(space, ZeroLossTrainer(n=32))
    assert type(strategy.profiler).__name__ == "FlopsProfiler"
    uniform = strategy.profiler.expectation({l: torch.full((len(c.domain),), 1 / len(c.domain))
                                             for l, c in space.space.choices.items()})
    assert strategy.history[-1]["expected_cost"] < 0.9 * float(uniform)


def test_unknown_applied_hardware_names_the_registry():
    with pytest.raises(nas_core.UnknownComponentError, match="flopz"):
        ProxylessNAS(applied_hardware="flopz", dummy_input=(1, 1, 8, 8)).fit(DigitsOneShotSpace(), ZeroLossTrainer())


def test_seed_code_with_flops_profiler():
    from nas_profiler_flops import FlopsProfiler

    model_space, dummy_input = DigitsOneShotSpace(), torch.zeros(1, 1, 8, 8)
    profiler = FlopsProfiler(model_space, dummy_input)
    penalty = ExpectationProfilerPenalty(profiler, 30e3)
    strategy = ProxylessNAS(penalty=penalty, epochs=1)
    strategy.fit(model_space, ZeroLossTrainer(n=32))
    assert penalty.last_cost is not None and strategy.export() == strategy.export()


def test_config_file_runs_a_one_shot_search(tmp_path):
    from click.testing import CliRunner

    from nas_core.cli.main import cli

    (tmp_path / "oneshot.toml").write_text(
        '[experiment]\nseed = 0\n\n[space]\nclass = "nas_core.oneshot.testing:DigitsOneShotSpace"\n'
        'input_shape = [1, 1, 8, 8]\n\n[strategy]\nname = "proxyless"\nepochs = 1\napplied_hardware = "flops"\n'
        'dummy_input = [1, 1, 8, 8]\nref_latency = 50000.0\n\n[trainer]\nname = "classification"\n'
        'dataset = "digits"\nepochs = 1\n')
    result = CliRunner().invoke(cli, ["search", str(tmp_path / "oneshot.toml"), "--no-progress",
                                       "--workdir", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "trials: 1 succeeded" in result.output and "best architecture" in result.output
