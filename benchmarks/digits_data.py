"""The digits data split, the training and FLOPs counting both digits generators use, and the
tables of ``digits_spaces.py`` (written by ``make_digits_tables.py``).

    table = DigitsTable.load("digits_wide")
    rec = table.lookup(sample)        # {"val_accuracy", "seeds", "flops", "macs", "params", "latency_ms", ...}
    table.budget("flops", 30)         # the 30th percentile of the space's FLOPs
    table.rank(sample, "flops", b)    # share of the feasible networks the sample beats or ties (1.0 = best)
"""
from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from digits_spaces import canonical  # noqa: E402

DATA_DIR = Path(__file__).resolve().parent / "data"
DATA_SEED = 0


def digits_split() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """sklearn digits scaled to [0, 1], (N, 1, 8, 8); a stratified 67/33 train/validation split (seed 0)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0)[:, None]
    xtr, xva, ytr, yva = train_test_split(x, digits.target, test_size=0.33, random_state=DATA_SEED,
                                          stratify=digits.target)
    return torch.from_numpy(xtr), torch.from_numpy(ytr).long(), torch.from_numpy(xva), torch.from_numpy(yva).long()


def train_eval(model: torch.nn.Module, data: tuple[torch.Tensor, ...], seed: int, epochs: int, lr: float,
               batch: int = 64) -> float:
    """Adam(``lr``), batches of ``batch`` in a seeded order, ``epochs`` epochs; the validation top-1 accuracy."""
    xtr, ytr, xva, yva = data
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(xtr), generator=gen)
        for i in range(0, len(xtr), batch):
            idx = order[i : i + batch]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xtr[idx]), ytr[idx]).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        return float((model(xva).argmax(1) == yva).float().mean())


def count_flops(model: torch.nn.Module) -> int:
    """FLOPs of one 8x8 image, counted by ``FlopCounterMode`` (2 x MACs of conv, linear and matmul)."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros(1, 1, 8, 8))
    return int(counter.get_total_flops())


def _key(sample: Mapping[str, Any]) -> str:
    return json.dumps(dict(sample), sort_keys=True)


class DigitsTable:
    """One space's table: every distinct network with its accuracy and costs."""

    def __init__(self, name: str, table: dict[str, Any]) -> None:
        self.name = name
        self.meta = {k: v for k, v in table.items() if k != "records"}
        self.records: list[dict[str, Any]] = table["records"]
        self._by_key = {_key(r["sample"]): r for r in self.records}

    @classmethod
    def load(cls, name: str, path: Path | None = None) -> "DigitsTable":
        path = path or DATA_DIR / f"{name}.json.gz"
        with gzip.open(path, "rt") as fh:
            return cls(name, json.load(fh))

    def lookup(self, sample: Mapping[str, Any]) -> dict[str, Any]:
        key = _key(canonical(self.name, sample))
        if key not in self._by_key:
            raise KeyError(f"{dict(sample)} is not in the {self.name} table")
        return self._by_key[key]

    def costs(self, metric: str) -> np.ndarray:
        return np.array([r[metric] for r in self.records], dtype=float)

    def budget(self, metric: str, percentile: float) -> float:
        return float(np.percentile(self.costs(metric), percentile))

    def feasible(self, metric: str, budget: float) -> list[dict[str, Any]]:
        return [r for r in self.records if r[metric] <= budget]

    def rank(self, sample: Mapping[str, Any], metric: str, budget: float) -> float:
        """Share of the feasible networks whose accuracy is <= the sample's (1.0 = the best); 0 if infeasible."""
        rec = self.lookup(sample)
        if rec[metric] > budget:
            return 0.0
        accs = np.array([r["val_accuracy"] for r in self.feasible(metric, budget)])
        return float(np.mean(accs <= rec["val_accuracy"]))
