"""One-shot search quality on the exhaustive digits tables (issue #19).

    nice -n 10 .venv/bin/python benchmarks/oneshot_quality.py [--spaces digits_wide digits_deep]
        [--strategies darts enas proxyless] [--percentiles 10 30 50] [--seeds 5] [--epochs 10]
        [--variants '[{"init": "inherited", "epochs": 2, "top": 4}]'] [--out runs.jsonl]

Each one-shot strategy runs with its default settings (as a user calls it: the trainer, a
MACs profiler and a penalty whose baseline is the budget) on a space of
``digits_spaces.py``; its export is looked up in the space's table (every network trained
twice with the table's recipe). Per strategy, space and budget (the p-th percentile of the
table's MACs) it prints, as medians over the seeds: the export's cost / budget, its table
accuracy and its rank among the feasible networks (the share of them it beats or ties:
1.0 = the best; infeasible = 0), for the checked export and for the argmax of the same run,
beside random search given the same CPU time (feasible networks drawn uniformly, each
"trained" once: it sees one training seed's accuracy from the table and keeps the best).

With retraining on (the default ``ExportConfig.retrain_top``), the same run also gives the
supernet's own pick before retraining (what ``retrain_top=0`` exports). ``--variants``
retrains the same ranked candidates of each fit with other settings (init, epochs, how many)
and prints the median rank of each, so that settings are compared on the same supernets.

Missing table entries (while the table is still being generated) are trained on demand
with the table's recipe and appended to its partial files, so the generator reuses them.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from digits_data import DATA_DIR, DigitsTable, digits_split  # noqa: E402
from digits_spaces import SPACES, canonical  # noqa: E402
import make_digits_tables as gen  # noqa: E402

from nas_core.oneshot import ExpectationProfilerPenalty, SampleProfilerPenalty  # noqa: E402
from nas_core.oneshot.data import split_loaders  # noqa: E402
from nas_core.oneshot.export import ExportConfig  # noqa: E402
from nas_core.oneshot.retrain import (  # noqa: E402
    best_of, by_supernet_score, candidate_order, fresh_model, inherited_path, retrain_best,
)
from nas_core.oneshot.testing import MacsProfiler  # noqa: E402
from nas_trainer_classification import ClassificationTrainer  # noqa: E402


def load_table(name: str) -> DigitsTable:
    """The finished table, or (while it is generated) every record of its partial files."""
    path = DATA_DIR / f"{name}.json.gz"
    if path.exists():
        return DigitsTable.load(name, path)
    done = gen.read_done(name)
    table = DigitsTable(name, {"records": [{k: v for k, v in r.items() if k != "index"} for r in done.values()],
                               "partial": True})
    print(f"[{name}: table not finished, using {len(done)} of its records (a uniform subsample)]")
    return table


class Lookup:
    """Table lookups that train a missing network on demand (the table's recipe and seeds)."""

    def __init__(self, name: str, table: DigitsTable) -> None:
        self.name, self.table = name, table
        self._index = {json.dumps(s, sort_keys=True): i for i, s in enumerate(gen.canonical_samples(name))}
        self._extra: dict[str, dict[str, Any]] = {}
        self._data = None

    def __call__(self, sample: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.table.lookup(sample)
        except KeyError:
            pass
        key = json.dumps(canonical(self.name, sample), sort_keys=True)
        if key not in self._extra:
            self._data = self._data or digits_split()
            rec = gen.evaluate(self.name, self._index[key], json.loads(key), self._data)
            with (DATA_DIR / "partial" / f"{self.name}.shard-bench.jsonl").open("a") as fh:
                fh.write(json.dumps(rec) + "\n")
            self._extra[key] = rec
        return self._extra[key]


def make_strategy(kind: str, profiler: Any, budget: float, seed: int, epochs: int,
                  export_config: dict[str, Any] | None = None) -> Any:
    """``kind`` with its defaults (``export_config``: ExportConfig fields to override, for experiments)."""
    extra: dict[str, Any] = {"export_config": ExportConfig(**export_config)} if export_config else {}
    if kind == "darts":
        from nas_strategy_darts import DARTS
        return DARTS(epochs=epochs, seed=seed, penalty=ExpectationProfilerPenalty(profiler, budget), **extra)
    if kind == "proxyless":
        from nas_strategy_proxyless import ProxylessNAS
        return ProxylessNAS(epochs=epochs, seed=seed, penalty=ExpectationProfilerPenalty(profiler, budget), **extra)
    if kind == "enas":
        from nas_strategy_enas import ENAS
        return ENAS(epochs=epochs, seed=seed, penalty=SampleProfilerPenalty(profiler, budget), **extra)
    raise SystemExit(f"unknown strategy {kind!r}")


def rank(table: DigitsTable, rec: dict[str, Any], budget: float) -> float:
    if rec["macs"] > budget:
        return 0.0
    feas = [r["val_accuracy"] for r in table.records if r["macs"] <= budget]
    return sum(a <= rec["val_accuracy"] for a in feas) / max(len(feas), 1)


def random_search(table: DigitsTable, budget: float, cpu_s: float, seed: int) -> tuple[dict[str, Any], int]:
    """Best of the feasible networks random search trains in ``cpu_s`` (each costs its table train_cpu_s)."""
    rng = random.Random(seed)
    feas = [r for r in table.records if r["macs"] <= budget]
    spent, best, n = 0.0, None, 0
    while True:
        r = rng.choice(feas)
        spent += r.get("train_cpu_s", 0.5)
        if n and spent > cpu_s:
            break
        n += 1
        if best is None or r["seeds"][0] > best["seeds"][0]:
            best = r
    return best, n


def scored(table: DigitsTable, rec: dict[str, Any], budget: float) -> dict[str, Any]:
    return {"cost": rec["macs"] / budget, "acc": rec["val_accuracy"], "rank": rank(table, rec, budget)}


def costliest_near_best(ranked: list[dict[str, Any]], band: float, n: int) -> list[dict[str, Any]]:
    """Candidates within ``band`` binomial standard errors of the best supernet accuracy, costliest first; then
    the rest by supernet accuracy."""
    top = max(r["accuracy"] for r in ranked)
    cut = top - band * (max(top * (1 - top), 1e-4) / max(n, 1)) ** 0.5 - 1e-12
    near = sorted((r for r in ranked if r["accuracy"] >= cut), key=lambda r: -r["cost"])
    return near + [r for r in by_supernet_score(ranked) if r["accuracy"] < cut]


def variants(specs: list[dict[str, Any]], strategy: Any, report: Any, name: str, trainer: Any, seed: int,
             table: DigitsTable, lookup: Lookup, budget: float) -> dict[str, Any]:
    """Other retraining settings on the same fitted supernet and ranked candidates (fresh loaders of the same
    split): for each ``{"init", "epochs", "top"}`` (optional: ``"select"``, ``"repeats"``), the table rank of the best of the first 1..top retrained."""
    weight_data, arch_data = split_loaders(trainer, "split", 0.5, seed)
    batches = [b for _, b in zip(range(strategy.export_config.batches), arch_data)]
    n = sum(len(b[1]) for b in batches)
    out = {}
    for spec in specs:
        steps = max(1, round(spec["epochs"] * len(weight_data)))
        if spec["init"] == "fresh":
            open_model = lambda s, k: fresh_model(SPACES[name](), s, torch.device("cpu"), k)  # noqa: E731
        else:
            open_model = lambda s, k: inherited_path(strategy.supernet, s)  # noqa: E731
        order = by_supernet_score
        floor = strategy.export_config.explore_floor * budget
        if spec.get("select") == "costly":  # the costliest of those within `band` standard errors of the best
            order = lambda ranked: costliest_near_best(ranked, spec.get("band", 2.0), n)  # noqa: E731
        elif spec.get("select") == "filling":  # turns: best overall, best costing >= explore_floor x the budget
            order = candidate_order("filling", floor)
        elif spec.get("select") == "band":  # only those costing >= explore_floor x the budget (all when none does)
            order = lambda ranked: ([r for r in by_supernet_score(ranked) if r["cost"] >= floor]  # noqa: E731
                                    or by_supernet_score(ranked))
        cpu0 = time.process_time()
        _, retrained = retrain_best(report.ranked, spec["top"], open_model, trainer, weight_data, batches, steps,
                                    torch.device("cpu"), strategy.seed + 53, strategy.export_config.tie_band, order,
                                    repeats=spec.get("repeats", 1))
        cpu_s = time.process_time() - cpu0
        key = (f"{spec['init']}-e{spec['epochs']:g}" + (f"-{spec['select']}" if spec.get("select") else "")
               + (f"-r{spec['repeats']}" if spec.get("repeats", 1) > 1 else ""))
        n_judged = n * spec.get("repeats", 1)
        out[key] = {"cpu_s": cpu_s, "steps": steps,
                    "top": {str(t): scored(table, lookup(best_of(retrained[:t], strategy.export_config.tie_band,
                                                                 n_judged)), budget)
                            for t in range(1, len(retrained) + 1)}}
    return out


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every (seed, space, percentile, strategy) run, seeds outermost (a cut-short run covers every cell)."""
    data = digits_split()
    rows = []
    tables = {name: load_table(name) for name in args.spaces}
    lookups = {name: Lookup(name, tables[name]) for name in args.spaces}
    profilers = {name: MacsProfiler(SPACES[name](), torch.zeros(1, 1, 8, 8)) for name in args.spaces}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for name in args.spaces:
            table, lookup, profiler = tables[name], lookups[name], profilers[name]
            for p in args.percentiles:
                budget = table.budget("macs", p)
                p = int(p) if float(p).is_integer() else p
                for kind in args.strategies:
                    trainer = ClassificationTrainer(train=(data[0], data[1]), val=(data[2], data[3]),
                                                    batch_size=gen.BATCH, lr=gen.LR, seed=seed)
                    strategy = make_strategy(kind, profiler, budget, seed, args.epochs, args.export_config)
                    with torch.random.fork_rng(devices=[]):  # the space's initial weights: the seed's, whatever ran before
                        torch.manual_seed(seed)
                        space = SPACES[name]()
                    cpu0 = time.process_time()
                    strategy.fit(space, trainer)
                    cpu_s = time.process_time() - cpu0
                    checked = lookup(strategy.export())
                    argmax = lookup(dict(strategy._argmax(strategy.supernet)))
                    report = strategy.export_report
                    rs, n_rs = random_search(table, budget, cpu_s, seed)
                    row = {"space": name, "p": p, "budget": budget, "strategy": kind, "seed": seed, "cpu_s": cpu_s,
                           "checked": {"cost": checked["macs"] / budget, "acc": checked["val_accuracy"],
                                       "rank": rank(table, checked, budget), "sample": checked["sample"]},
                           "argmax": {"cost": argmax["macs"] / budget, "acc": argmax["val_accuracy"],
                                      "rank": rank(table, argmax, budget)},
                           "random": {"cost": rs["macs"] / budget, "acc": rs["val_accuracy"],
                                      "rank": rank(table, rs, budget), "trials": n_rs}}
                    if report is not None and report.supernet_pick is not None:
                        row["supernet_pick"] = scored(table, lookup(report.supernet_pick), budget)
                        row["retrain"] = report.retrain
                    if args.variants and report is not None and len(report.ranked) > 1:
                        row["variants"] = variants(args.variants, strategy, report, name, trainer, seed, table,
                                                   lookup, budget)
                    rows.append(row)
                    if args.out:
                        with args.out.open("a") as fh:
                            fh.write(json.dumps(row) + "\n")
                    print(json.dumps({k: row[k] for k in ("space", "p", "strategy", "seed")}
                                     | {"cpu_s": round(cpu_s, 1), "checked_rank": round(row["checked"]["rank"], 3),
                                        "checked_cost": round(row["checked"]["cost"], 2),
                                        "argmax_rank": round(row["argmax"]["rank"], 3),
                                        "supernet_pick_rank": round(row.get("supernet_pick", {}).get("rank", -1), 3),
                                        "random_rank": round(row["random"]["rank"], 3)}), flush=True)
    return rows


def summary(rows: list[dict[str, Any]]) -> str:
    med = statistics.median
    lines = ["| space | p | strategy | seeds | cost/budget | accuracy | rank (checked) | rank (argmax) | "
             "argmax cost/budget | random: rank (trials) | CPU s |", "|" + "---|" * 11]
    keys = sorted({(r["space"], r["p"], r["strategy"]) for r in rows}, key=lambda k: (k[0], k[1], k[2]))
    for sp, p, st in keys:
        g = [r for r in rows if (r["space"], r["p"], r["strategy"]) == (sp, p, st)]
        lines.append(
            f"| {sp} | {p:g} | {st} | {len(g)} | {med(r['checked']['cost'] for r in g):.2f} | {med(r['checked']['acc'] for r in g):.3f} | "
            f"{med(r['checked']['rank'] for r in g):.2f} | {med(r['argmax']['rank'] for r in g):.2f} | "
            f"{med(r['argmax']['cost'] for r in g):.2f} | {med(r['random']['rank'] for r in g):.2f} "
            f"({med(r['random']['trials'] for r in g):.0f}) | {med(r['cpu_s'] for r in g):.0f} |")
    pick = [r for r in rows if "supernet_pick" in r]
    if pick:
        lines += ["", "Same runs, the supernet's pick before retraining (what retrain_top=0 exports):", "",
                  "| space | p | strategy | cost/budget | rank (no retraining) |", "|" + "---|" * 5]
        for sp, p, st in keys:
            g = [r for r in pick if (r["space"], r["p"], r["strategy"]) == (sp, p, st)]
            if g:
                lines.append(f"| {sp} | {p:g} | {st} | {med(r['supernet_pick']['cost'] for r in g):.2f} | "
                             f"{med(r['supernet_pick']['rank'] for r in g):.2f} |")
    var = [r for r in rows if r.get("variants")]
    if var:
        names = sorted({(v, t) for r in var for v, d in r["variants"].items() for t in d["top"] if t in "2348"})
        lines += ["", "Variants (same fits; median rank of the best of the top-t retrained):", "",
                  "| space | p | strategy | " + " | ".join(f"{v} t{t}" for v, t in names) + " |",
                  "|" + "---|" * (3 + len(names))]
        for sp, p, st in keys:
            g = [r for r in var if (r["space"], r["p"], r["strategy"]) == (sp, p, st)]
            cells = []
            for v, t in names:
                vals = [r["variants"][v]["top"][t]["rank"] for r in g if t in r["variants"].get(v, {}).get("top", {})]
                cells.append(f"{med(vals):.2f}" if vals else "-")
            lines.append(f"| {sp} | {p:g} | {st} | " + " | ".join(cells) + " |")
        for v, _ in sorted({(v, 0) for v, _ in names}):
            lines.append(f"{v}: median CPU s {med(r['variants'][v]['cpu_s'] for r in var if v in r['variants']):.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spaces", nargs="+", default=list(SPACES), choices=list(SPACES))
    ap.add_argument("--strategies", nargs="+", default=["darts", "enas", "proxyless"])
    ap.add_argument("--percentiles", nargs="+", type=float, default=[10, 30, 50])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--first-seed", type=int, default=0, help="seeds first_seed .. first_seed + seeds - 1")
    ap.add_argument("--epochs", type=int, default=10, help="the strategies' default")
    ap.add_argument("--export-config", type=json.loads, default=None,
                    help='ExportConfig fields to override, as JSON (experiments only; e.g. \'{"tune_steps": 10}\')')
    ap.add_argument("--variants", type=json.loads, default=None,
                    help='retraining settings to compare on each fit, as JSON: \'[{"init": "inherited", "epochs": 2, '
                         '"top": 4}]\'')
    ap.add_argument("--out", type=Path, default=None, help="also append every run as a JSON line here")
    ap.add_argument("--summarize", type=Path, default=None, help="only print the summary of a --out file")
    args = ap.parse_args(argv)
    if args.summarize:
        print(summary([json.loads(line) for line in args.summarize.read_text().splitlines() if line.strip()]))
        return
    torch.set_num_threads(1)
    print(f"load {os.getloadavg()}, torch {torch.__version__}, 1 thread")
    rows = run(args)
    print(summary(rows))
    print(f"load {os.getloadavg()}")


if __name__ == "__main__":
    main()
