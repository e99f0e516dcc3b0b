"""NAS-Bench-Graph (Qin et al., NeurIPS 2022) as a nas-core search space with vectorised lookups.

Benchmark-only: needs ``pip install nas-bench-graph==1.4.0`` in the venv (see
``benchmarks/requirements-benchmarks.txt``); no package of the project depends on it.

The space is the one NNI's runner for this benchmark uses: four GNN layers, each reading the
input or an earlier layer (``lk1`` in 0..1, ``lk2`` in 0..2, ``lk3`` in 0..3) and applying one
of nine ops (``op0`` .. ``op3``): 2 * 3 * 4 * 9**4 = 157,464 samples, 26,206 distinct
architectures once isomorphic graphs are identified (the benchmark's own ``valid_hash``; the
24 all-``skip`` samples are not in the tables and score 0). The model's
``canonical_sample`` maps each sample to the first sample of its architecture, so strategies
never spend an evaluation on an isomorph of an evaluated graph.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from torch import nn

from nas_core.space import ModelSpace, MutableModule, ValueChoice

OPS = ["gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip"]
LABELS: list[tuple[str, list[Any]]] = [("op0", OPS), ("lk1", [0, 1]), ("op1", OPS), ("lk2", [0, 1, 2]),
                                       ("op2", OPS), ("lk3", [0, 1, 2, 3]), ("op3", OPS)]
SIZES = [len(d) for _, d in LABELS]
N_RAW = int(np.prod(SIZES))
DEV_DATASETS = ["computers", "physics", "cs"]
CACHE = Path(__file__).resolve().parent / ".cache"
_RADIX = np.array([int(np.prod(SIZES[i + 1:])) for i in range(len(SIZES))], dtype=np.int64)


def raw_index(indices: Any) -> np.ndarray | int:
    """Mixed-radix index of domain-position vectors (one vector, or an (n, 7) array)."""
    a = np.asarray(indices, dtype=np.int64)
    return a @ _RADIX if a.ndim > 1 else int(a @ _RADIX)


def raw_positions(index: int) -> list[int]:
    out = []
    for r, n in zip(_RADIX, SIZES):
        out.append(int(index // r) % n)
    return out


@dataclass
class GraphTable:
    """Per raw sample: its architecture's representative raw index, validation accuracy, latency."""

    dataset: str
    representative: np.ndarray  # int64[N_RAW]
    valid: np.ndarray  # float64[N_RAW]; 0 for the 24 samples missing from the table
    latency: np.ndarray  # float64[N_RAW]; +inf for missing samples
    in_table: np.ndarray  # bool[N_RAW]

    def bound(self, percentile: float) -> float:
        """The ``percentile``-th percentile of latency over the table's distinct architectures."""
        reps = np.unique(self.representative[self.in_table])
        return float(np.percentile(self.latency[reps], percentile))

    def optimum(self, bound: float) -> float:
        """The best validation accuracy among architectures with latency <= ``bound``."""
        ok = self.in_table & (self.latency <= bound)
        return float(self.valid[ok].max())


def _hashes() -> np.ndarray:
    """``valid_hash`` of every raw sample (dataset-independent; cached)."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / "nasbench_graph_hashes.npy"
    if path.exists():
        return np.load(path)
    from nas_bench_graph.architecture import Arch

    out = np.empty(N_RAW, dtype=np.int64)
    for i, combo in enumerate(itertools.product(*(range(n) for n in SIZES))):
        op0, lk1, op1, lk2, op2, lk3, op3 = combo
        out[i] = Arch([0, lk1, lk2, lk3], [OPS[op0], OPS[op1], OPS[op2], OPS[op3]]).valid_hash()
    np.save(path, out)
    return out


def load_table(dataset: str) -> GraphTable:
    """The lookup arrays of one dataset (built from the package's table, cached under benchmarks/.cache)."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"nasbench_graph_{dataset}.npz"
    if path.exists():
        z = np.load(path)
        return GraphTable(dataset, z["representative"], z["valid"], z["latency"], z["in_table"])
    from nas_bench_graph import light_read

    bench = light_read(dataset)
    hashes = _hashes()
    _, first = np.unique(hashes, return_index=True)
    rep_of_hash = dict(zip(hashes[first].tolist(), first.tolist()))
    representative = np.array([rep_of_hash[h] for h in hashes.tolist()], dtype=np.int64)
    in_table = np.array([h in bench for h in hashes.tolist()])
    valid = np.array([bench[h]["valid_perf"] if ok else 0.0 for h, ok in zip(hashes.tolist(), in_table)])
    latency = np.array([bench[h]["latency"] if ok else np.inf for h, ok in zip(hashes.tolist(), in_table)])
    np.savez_compressed(path, representative=representative, valid=valid, latency=latency, in_table=in_table)
    return GraphTable(dataset, representative, valid, latency, in_table)


class _Decisions(MutableModule):
    """Holds the cell's value choices (nothing to run: the table stands in for training)."""

    def __init__(self) -> None:
        super().__init__()
        self.choices = {label: ValueChoice(list(domain), label=label) for label, domain in LABELS}

    def value_choices(self) -> dict[str, Any]:
        return dict(self.choices)

    def freeze(self, sample: Mapping[str, Any]) -> nn.Module:
        return nn.Identity()


class GraphCellSpace(ModelSpace):
    """The NAS-Bench-Graph cell as a model space whose canonical form is the benchmark's isomorphism class."""

    def __init__(self, representative: np.ndarray) -> None:
        super().__init__()
        self.cell = _Decisions()
        self._representative = representative
        self._domains = [d for _, d in LABELS]

    def forward(self, x: Any) -> Any:
        return x

    def canonical_sample(self, sample: dict[str, Any]) -> dict[str, Any]:
        idx = raw_index([dom.index(sample[label]) for (label, _), dom in zip(LABELS, self._domains)])
        rep = raw_positions(int(self._representative[idx]))
        return {label: dom[i] for (label, _), dom, i in zip(LABELS, self._domains, rep)}


def sample_index(sample: Mapping[str, Any]) -> int:
    """The raw index of a sample dict."""
    return raw_index([domain.index(sample[label]) for label, domain in LABELS])
