"""Issue #19: the checked export judges each candidate with BatchNorm statistics of its own path."""
import copy

import pytest
import torch

from nas_core.oneshot import Supernet
from nas_core.oneshot.export import Budget, ExportConfig, checked_export, recalibrated_batchnorm, supernet_accuracy
from nas_core.oneshot.testing import DigitsOneShotSpace

CPU = torch.device("cpu")


def _supernet():
    torch.manual_seed(0)
    return Supernet(DigitsOneShotSpace(), generator=torch.Generator().manual_seed(0))


def _batches(n, seed=0, size=32):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(size, 1, 8, 8, generator=g) * 2 + 1, torch.randint(0, 10, (size,), generator=g))
            for _ in range(n)]


def _poison(sn):
    """Running statistics far from anything the data gives (a mixture's stale statistics, exaggerated)."""
    for m in sn.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.fill_(50.0)
            m.running_var.fill_(1e-4)


SAMPLE = {"width": 8, "op1": "blur", "kernel": 3, "op2": "conv3x3", "skip": [1]}


def test_recalibration_gives_the_paths_batch_statistics_and_restores_the_supernets():
    sn = _supernet()
    _poison(sn)
    before = {k: v.clone() for k, v in sn.state_dict().items()}
    data = _batches(1)
    # reference: the same path in training mode (batch statistics) on that batch
    ref = copy.deepcopy(sn)
    ref.set_sample(SAMPLE)
    with torch.no_grad():
        expected = ref.train()(data[0][0])
    with recalibrated_batchnorm(sn, SAMPLE, data, CPU) as n_bn:
        sn.set_sample(SAMPLE)
        with torch.no_grad():
            got = sn.eval()(data[0][0])
        bn = sn.net.stem[1].layer
        assert float(bn.running_mean[:8].abs().max()) < 10  # not the poisoned 50 any more
    assert n_bn == 9  # every BatchNorm of the supernet (stem, 4 in op1, 4 in op2) was reset
    torch.testing.assert_close(got, expected, atol=2e-3, rtol=2e-3)  # unbiased vs biased variance only
    after = sn.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # the supernet's own statistics are back


def test_no_batchnorm_or_no_batches_is_a_no_op():
    sn = _supernet()
    with recalibrated_batchnorm(sn, SAMPLE, [], CPU) as n_bn:
        assert n_bn == 0


def test_checked_export_ranks_with_recalibrated_statistics():
    sn = _supernet()
    _poison(sn)
    evaluation, calibration = _batches(2, seed=1), _batches(2, seed=2)
    budget = Budget(lambda s: 1.0, 2.0)
    candidates = [SAMPLE, {**SAMPLE, "op1": "conv3x3"}, {**SAMPLE, "width": 16, "op2": "blur"}]
    plain = checked_export(sn, evaluation, budget, device=CPU, generator=torch.Generator().manual_seed(0),
                           likely=candidates, sampled=[])
    calibrated = checked_export(sn, evaluation, budget, device=CPU, generator=torch.Generator().manual_seed(0),
                                likely=candidates, sampled=[], calibration=calibration)
    for c in candidates:  # each ranked accuracy is the one measured inside its own recalibration
        with recalibrated_batchnorm(sn, c, calibration, CPU):
            acc = supernet_accuracy(sn, c, evaluation, CPU)
        assert next(r["accuracy"] for r in calibrated.ranked if r["sample"] == c) == acc
    # with poisoned statistics every candidate outputs the same constant class: the inputs of the ranking differ
    assert [r["accuracy"] for r in plain.ranked] != [r["accuracy"] for r in calibrated.ranked]


def test_export_config_bn_batches():
    assert ExportConfig().bn_batches == 4
    with pytest.raises(ValueError, match="bn_batches must be an integer >= 0"):
        ExportConfig(bn_batches=-1)


def test_tune_steps_must_be_a_count():
    with pytest.raises(ValueError, match="tune_steps must be an integer >= 0"):
        ExportConfig(tune_steps=-2)
    with pytest.raises(ValueError, match="tune_steps must be an integer >= 0"):
        ExportConfig(tune_steps=1.5)


COSTS = {"conv3x3": 10.0, "blur": 5.0}


def _cost(s):
    return COSTS[s["op1"]] + COSTS[s["op2"]] + s["width"]


def test_the_floor_is_explore_floor_of_a_bound_and_target_floor_of_a_target():
    cfg = ExportConfig(explore_floor=0.6, target_floor=0.95)
    assert cfg.floor(Budget(_cost, 40.0)) == pytest.approx(24.0)
    assert cfg.floor(Budget(_cost, 40.0, target=True)) == pytest.approx(38.0)
    assert cfg.floor(Budget(_cost, None)) is None
    assert (cfg.floor_share(Budget(_cost, 40.0)), cfg.floor_share(Budget(_cost, 40.0, target=True))) == (0.6, 0.95)
    assert ExportConfig().target_floor == 0.9 and Budget(_cost, 1.0).cached().target is False
    assert Budget(_cost, 1.0, target=True).cached().target is True
    with pytest.raises(ValueError, match="target_floor"):
        ExportConfig(target_floor=1.2)


def test_a_target_ranks_only_the_candidates_near_it_when_there_are_any():
    sn = _supernet()
    evaluation = _batches(2, seed=1)
    cheap = {**SAMPLE, "width": 8, "op1": "blur", "op2": "blur"}          # 18
    middle = {**SAMPLE, "width": 8, "op1": "conv3x3", "op2": "blur"}      # 23
    near = {**SAMPLE, "width": 16, "op1": "conv3x3", "op2": "conv3x3"}   # 36
    candidates = [cheap, middle, near]

    def export(budget):
        return checked_export(sn, evaluation, budget, device=CPU, generator=torch.Generator().manual_seed(0),
                              likely=candidates, sampled=[], explore_floor=0.9)

    bound = export(Budget(_cost, 38.0))  # a bound: every feasible candidate is ranked
    assert sorted(r["cost"] for r in bound.ranked) == [18.0, 23.0, 36.0]
    target = export(Budget(_cost, 38.0, target=True))  # a target: only those within 0.9..1.0 x 38
    assert [r["sample"] for r in target.ranked] == [near] and target.sample == near
    fallback = export(Budget(_cost, 30.0, target=True))  # none near 30: every feasible one, as for a bound
    assert sorted(r["cost"] for r in fallback.ranked) == [18.0, 23.0]
