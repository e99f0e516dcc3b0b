"""Issue #19: the checked export's best candidates are retrained alone before one is chosen
(nas_core.oneshot.retrain). The strategies' part (a fitted search exports the best retrained, within the
budget, recorded in the export JSON) runs in each one-shot plugin through the kit."""
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from nas_core.errors import ConfigError
from nas_core.oneshot import Supernet
from nas_core.oneshot.export import ExportConfig
from nas_core.oneshot.retrain import (
    best_of, by_supernet_score, filling_the_budget, fresh_model, inherited_path, model_accuracy, retrain_best, train_steps,
)
from nas_core.oneshot.data import forever
from nas_core.oneshot.testing import DigitsOneShotSpace, RandomDataTrainer

CPU = torch.device("cpu")
BASE = {"width": 8, "op1": "conv3x3", "kernel": 3, "op2": "conv3x3", "skip": [1]}


def _space():
    torch.manual_seed(0)
    return DigitsOneShotSpace()


def _data(trainer, seed=5):
    """A shuffling weight loader (its own generator) and two validation batches."""
    weights = DataLoader(trainer.train_data, batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(seed))
    return weights, list(DataLoader(trainer.val_data, batch_size=16))[:2]


def _ranked():
    """Four feasible candidates with made-up supernet scores: the ordering decides which are retrained."""
    samples = [BASE, {**BASE, "op1": "blur"}, {**BASE, "width": 16}, {**BASE, "op2": "conv1x1", "width": 4}]
    return [{"sample": s, "accuracy": acc, "cost": cost, "origin": "likely"}
            for s, acc, cost in zip(samples, (0.5, 0.2, 0.5, 0.7), (10.0, 30.0, 20.0, 5.0))]


def test_only_the_best_scored_are_retrained_and_the_most_accurate_of_them_is_chosen():
    space, trainer = _space(), RandomDataTrainer(n=96)
    weights, batches = _data(trainer)
    chosen, retrained = retrain_best(_ranked(), 3, lambda s, k: fresh_model(space, s, CPU, seed=9), trainer, weights,
                                     batches, steps=6, device=CPU, seed=9)
    # supernet order: 0.7 first, then the two 0.5 ones, the costlier (20.0) before the cheaper (10.0); 0.2 is left out
    assert [r["sample"] for r in retrained] == [_ranked()[i]["sample"] for i in (3, 2, 0)]
    assert [r["supernet_accuracy"] for r in retrained] == [0.7, 0.5, 0.5]
    accuracies = [r["accuracy"] for r in retrained]
    assert len(set(accuracies)) > 1  # the retraining told them apart
    assert chosen == max(retrained, key=lambda r: (r["accuracy"], r["cost"]))["sample"]


def test_each_candidate_trains_under_the_same_seed_on_the_same_batches():
    space, trainer = _space(), RandomDataTrainer(n=96)
    weights, batches = _data(trainer)
    _, retrained = retrain_best(_ranked(), 2, lambda s, k: fresh_model(space, s, CPU, seed=9), trainer, weights,
                                batches, steps=5, device=CPU, seed=9)
    # the second candidate alone, from a fresh loader with the same shuffling seed: the same accuracy
    again, _ = _data(trainer)
    torch.manual_seed(9)
    with fresh_model(space, retrained[1]["sample"], CPU, seed=9) as model:
        loss = train_steps(model, trainer, forever(again), 5, CPU)
        acc = model_accuracy(model, batches, CPU)
    assert (acc, loss) == (retrained[1]["accuracy"], retrained[1]["train_loss"])


