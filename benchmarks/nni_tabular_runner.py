"""Run NNI 3.0's multi-trial strategies on a NAS-Bench-Graph lookup table (side venv only).

Called by ``search_suite.py`` with the side venv's Python (``.venv-nni``, made by
``/work/shared/tools/setup-nni-venv.sh``); reads the arrays ``nasbench_graph.py`` cached and
prints one JSON line per run: the validation accuracy of each evaluation in order (0 for an
infeasible sample in bad-metric mode) and whether it was feasible.

    .venv-nni/bin/python benchmarks/nni_tabular_runner.py jobs.json

``jobs.json`` is a list of jobs ``{"key", "table", "bound", "mode", "strategy", "seeds", "budget"}``
(``table``: an ``.npz`` with ``valid`` and ``latency``; ``mode``: ``filter`` or ``bad``). Each
output line carries its job's ``key``.

What NNI 3.0 needs to run here (without it TPE stops early or searches for the worst, and
PolicyBasedRL is too slow to finish):

- NNI's ``TPE()`` wraps ``TpeTuner``, whose ``optimize_mode`` defaults to ``"minimize"``: left
  at its default it searches for the *worst* accuracy. It is built with
  ``optimize_mode="maximize"`` and the run's seed (its own RNG ignores the global seeds).
- NNI's strategies poll their execution engine with ``time.sleep(1)``: ``TPE`` sleeps one
  second after every model it submits (``HPOTunerStrategy._run``), which makes 300 evaluations
  take 5 minutes per run. With the ``SequentialExecutionEngine`` a submitted model is trained
  before ``submit_models`` returns, so there is nothing to wait for: those polling sleeps are
  replaced by no-ops (:func:`skip_polling_sleeps`). Nothing else of NNI is changed.
- Torch runs on one thread (``torch.set_num_threads(1)``, as our strategies' policy and models
  do). NNI's PolicyBasedRL (tianshou PPO, an LSTM policy) took 108 s per policy update with
  torch's default threads on 2 busy cores (1.7-1.9 CPU s per evaluation), about 3 s with one.
- Every NNI strategy gets the run's seed: ``Random`` and ``RegularizedEvolution`` draw from their
  own ``numpy.random.RandomState``, which without ``seed=`` is seeded from the OS, so their
  figures changed from one invocation to the next (the global seeds set here do not reach it).
- In filter mode NNI's TPE is told that a rejected sample scores 0 (``Filter(metric_for_invalid=0)``).
  TPE learns only from metrics: told nothing, it keeps proposing rejected samples, its
  deduplicator then falls back to grid order, and NNI's ``Filter`` ends the run after 1,000
  rejections in a row (20 evaluations of 30 at p = 10 in a test). The other NNI strategies are
  told nothing about rejected samples, as before.
"""
from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import warnings

import numpy as np

OPS = ["gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip"]
LABELS = [("op0", OPS), ("lk1", [0, 1]), ("op1", OPS), ("lk2", [0, 1, 2]), ("op2", OPS), ("lk3", [0, 1, 2, 3]),
          ("op3", OPS)]
SIZES = [len(d) for _, d in LABELS]
RADIX = [int(np.prod(SIZES[i + 1:])) for i in range(len(SIZES))]


def raw_index(sample: dict) -> int:
    return sum(dom.index(sample[label]) * r for (label, dom), r in zip(LABELS, RADIX))


def skip_polling_sleeps() -> None:
    """Make the ``time.sleep`` calls of NNI's strategy and engine polling loops return at once (see above)."""
    import time
    import types

    import nni.nas.execution.engine as engine_module
    import nni.nas.strategy.base as base_module
    import nni.nas.strategy.hpo as hpo_module

    no_wait = types.SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("_")})
    no_wait.sleep = lambda seconds: None
    for module in (hpo_module, base_module, engine_module):
        module.time = no_wait


def make_strategy(name: str, seed: int):
    from nni.nas import strategy as S

    # Random and RegularizedEvolution draw from their own numpy RandomState, seeded from the OS unless given a seed
    if name == "random":
        return S.Random(dedup=True, seed=seed)
    if name == "evolution":  # NNI's defaults: population 100, tournament 25
        return S.RegularizedEvolution(dedup=True, seed=seed)
    if name == "evolution-50-10":
        return S.RegularizedEvolution(population_size=50, sample_size=10, dedup=True, seed=seed)
    if name == "tpe":  # TpeTuner minimises by default and has its own RNG
        return S.TPE(optimize_mode="maximize", seed=seed)
    if name == "ppo":
        return S.PolicyBasedRL()
    raise SystemExit(f"unknown NNI strategy {name!r}")


def run(table: dict, bound: float, mode: str, strategy_name: str, seed: int, budget: int) -> dict:
    import nni
    import torch
    from nni.mutable import ensure_frozen
    from nni.nas.evaluator import FunctionalEvaluator
    from nni.nas.execution import SequentialExecutionEngine
    from nni.nas.nn.pytorch import ModelSpace
    from nni.nas.space import RawFormatModelSpace, model_context
    from nni.nas.strategy.middleware import Chain, Filter

    valid, latency = table["valid"], table["latency"]

    class TableSpace(ModelSpace):
        def __init__(self):
            super().__init__()
            self.arch = {label: ensure_frozen(self.add_mutable(nni.choice(label, dom)), strict=False)
                         for label, dom in LABELS}

        def freeze(self, sample):
            with model_context(sample):
                return self.__class__()

    scores: list[float] = []
    feasible: list[bool] = []

    def evaluate(model):
        i = raw_index(model.arch)
        ok = bool(latency[i] <= bound)
        v = float(valid[i]) if ok else 0.0
        scores.append(v)
        feasible.append(ok)
        nni.report_final_result(v)

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    strategy = make_strategy(strategy_name, seed)
    if mode == "filter":
        # NNI's Filter hands the predicate the model (an ExecutableModelSpace), not the sample; TPE is told a
        # rejected sample scores 0 (it learns only from metrics: see the module's docstring)
        penalty = 0.0 if strategy_name == "tpe" else None
        strategy = Chain(strategy, Filter(lambda model: bool(latency[raw_index(model.sample)] <= bound),
                                          metric_for_invalid=penalty))
    space = RawFormatModelSpace.from_model(TableSpace(), FunctionalEvaluator(evaluate))
    engine = SequentialExecutionEngine(max_model_count=budget, continue_on_failure=True)
    try:
        strategy(space, engine)
    except Exception as err:  # noqa: BLE001 - report how far it got
        return {"seed": seed, "scores": scores, "feasible": feasible, "error": f"{type(err).__name__}: {err}"}
    return {"seed": seed, "scores": scores, "feasible": feasible}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("jobs", help="a JSON file: a list of jobs")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    skip_polling_sleeps()
    import torch

    torch.set_num_threads(1)
    with open(args.jobs) as f:
        jobs = json.load(f)
    tables: dict[str, dict] = {}
    for job in jobs:
        if job["table"] not in tables:
            z = np.load(job["table"])
            tables[job["table"]] = {"valid": z["valid"], "latency": z["latency"]}
        for seed in job["seeds"]:
            out = run(tables[job["table"]], job["bound"], job["mode"], job["strategy"], seed, job["budget"])
            print(json.dumps({"key": job["key"], **out}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
