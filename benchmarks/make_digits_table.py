"""Evaluate every sample of the digits CNN space once and write the lookup table.

    .venv/bin/python benchmarks/make_digits_table.py [--out tests/data/digits_cnn_table.json]
        [--epochs 6] [--workers 2]

Deterministic: the data split, every model's initial weights and its batch order are
seeded from the sample's position in ``space.enumerate()``; each worker runs torch with
one thread. For each sample the table holds its validation top-1 accuracy (mean over
``--repeats`` training seeds), FLOPs counted by ``torch.utils.flop_counter.FlopCounterMode``
on the frozen model (2 x MACs for conv and linear), MACs (FLOPs / 2) and the parameter
count ``sum(p.numel())``.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from digits_data import count_flops, digits_split, train_eval  # noqa: E402
from digits_table_space import DigitsCNN  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "tests" / "data" / "digits_cnn_table.json"
BATCH = 64
LR = 3e-3


def evaluate(job: tuple[int, dict, int, int]) -> dict:
    index, sample, epochs, repeats = job
    torch.set_num_threads(1)
    space = DigitsCNN().space
    data = digits_split()
    accs = []
    for r in range(repeats):
        seed = 1000 * index + r
        torch.manual_seed(seed)
        model = DigitsCNN()
        frozen = model.space.freeze(sample)
        accs.append(train_eval(frozen, data, seed, epochs, LR, BATCH))
    frozen = space.freeze(sample)
    flops = count_flops(frozen)
    return {
        "sample": sample,
        "val_accuracy": round(float(np.mean(accs)), 6),
        "flops": flops,
        "macs": flops // 2,
        "params": int(sum(p.numel() for p in frozen.parameters())),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=2, help="training seeds averaged per sample")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="evaluate only the first N samples (for a quick check)")
    args = ap.parse_args(argv)

    space = DigitsCNN().space
    samples = list(space.enumerate())[: args.limit]
    jobs = [(i, s, args.epochs, args.repeats) for i, s in enumerate(samples)]
    start = time.perf_counter()
    if args.workers > 1:
        with mp.get_context("spawn").Pool(args.workers) as pool:
            records = pool.map(evaluate, jobs, chunksize=1)
    else:
        records = [evaluate(j) for j in jobs]
    elapsed = time.perf_counter() - start
    table = {
        "description": "Every sample of benchmarks/digits_table_space.py:DigitsCNN trained on sklearn digits "
        f"({args.epochs} epochs, Adam lr {LR}, batch {BATCH}, mean of {args.repeats} seeds); "
        "val_accuracy is top-1 on a stratified 33% split; flops from torch FlopCounterMode (2 x MACs).",
        "generator": "benchmarks/make_digits_table.py",
        "torch": torch.__version__.split("+")[0],
        "epochs": args.epochs,
        "repeats": args.repeats,
        "labels": {c.label: c.domain for c in space},
        "records": records,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(table, indent=1) + "\n")
    accs = [r["val_accuracy"] for r in records]
    print(f"{len(records)} samples in {elapsed:.1f} s ({elapsed / max(1, len(records)):.2f} s each, "
          f"{args.workers} workers); accuracy {min(accs):.4f}..{max(accs):.4f}; wrote {args.out}")


if __name__ == "__main__":
    main()