def test_repeats_average_other_seeds_and_batch_orders_and_rewind_the_loader():
    space, trainer = _space(), RandomDataTrainer(n=96)
    weights, batches = _data(trainer)
    start = weights.generator.get_state()
    open_model = lambda s, k: fresh_model(space, s, CPU, seed=k)  # noqa: E731
    _, once = retrain_best(_ranked(), 2, open_model, trainer, weights, batches, steps=5, device=CPU, seed=9)
    calls = []
    chosen, twice = retrain_best(_ranked(), 2, open_model, trainer, weights, batches, steps=5, device=CPU, seed=9,
                                 repeats=2, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert torch.equal(weights.generator.get_state(), start)  # the user's loader is left where it was
    for one, two in zip(once, twice):
        assert two["accuracies"][0] == one["accuracy"]  # the first repeat is the single run
        assert two["accuracy"] == pytest.approx(sum(two["accuracies"]) / 2)
    # the second repeat: initialised under seed + 1, batches in the order of a loader reseeded with seed + 1
    again, _ = _data(trainer, seed=10)
    torch.manual_seed(10)
    with fresh_model(space, twice[1]["sample"], CPU, seed=10) as model:
        train_steps(model, trainer, forever(again), 5, CPU)
        assert model_accuracy(model, batches, CPU) == twice[1]["accuracies"][1]
    assert chosen == best_of(twice, 0.0, 32)
    with pytest.raises(ConfigError, match="repeats >= 1"):
        retrain_best(_ranked(), 2, open_model, trainer, weights, batches, steps=5, device=CPU, seed=9, repeats=0)


def test_fresh_model_is_reinitialised_under_its_seed_and_leaves_the_space_alone():
    space = _space()
    before = {k: v.clone() for k, v in space.state_dict().items()}
    with fresh_model(space, BASE, CPU, seed=1) as a, fresh_model(space, BASE, CPU, seed=1) as b, \
            fresh_model(space, BASE, CPU, seed=2) as c:
        pa, pb, pc = (list(m.parameters()) for m in (a, b, c))
        assert all(torch.equal(x, y) for x, y in zip(pa, pb))
        assert not all(torch.equal(x, y) for x, y in zip(pa, pc))
        assert a(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    assert all(torch.equal(before[k], v) for k, v in space.state_dict().items())


def test_inherited_path_trains_the_supernet_path_then_restores_every_weight():
    sn = Supernet(_space(), generator=torch.Generator().manual_seed(0))
    trainer = RandomDataTrainer(n=64)
    weights, batches = _data(trainer)
    before = {k: v.clone() for k, v in sn.state_dict().items()}
    with inherited_path(sn, BASE) as model:
        train_steps(model, trainer, forever(weights), 3, CPU)
        assert not all(torch.equal(before[k], v) for k, v in sn.state_dict().items())
        assert 0.0 <= model_accuracy(model, batches, CPU) <= 1.0
    assert all(torch.equal(before[k], v) for k, v in sn.state_dict().items())


def test_ties_within_the_band_go_to_the_costliest():
    scored = [{"sample": {"a": 1}, "accuracy": 0.80, "cost": 1.0}, {"sample": {"a": 2}, "accuracy": 0.79, "cost": 3.0},
              {"sample": {"a": 3}, "accuracy": 0.60, "cost": 9.0}]
    assert best_of(scored, tie_band=0.0, n_examples=400) == {"a": 1}
    assert best_of(scored, tie_band=1.0, n_examples=400) == {"a": 2}  # 1 s.e. of 0.8 on 400 = 0.02
    assert [r["sample"] for r in by_supernet_score(scored)] == [{"a": 1}, {"a": 2}, {"a": 3}]


def test_export_config_retrain_defaults_and_bad_values():
    cfg = ExportConfig()
    assert (cfg.retrain_top, cfg.retrain_epochs, cfg.retrain_steps, cfg.retrain_init, cfg.retrain_order,
            cfg.retrain_repeats) == (8, 4.0, None, "fresh", "filling", 2)
    for kwargs, match in (({"retrain_top": -1}, "retrain_top must be an integer >= 0"),
                          ({"retrain_top": 2.5}, "retrain_top must be an integer >= 0"),
                          ({"retrain_epochs": 0}, "retrain_epochs must be a number > 0"),
                          ({"retrain_steps": 0}, "retrain_steps must be an integer >= 1"),
                          ({"retrain_repeats": 0}, "retrain_repeats must be an integer >= 1"),
                          ({"retrain_init": "warm"}, "retrain_init must be 'fresh' or 'inherited'"),
                          ({"retrain_order": "cost"}, "retrain_order must be 'supernet' or 'filling'")):
        with pytest.raises(ConfigError, match=match):
            ExportConfig(**kwargs)


def test_filling_the_budget_takes_turns_between_the_best_and_the_best_budget_filling():
    # supernet accuracy favours the cheap ones (cost 1..3); the band is cost >= 7
    scored = [{"sample": {"a": i}, "accuracy": acc, "cost": cost}
              for i, (acc, cost) in enumerate([(0.9, 1.0), (0.85, 2.0), (0.8, 3.0), (0.6, 8.0), (0.7, 7.5), (0.5, 9.0)])]
    order = [r["sample"]["a"] for r in filling_the_budget(scored, floor=7.0)]
    assert order == [0, 4, 1, 3, 2, 5]
    # when the best is itself in the band it is not repeated; with no candidate in the band: plain supernet order
    assert [r["sample"]["a"] for r in filling_the_budget(scored, floor=0.0)] == [0, 1, 2, 4, 3, 5]
    assert [r["sample"]["a"] for r in filling_the_budget(scored, floor=100.0)] == [0, 1, 2, 4, 3, 5]
