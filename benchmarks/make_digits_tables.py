"""Train every network of the digits spaces (``digits_spaces.py``) and write their tables.

    nice -n 10 .venv/bin/python benchmarks/make_digits_tables.py [--space digits_wide|digits_deep|all]

Writes ``benchmarks/data/<space>.json.gz``. Resumable: each result is appended to
``benchmarks/data/partial/<space>.shard<i>.jsonl`` as it comes, and a restart skips what
is there (the partial files are deleted once the table is written). ``--shard i/n`` splits
the work between ``n`` processes; the last to finish writes the table. Samples are evaluated in a seeded
random order, so a partial file is a uniform subsample.

Deterministic per sample: the data split is fixed, the model's initial weights and batch
order come from ``seed = 1000 * index + repeat`` (``index`` = position in the list of
canonical samples), torch runs with one thread. Each record holds the validation top-1
accuracy of each training seed and their mean, FLOPs counted by ``FlopCounterMode``
(2 x MACs of conv, linear and matmul), MACs, parameters and the eager CPU latency of one
8x8 image (median of one-thread CPU-clock runs, nas-profiler-device's ``measure_latency``)
and the CPU seconds of one training (``train_cpu_s``, what a trial costs random search).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from digits_spaces import SPACES, canonical  # noqa: E402
from digits_data import count_flops, digits_split, train_eval  # noqa: E402

DATA_DIR = Path(__file__).resolve().parent / "data"
#: epochs per space: the deep space is smaller and its residual stacks need a third epoch to settle
EPOCHS = {"digits_wide": 2, "digits_deep": 3}
BATCH = 64
LR = 1e-2
REPEATS = 2


def latency_ms(model: torch.nn.Module) -> float:
    from nas_profiler_device import measure_latency

    m = measure_latency(model.eval(), torch.zeros(1, 1, 8, 8), backend="eager", repeats=15, warmup=3,
                        threads=1, clock="cpu")
    return round(m.median_ms, 4)


def canonical_samples(name: str) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for s in SPACES[name]().space.enumerate():
        c = canonical(name, s)
        seen.setdefault(json.dumps(c, sort_keys=True), c)
    return list(seen.values())


def evaluate(name: str, index: int, sample: dict[str, Any], data: tuple[torch.Tensor, ...]) -> dict[str, Any]:
    accs = []
    cpu0 = time.process_time()
    for r in range(REPEATS):
        seed = 1000 * index + r
        torch.manual_seed(seed)
        model = SPACES[name]().space.freeze(sample)
        accs.append(round(train_eval(model, data, seed, EPOCHS[name], LR, BATCH), 6))
    train_cpu_s = (time.process_time() - cpu0) / REPEATS
    torch.manual_seed(0)
    frozen = SPACES[name]().space.freeze(sample)
    f = count_flops(frozen)
    return {"index": index, "sample": sample, "val_accuracy": round(float(np.mean(accs)), 6), "seeds": accs,
            "flops": f, "macs": f // 2, "params": int(sum(p.numel() for p in frozen.parameters())),
            "latency_ms": latency_ms(frozen), "train_cpu_s": round(train_cpu_s, 3)}


def read_done(name: str) -> dict[int, dict[str, Any]]:
    done: dict[int, dict[str, Any]] = {}
    for path in sorted((DATA_DIR / "partial").glob(f"{name}*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:  # a line cut short by a kill
                    continue
                done[rec["index"]] = rec
    return done


def build(name: str, shard: int = 0, shards: int = 1) -> Path | None:
    """Evaluate this shard's remaining samples; write the table once every shard's are in."""
    samples = canonical_samples(name)
    partial = DATA_DIR / "partial" / f"{name}.shard{shard}.jsonl"
    partial.parent.mkdir(parents=True, exist_ok=True)
    done = read_done(name)
    order = list(range(len(samples)))
    random.Random(0).shuffle(order)
    mine = [i for pos, i in enumerate(order) if pos % shards == shard and i not in done]
    data = digits_split()
    start, cpu0 = time.perf_counter(), time.process_time()
    with partial.open("a") as out:
        for n, i in enumerate(mine):
            rec = evaluate(name, i, samples[i], data)
            done[i] = rec
            out.write(json.dumps(rec) + "\n")
            out.flush()
            if n % 50 == 0:
                print(f"{name}[{shard}/{shards}]: {n + 1}/{len(mine)} ({time.perf_counter() - start:.0f} s wall, "
                      f"{time.process_time() - cpu0:.0f} s cpu, load {os.getloadavg()[0]:.1f})", flush=True)
    done = read_done(name)
    if len(done) < len(samples):
        print(f"{name}: {len(done)}/{len(samples)} done; the table is written when the other shards finish", flush=True)
        return None
    records = [done[i] for i in range(len(samples))]
    space = SPACES[name]().space
    table = {
        "space": f"benchmarks/digits_spaces.py:{SPACES[name].__name__}",
        "description": f"Every distinct network of the space trained on sklearn digits ({EPOCHS[name]} epochs, Adam lr "
        f"{LR}, batch {BATCH}, {REPEATS} seeds; val_accuracy = mean top-1 on a stratified 33% split); flops from "
        "torch FlopCounterMode (2 x MACs); latency_ms = eager one-thread CPU-clock median, batch 1.",
        "generator": "benchmarks/make_digits_tables.py",
        "torch": torch.__version__.split("+")[0],
        "epochs": EPOCHS[name], "batch": BATCH, "lr": LR, "repeats": REPEATS,
        "labels": {c.label: c.domain for c in space},
        "records": [{k: v for k, v in r.items() if k != "index"} for r in records],
    }
    path = DATA_DIR / f"{name}.json.gz"
    with gzip.open(path, "wt") as fh:
        json.dump(table, fh, separators=(",", ":"))
    for path in (DATA_DIR / "partial").glob(f"{name}*.jsonl"):
        path.unlink(missing_ok=True)
    print(f"{name}: wrote {path} ({path.stat().st_size / 1e3:.0f} kB, {len(records)} networks, "
          f"{time.process_time() - cpu0:.0f} s cpu)", flush=True)
    return path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--space", choices=[*SPACES, "all"], default="all")
    ap.add_argument("--shard", default="0/1", help="i/n: evaluate every n-th sample from the i-th (run n processes)")
    args = ap.parse_args(argv)
    shard, shards = (int(v) for v in args.shard.split("/"))
    if not 0 <= shard < shards:
        raise SystemExit(f"--shard {args.shard}: expected i/n with 0 <= i < n")
    torch.set_num_threads(1)
    for name in SPACES if args.space == "all" else [args.space]:
        build(name, shard, shards)


if __name__ == "__main__":
    main()
