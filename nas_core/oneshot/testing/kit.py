"""The kit every one-shot strategy plugin runs against its registry name.

Subclass :class:`OneShotStrategyKit` (or :class:`DifferentiableOneShotKit` for a strategy
with architecture logits and an :class:`~nas_core.oneshot.ExpectationProfilerPenalty`) as
``Test...`` in a test module, and pytest runs every check on your strategy::

    from nas_core.oneshot.testing import DifferentiableOneShotKit

    class TestDartsKit(DifferentiableOneShotKit):
        name = "darts"

The checks are also plain functions taking a factory ``make(**options)``, for variants
the registry name does not build (``lambda **kw: DARTS(gumbel=True, **kw)``).
"""
from __future__ import annotations

import itertools
import json
import math
import random
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, cast

import torch
from torch.nn import functional as F

from nas_core.errors import ConfigError, ConfigTypeError, NasError
from nas_core.interfaces.strategy import OneShotStrategy
from nas_core.interfaces.trainer import Trainer
from nas_core.oneshot.base import BaseOneShot
from nas_core.oneshot.penalty import ExpectationProfilerPenalty, SampleProfilerPenalty
from nas_core.oneshot.supernet import ArchParameters
from nas_core.oneshot.testing.pieces import DigitsOneShotSpace, MacsProfiler, RandomDataTrainer, ZeroLossTrainer
from nas_core.registry import create
from nas_core.space import LayerChoice, ModelSpace, apply_fixed_architecture
from nas_core.threads import torch_threads

__all__ = ["BAD_ARGUMENTS", "assert_registered", "assert_rejects", "assert_wrong_penalty_refused",
           "assert_same_seed_same_export", "assert_warmup_freezes_logits", "assert_penalty_moves_to_cheaper",
           "assert_runs_in_experiment", "assert_export_file_reloads", "assert_retrained_export_is_best_retrained",
           "assert_epochs_stored", "fresh_space", "middle_budget", "retrained_accuracy", "median_random_accuracy",
           "OneShotStrategyKit", "DifferentiableOneShotKit"]


#: (keyword arguments, part of the error message) that every :class:`~nas_core.oneshot.BaseOneShot`
#: strategy rejects with a :class:`~nas_core.errors.ConfigError`
BAD_ARGUMENTS: list[tuple[dict[str, Any], str]] = [
    ({"epochs": 0}, "epochs must be an integer >= 1"),
    ({"arch_data": "test"}, "arch_data must be 'split' or 'val'"),
    ({"seed": -1}, "seed must be an integer >= 0"),
    ({"export_mode": "best"}, "export_mode must be one of"),
    ({"export_config": {"top_k": 3}}, "export_config must be an ExportConfig"),
]


def assert_registered(name: str) -> OneShotStrategy:
    """The registry builds strategy ``name`` as a one-shot strategy that keeps its ``epochs`` and ``seed``."""
    strategy = create("strategy", name, epochs=2, seed=1)
    assert isinstance(strategy, OneShotStrategy), f"{name!r} built a {type(strategy).__name__}, not a OneShotStrategy"
    assert (getattr(strategy, "epochs", None), getattr(strategy, "seed", None)) == (2, 1), (
        f"{name!r} did not keep epochs=2, seed=1")
    return strategy


def assert_rejects(name: str, kwargs: dict[str, Any], match: str) -> ConfigError:
    """Building strategy ``name`` with ``kwargs`` raises a :class:`ConfigError` whose message holds ``match``."""
    try:
        create("strategy", name, **kwargs)
    except ConfigError as err:
        assert match in str(err), f"{name!r} with {kwargs} said {str(err)!r}; expected it to say {match!r}"
        return err
    raise AssertionError(f"{name!r} accepted {kwargs}; it should raise a ConfigError saying {match!r}")


# -- the one-shot strategy kit -----------------------------------------------------------------
Make = Callable[..., BaseOneShot]  # make(**options) -> a fresh strategy
_KIND = {ExpectationProfilerPenalty: "differentiable", SampleProfilerPenalty: "sampling-based"}


def fresh_space() -> DigitsOneShotSpace:
    """A :class:`DigitsOneShotSpace` built under ``torch.manual_seed(0)`` (the same weights every time)."""
    torch.manual_seed(0)
    return DigitsOneShotSpace()


