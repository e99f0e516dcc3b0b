"""Why does a one-shot export rank where it does? (issue #19 diagnosis)

    nice -n 10 .venv/bin/python benchmarks/oneshot_diagnose.py --spaces digits_wide --strategies darts \
        --percentiles 30 --seeds 2 [--tune-steps 0 20] [--sub 100]

One fit per (space, strategy, budget, seed) with default settings; then, on that supernet:

* ``spearman``: rank correlation between the supernet's validation accuracy (inherited
  weights, the export's own evaluation) and the table accuracy, over ``--sub`` feasible
  networks of the table drawn uniformly: how good a judge the supernet is;
* ``export``: the table rank of the checked export; ``pool best``: the best table rank
  among the candidates the export ranked (what a perfect judge of that pool would get);
* ``sub pick``: the table rank of the best of the ``--sub`` networks by supernet accuracy
  (what a uniform pool of that size would give).

With ``--tune-steps N`` each measure is repeated after N single-path weight steps on
fair paths (a copy of the supernet), to see whether the inherited weights judge better
once they have run single paths.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import random
import sys
from pathlib import Path
from typing import Any

import torch
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from digits_data import digits_split  # noqa: E402
from digits_spaces import SPACES  # noqa: E402
import make_digits_tables as gen  # noqa: E402
from oneshot_quality import Lookup, load_table, make_strategy, rank  # noqa: E402

from nas_core.oneshot.data import split_loaders, to_device  # noqa: E402
from nas_core.oneshot.export import supernet_accuracy  # noqa: E402
from nas_core.oneshot.sampling import FairPathSampler  # noqa: E402
from nas_core.oneshot.testing import MacsProfiler  # noqa: E402
from nas_trainer_classification import ClassificationTrainer  # noqa: E402


@torch.no_grad()
def acc_loss(sn: Any, sample: dict[str, Any], batches: list[Any]) -> tuple[float, float]:
    """(accuracy, minus the mean cross-entropy) of ``sample`` with inherited weights (eval mode)."""
    sn.set_sample(sample)
    sn.eval()
    correct, nll, n = 0, 0.0, 0
    for x, y in batches:
        out = sn(x)
        correct += int((out.argmax(-1) == y).sum())
        nll += float(torch.nn.functional.cross_entropy(out, y, reduction="sum"))
        n += len(y)
    sn.train()
    return correct / n, -nll / n


def tune(supernet: Any, trainer: Any, weight_data: Any, steps: int, seed: int) -> Any:
    supernet.state.weights = {}  # DARTS/ProxylessNAS leave graph tensors here: not copyable
    supernet.set_sample(supernet.space.default())
    sn = copy.deepcopy(supernet)
    if not steps:
        return sn
    opt = trainer.make_optimizer(sn.weight_parameters())
    fair = FairPathSampler(sn.arch.domains, torch.Generator().manual_seed(seed))
    sn.train()
    done = 0
    while done < steps:
        for batch in weight_data:
            x, y = to_device(batch, torch.device("cpu"))
            sn.set_sample(fair())
            opt.zero_grad(set_to_none=True)
            trainer.loss(sn(x), y).backward()
            opt.step()
            done += 1
            if done >= steps:
                break
    return sn


def diagnose(args: argparse.Namespace) -> None:
    data = digits_split()
    for name in args.spaces:
        table = load_table(name)
        lookup = Lookup(name, table)
        profiler = MacsProfiler(SPACES[name](), torch.zeros(1, 1, 8, 8))
        for p in args.percentiles:
            budget = table.budget("macs", p)
            feas = [r for r in table.records if r["macs"] <= budget]
            for kind in args.strategies:
                for seed in range(args.seeds):
                    trainer = ClassificationTrainer(train=(data[0], data[1]), val=(data[2], data[3]),
                                                    batch_size=gen.BATCH, lr=gen.LR, seed=seed)
                    strategy = make_strategy(kind, profiler, budget, seed, args.epochs, args.export_config)
                    strategy.fit(SPACES[name](), trainer)
                    export = lookup(strategy.export())
                    weight_data, arch_data = split_loaders(trainer, "split", 0.5, seed)
                    batches = [b for _, b in zip(range(8), arch_data)]
                    sub = random.Random(seed).sample(feas, min(args.sub, len(feas)))
                    pool = [r["sample"] for r in strategy.export_report.ranked]
                    out: dict[str, Any] = {"space": name, "p": int(p), "strategy": kind, "seed": seed,
                                           "export": round(rank(table, export, budget), 3),
                                           "export_cost": round(export["macs"] / budget, 2), "pool": len(pool),
                                           "export_sample": export["sample"]}
                    for steps in args.tune_steps:
                        sn = tune(strategy.supernet, trainer, weight_data, steps, seed)
                        scores = [acc_loss(sn, r["sample"], batches) for r in sub]
                        truth = [r["val_accuracy"] for r in sub]
                        pool_scores = [acc_loss(sn, s, batches) for s in pool]
                        res: dict[str, Any] = {}
                        for m, metric in enumerate(("acc", "nll")):
                            rho = spearmanr([sc[m] for sc in scores], truth).statistic
                            pick = sub[max(range(len(sub)), key=lambda i: scores[i][m])]
                            pool_pick = lookup(pool[max(range(len(pool)), key=lambda i: pool_scores[i][m])])
                            res[metric] = [round(float(rho), 3), round(rank(table, pick, budget), 3),
                                           round(rank(table, pool_pick, budget), 3)]
                        out[f"t{steps}"] = res
                    if args.pool_best:
                        out["pool_best"] = round(max(rank(table, lookup(s), budget) for s in pool), 3)
                    print(json.dumps(out), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spaces", nargs="+", default=list(SPACES), choices=list(SPACES))
    ap.add_argument("--strategies", nargs="+", default=["darts", "enas", "proxyless"])
    ap.add_argument("--percentiles", nargs="+", type=float, default=[10, 30, 50])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--sub", type=int, default=100)
    ap.add_argument("--tune-steps", nargs="+", type=int, default=[0])
    ap.add_argument("--export-config", type=json.loads, default=None, help="ExportConfig overrides (JSON)")
    ap.add_argument("--pool-best", action="store_true", help="look every pool candidate up (trains missing ones)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"load {os.getloadavg()}")
    diagnose(args)
    print(f"load {os.getloadavg()}")


if __name__ == "__main__":
    main()
