"""The seeds' code with Random: ``from nas_core.strategy import Random`` is this plugin's class, and the seeds'
Filter example runs as written, proposing only feasible samples."""
from __future__ import annotations

from nas_core import TrialResult
from nas_core.strategy import Chain, Filter
from nas_core.strategy.testing import toy_space
from nas_strategy_random import Random


def test_the_seed_import_is_this_plugins_class():
    from nas_core.strategy import Random as SeedRandom

    assert SeedRandom is Random


def test_seed_example_runs_as_written_and_proposes_only_feasible_samples():
    flt = Filter(lambda sample: sample["width"] * 25e6 < 300e6)  # the seeds' FLOPs bound: widths 4 and 8 pass
    strategy = Chain(Random(), flt)
    strategy.setup(toy_space(), seed=0)
    trained = []
    while (s := strategy.ask()) is not None:
        trained.append(s)
        strategy.tell(s, TrialResult(1.0, {"score": 1.0}))
    # the Filter handed its predicate to Random: infeasible samples are never proposed, so none is rejected
    assert flt.guiding and len(trained) == 32 and all(s["width"] in (4, 8) for s in trained)
    assert strategy.drain_rejected() == [] and flt.n_rejected == 0