def middle_budget(space: DigitsOneShotSpace, profiler: MacsProfiler) -> float:
    """A MACs budget a third of the way up the costs of every 7th sample: some architectures fit, most do not."""
    costs = sorted(profiler.profile(s) for s in itertools.islice(space.space.enumerate(), 0, None, 7))
    return costs[len(costs) // 3]


def retrained_accuracy(space: ModelSpace, sample: dict[str, Any], trainer: Trainer) -> float:
    """``sample`` frozen out of ``space``, its weights reset, trained by ``trainer`` from seed 0: its accuracy."""
    from nas_core.experiment.trial import reset_weights

    torch.manual_seed(0)
    model = space.freeze(sample)
    reset_weights(model)
    return trainer.fit(model)["accuracy"]


def median_random_accuracy(space: ModelSpace, trainer: Trainer, n: int = 5, first_seed: int = 1000) -> float:
    """The median :func:`retrained_accuracy` of ``n`` random samples (seeds ``first_seed`` on): the bar a
    search's export should clear."""
    with torch_threads(1):
        accuracies = sorted(retrained_accuracy(space, space.random(first_seed + i), trainer) for i in range(n))
    print(f"\nrandom architectures, retrained: {accuracies}")
    return accuracies[n // 2] if n % 2 else (accuracies[n // 2 - 1] + accuracies[n // 2]) / 2


def _runnable(strategy: BaseOneShot) -> Any:
    """The runner runs one-shot strategies too (see nas_core.oneshot.experiment); its annotation names Strategy."""
    return cast(Any, strategy)


def _snapshot(params: Iterable[torch.Tensor]) -> list[torch.Tensor]:
    return [p.detach().clone() for p in params]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b))


def assert_wrong_penalty_refused(make: Make, penalty_class: type) -> None:
    """The strategy takes ``penalty_class`` and refuses the other kind with a ConfigTypeError naming the right one."""
    wrong = SampleProfilerPenalty if penalty_class is ExpectationProfilerPenalty else ExpectationProfilerPenalty
    prof = MacsProfiler(DigitsOneShotSpace(), torch.zeros(1, 1, 8, 8))
    make(penalty=penalty_class(prof, 1e5))
    try:
        make(penalty=wrong(prof, 1e5))
    except ConfigTypeError as err:
        expected = f"is {_KIND[penalty_class]} and takes penalty={penalty_class.__name__}"
        assert expected in str(err) and isinstance(err, TypeError), f"{err!r} should say {expected!r}"
        return
    raise AssertionError(f"a {wrong.__name__} was accepted; only a {penalty_class.__name__} should be")


def assert_same_seed_same_export(make: Make, penalty_class: type = ExpectationProfilerPenalty,
                                 trainer: Callable[[], Trainer] = RandomDataTrainer) -> dict[str, Any]:
    """Two fits with the same seed, after different use of the global RNGs, export the same sample (and,
    when the strategy is ``weighted``, end with equal architecture logits)."""
    space = fresh_space()
    prof = MacsProfiler(space, torch.zeros(1, 1, 8, 8))
    penalty = penalty_class(prof, middle_budget(space, prof))
    fitted = []
    with torch_threads(1):
        for noise in (1, 12345):
            torch.manual_seed(noise)
            random.seed(noise)
            torch.randn(noise % 97 + 1)
            strategy = make(epochs=2, penalty=penalty, seed=4)
            strategy.fit(fresh_space(), trainer())
            fitted.append(strategy)
    a, b = fitted
    assert a.export() == b.export(), (a.export(), b.export())
    if a.weighted:
        assert a.supernet is not None and b.supernet is not None
        assert _same(_snapshot(a.supernet.arch_parameters()), _snapshot(b.supernet.arch_parameters()))
    return a.export()


def assert_warmup_freezes_logits(make: Make, trainer: Callable[[], Trainer] = RandomDataTrainer) -> None:
    """After the warm-up epoch the architecture logits are as initialised; the next epoch moves them."""
    space = fresh_space()
    prof = MacsProfiler(space, torch.zeros(1, 1, 8, 8))
    strategy = make(epochs=2, warmup_epochs=1, penalty=ExpectationProfilerPenalty(prof, middle_budget(space, prof)),
                    seed=3)
    seen: list[list[torch.Tensor]] = []

    def logits_after_epoch(epoch: int, epochs: int, info: dict[str, Any]) -> None:
        assert strategy.supernet is not None
        seen.append(_snapshot(strategy.supernet.arch_parameters()))

    strategy.on_epoch = logits_after_epoch
    with torch_threads(1):
        strategy.fit(space, trainer())
    assert strategy.supernet is not None and len(seen) == 2
    initial = _snapshot(ArchParameters(strategy.supernet.space, generator=torch.Generator().manual_seed(3)).parameters())
    assert _same(seen[0], initial), "the warm-up epoch moved the architecture logits"
    assert not _same(seen[1], initial), "the epoch after the warm-up left the architecture logits as initialised"


def _marginal_costs(space: DigitsOneShotSpace, prof: MacsProfiler) -> dict[str, list[float]]:
    """Per label, the expected cost of each candidate with the other labels uniform."""
    choices = space.space.choices
    uniform = {l: torch.full((len(c.domain),), 1.0 / len(c.domain)) for l, c in choices.items()}
    out = {}
    for label, choice in choices.items():
        costs = []
        for i in range(len(choice.domain)):
            probs = dict(uniform)
            probs[label] = F.one_hot(torch.tensor(i), len(choice.domain)).float()
            costs.append(float(prof.expectation(probs)))
        out[label] = costs
    return out


def assert_penalty_moves_to_cheaper(make: Make) -> None:
    """With a MACs penalty and zero task loss, four architecture steps move every label that has costlier and
    cheaper candidates toward the cheaper ones (probability ordered by cost)."""
    space = fresh_space()
    prof = MacsProfiler(space, torch.zeros(1, 1, 8, 8))
    marginal = _marginal_costs(space, prof)
    # a baseline far below every architecture: always active; 2 epochs x 2 weight batches: 4 architecture steps
    strategy = make(epochs=2, warmup_epochs=0, arch_lr=0.05, penalty=ExpectationProfilerPenalty(prof, 1000.0))
    with torch_threads(1):
        strategy.fit(space, ZeroLossTrainer(n=32, batch_size=8))
    assert strategy.supernet is not None
    final = strategy.supernet.arch.probs()
    checked = 0
    for label, costs in marginal.items():
        if max(costs) - min(costs) < 1e-9:
            continue  # every candidate costs the same (the skip choice adds no MACs): nothing to prefer
        p = final[label].detach()
        n = len(costs)
        cheapest = min(range(n), key=costs.__getitem__)
        dearest = max(range(n), key=costs.__getitem__)
        assert p[cheapest] > 1.0 / n + 0.01, (label, p, costs)
        assert p[dearest] < 1.0 / n - 0.01, (label, p, costs)
        assert float((p * torch.tensor(costs)).sum()) < sum(costs) / n  # the expected cost fell below the uniform one
        checked += 1
    assert checked == 4  # width, op1, kernel, op2


def assert_runs_in_experiment(make: Make, workdir: Path, trainer: Callable[[], Trainer] = RandomDataTrainer) -> None:
    """The experiment runner fits the strategy, stores its export as trial 1 with its cost and writes the
    outputs; a second run of the finished experiment does not search again."""
    from nas_core.experiment import Experiment, TrialStore

    space = fresh_space()
    strategy = make(epochs=1)
    prof = MacsProfiler(space, torch.zeros(1, 1, 8, 8))
    with torch_threads(1):
        best = Experiment(space, trainer(), _runnable(strategy), profilers={"flops": prof}, workdir=workdir, progress=False).run()
    trials = TrialStore(workdir).trials()
    assert best is not None and len(trials) == 1 and trials[0].status == "succeeded" and best.id == 1
    exported = strategy.export()
    assert trials[0].sample == exported and trials[0].costs["flops"] == prof.profile(exported)
    for f in ("best_architecture.json", "oneshot_architecture.json", "best_model.pt", "summary.json", "pareto.png"):
        assert (Path(workdir) / f).exists(), f
    meta = TrialStore(workdir).get_meta("oneshot")
    assert meta["strategy"] == type(strategy).__name__ and len(meta["history"]) == 1
    with torch_threads(1):
        again = Experiment(space, trainer(), _runnable(make(epochs=1)), profilers={"flops": prof}, workdir=workdir,
                           progress=False).run()
    assert again is not None and again.sample == exported and len(TrialStore(workdir).trials()) == 1


def assert_export_file_reloads(make: Make, folder: Path, trainer: Callable[[], Trainer] = RandomDataTrainer) -> None:
    """``export(file=...)`` writes the seed's architecture JSON (by name, or by index with ``fmt="index"``), and
    ``apply_fixed_architecture`` rebuilds a runnable model without choices from it; export before fit is an error."""
    try:
        make().export()
    except NasError as err:
        assert "before fit" in str(err), str(err)
    else:
        raise AssertionError("export() before fit() returned; it should raise a NasError saying to fit first")
    strategy = make(epochs=1)
    with torch_threads(1):
        strategy.fit(fresh_space(), trainer())
    folder = Path(folder)
    sample = strategy.export(file=folder / "arch.json")
    arch = json.loads((folder / "arch.json").read_text())
    assert arch["op1"] in ["conv3x3", "convk", "conv1x1", "blur"] and set(arch) == set(sample)
    model = apply_fixed_architecture(DigitsOneShotSpace(), folder / "arch.json")
    assert model(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    assert not any(isinstance(m, LayerChoice) for m in model.modules())
    assert strategy.export(file=folder / "idx.json", fmt="index") == sample
    assert isinstance(json.loads((folder / "idx.json").read_text())["op1"], int)


def assert_epochs_stored(strategy: BaseOneShot, workdir: Path) -> list[dict[str, Any]]:
    """Run ``strategy`` (3 epochs) in the experiment runner: each epoch's probabilities are stored as it goes, over
    the candidates stored by name, and a caller's ``on_epoch`` still runs. Returns the stored epochs."""
    from nas_core.experiment import Experiment, TrialStore

    space = fresh_space()
    macs = MacsProfiler(space, torch.zeros(1, 1, 8, 8))
    seen: list[int] = []
    strategy.on_epoch = lambda epoch, total, info: seen.append(epoch)
    with torch_threads(1):
        Experiment(space, ZeroLossTrainer(n=16, batch_size=8), _runnable(strategy), profilers={"flops": macs}, workdir=workdir,
                   progress=False).run()
    store = TrialStore(workdir)
    epochs = store.get_meta("oneshot_epochs")
    candidates = store.get_meta("oneshot_candidates")
    assert seen == [1, 2, 3] and [e["epoch"] for e in epochs] == [1, 2, 3]
    assert candidates["op1"] == ["conv3x3", "convk", "conv1x1", "blur"] and candidates["skip"] == ["[0]", "[1]"]
    assert candidates["width"] == ["4", "8", "16"]
    for e in epochs:
        assert set(e["probabilities"]) == set(candidates)
        for label, probs in e["probabilities"].items():
            assert len(probs) == len(candidates[label]) and math.isclose(sum(probs), 1.0, abs_tol=1e-3), (label, probs)
    assert strategy.on_epoch is not None and store.get_meta("oneshot")["strategy"] == type(strategy).__name__
    return epochs


def assert_retrained_export_is_best_retrained(make: Make, folder: Path,
                                              penalty_class: type = ExpectationProfilerPenalty,
                                              trainer: Callable[[], Trainer] = RandomDataTrainer) -> None:
    """With retraining on, the export is the most accurate of the retrained candidates (mean of the default two
    repeats), these are (by default) in turns the supernet's best-scored feasible ones and the best-scored filling
    the budget, everything stays within the budget, and the export JSON records the retraining."""
    from nas_core.oneshot.export import ExportConfig
    from nas_core.oneshot.retrain import filling_the_budget

    space = fresh_space()
    prof = MacsProfiler(space, torch.zeros(1, 1, 8, 8))
    budget = middle_budget(space, prof)
    strategy = make(epochs=2, penalty=penalty_class(prof, budget), seed=3,
                    export_config=ExportConfig(retrain_top=3, retrain_steps=4, tie_band=0.0, top_k=4, sampled=2,
                                               explore=4, batches=2))
    calls: list[tuple[int, int]] = []
    strategy.on_export = lambda done, total: calls.append((done, total))
    with torch_threads(1):
        strategy.fit(fresh_space(), trainer())
    assert calls == [(i, 6) for i in range(1, 7)], calls  # 3 candidates x 2 repeats, each reported
    report = strategy.export_report
    assert report is not None and report.retrain == {"top": 3, "steps": 4, "init": "fresh", "order": "filling",
                                                   "repeats": 2}, report
    retrained = report.retrained
    assert all(len(r["accuracies"]) == 2 and r["accuracy"] == sum(r["accuracies"]) / 2 for r in retrained)
    floor = strategy.export_config.explore_floor * budget
    assert [r["sample"] for r in retrained] == [r["sample"] for r in filling_the_budget(report.ranked, floor)[:3]]
    best = max(retrained, key=lambda r: r["accuracy"])["accuracy"]
    exported = strategy.export(file=Path(folder) / "arch.json")
    assert next(r for r in retrained if r["sample"] == exported)["accuracy"] == best
    assert all(prof.profile(r["sample"]) <= budget for r in retrained) and prof.profile(exported) <= budget
    assert report.supernet_pick in [r["sample"] for r in report.ranked]
    written = json.loads((Path(folder) / "arch.export.json").read_text())
    assert written["retrain"]["init"] == "fresh" and written["sample"] == exported
    assert [r["accuracy"] for r in written["retrained"]] == [r["accuracy"] for r in retrained]


class OneShotStrategyKit:
    """What every one-shot strategy plugin passes. Subclass it as ``Test...`` in a test module and set
    :attr:`name` (the registry name), :attr:`penalty_class` (the penalty kind it takes) and, if needed,
    :attr:`options` (passed to every strategy the kit builds, e.g. fewer controller steps)."""

    name: ClassVar[str] = ""
    penalty_class: ClassVar[type] = ExpectationProfilerPenalty
    options: ClassVar[dict[str, Any]] = {}

    def make(self, **options: Any) -> BaseOneShot:
        """A fresh strategy from the registry, with :attr:`options` and then ``options``."""
        if not self.name:
            raise ConfigError(f"{type(self).__name__} needs name = '<the strategy's registry name>'.")
        strategy = create("strategy", self.name, **{**self.options, **options})
        assert isinstance(strategy, BaseOneShot), f"{self.name!r} built a {type(strategy).__name__}, not a BaseOneShot"
        return strategy

    def test_registered_by_name(self) -> None:
        assert_registered(self.name)

    def test_bad_arguments_are_refused(self) -> None:
        for kwargs, match in BAD_ARGUMENTS:
            err = assert_rejects(self.name, kwargs, match)
            assert isinstance(err, TypeError) == ("export_config" in kwargs), err

    def test_wrong_penalty_kind_is_refused(self) -> None:
        assert_wrong_penalty_refused(self.make, self.penalty_class)

    def test_default_warmup_is_forty_percent(self) -> None:
        assert self.make(epochs=10).warmup_epochs == 4 and self.make(epochs=10, warmup_epochs=0).warmup_epochs == 0

    def test_same_seed_same_export_whatever_the_global_rng(self) -> None:
        assert_same_seed_same_export(self.make, self.penalty_class)

    def test_runs_in_the_experiment_runner(self, tmp_path: Path) -> None:
        assert_runs_in_experiment(self.make, tmp_path)

    def test_export_file_is_seed_json_and_reloads(self, tmp_path: Path) -> None:
        assert_export_file_reloads(self.make, tmp_path)

    def test_retrained_export_is_the_best_retrained(self, tmp_path: Path) -> None:
        assert_retrained_export_is_best_retrained(self.make, tmp_path, self.penalty_class)


class DifferentiableOneShotKit(OneShotStrategyKit):
    """The kit plus what a strategy with architecture logits and an :class:`ExpectationProfilerPenalty` passes."""

    def test_warmup_leaves_architecture_logits_untouched(self) -> None:
        assert_warmup_freezes_logits(self.make)

    def test_penalty_alone_moves_probability_to_cheaper_candidates(self) -> None:
        assert_penalty_moves_to_cheaper(self.make)
