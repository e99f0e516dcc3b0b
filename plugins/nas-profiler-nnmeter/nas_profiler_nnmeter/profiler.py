"""NnMeterProfiler: nn-Meter kernel-level latency for every sample of a space, from one trace."""
from __future__ import annotations

import itertools
import math
import os
from typing import Any, Mapping

import numpy as np
import torch

from nas_core.shapes import CostModel, CostModelProfiler, Sym, Term, check_terms, trace
from nas_core.shapes.costmodel import MAX_TABLE
from nas_core.space.model_space import search_space

from nas_profiler_nnmeter._nnmeter import kernel_features
from nas_profiler_nnmeter.calibration import read_calibration
from nas_profiler_nnmeter.graph import PASSTHROUGH, FusionRules, KernelGraph, unpredicted_warning
from nas_profiler_nnmeter.predictors import LoadedPredictor, load_predictor

__all__ = ["NnMeterProfiler", "space_kernels"]

# kernel types that are pure data layout; nn-Meter has no predictor for them and neither is one needed
_LAYOUT = {"reshape"}


class NnMeterProfiler(CostModelProfiler):
    """Latency (ms) predicted by nn-Meter kernel regressors, at nn-Meter's kernel granularity.

    ``predictor``: a published nn-Meter name (``"cortexA76cpu_tflite21"``...; its files must
    already be in ``~/.nn_meter/data/predictor/<name>``), a name registered with
    :func:`~nas_profiler_nnmeter.register_predictor`, or a predictor folder path. Nothing is
    downloaded: a missing or unloadable predictor raises at once, saying which files are
    missing, where they go, and how to build a replacement.

    The space is traced once; ops are grouped into nn-Meter kernels by the predictor's
    fusion rules (conv-bn-relu, dwconv-bn-relu, add-relu... each predicted as ONE kernel,
    as nn-Meter does on whole models), and each kernel's prediction is cached per (kernel
    type, feature tuple). ``profile(sample)`` is then a table lookup, and
    ``expectation(probs)`` is exact and differentiable.

    A predictor built with ``calibrate_on=`` carries ``calibration.json`` (whole models measured
    end to end): the prediction is then ``scale * kernel sum + offset_ms``
    (``calibrated=False``: the plain kernel sum, as nn-Meter computes it).
    """

    unit = "ms"
    metric = "latency"

    def __init__(self, model_space: torch.nn.Module, dummy_input: Any,
                 predictor: str | os.PathLike = "cortexA76cpu_tflite21", predictor_version: str | float | None = None, calibrated: bool = True) -> None:
        self.predictor: LoadedPredictor = load_predictor(predictor, predictor_version)
        self.calibration = read_calibration(self.predictor.folder) if calibrated else None
        self.scale = float(self.calibration["scale"]) if self.calibration else 1.0
        offset = float(self.calibration["offset_ms"]) if self.calibration else 0.0
        self.space = search_space(model_space)
        self.trace = trace(model_space, dummy_input)
        self.rules = FusionRules.from_dict(self.predictor.fusion_rules)
        self.graph = KernelGraph(self.trace, self.rules)
        self._cache: dict[tuple[str, tuple], float] = {}
        self._unpredicted: dict[str, list[str]] = {}
        self._last: tuple[list, Any] | None = None
        self._labels: dict[int, tuple[str, ...]] = {}
        self._key_memo: dict[tuple, tuple[str, tuple] | None] = {}
        terms: list[tuple[int, Term]] = []
        for node in self.graph.nodes:
            if node.type == PASSTHROUGH:
                continue
            labels = self.graph.term_labels(node.idx)
            self._labels[node.idx] = tuple(sorted(labels))
            value = Sym(labels, lambda s, _i=node.idx: self._kernel_ms(_i, s), f"nn-meter kernel at {node.path}")
            # the value is 0 when the op does not run (checked with a memo), so the term's own condition is True
            terms.append((node.idx, Term(value, True, f"{node.path}:latency")))
        self._prefill(terms)
        extra = [Term(offset, True, "calibration:offset")] if offset else []
        self.cost_model = CostModel(self.space, [t for _, t in terms] + extra + check_terms(self.trace), unit="ms")
        unpredicted_warning({k: v for k, v in self._unpredicted.items() if k not in _LAYOUT}, self.predictor.name)

    # -- kernels -------------------------------------------------------------------------------------
    def _evaluator(self, sample: Mapping[str, Any]) -> Any:
        """The sample's graph walker, reused while the same sample is asked about (one table cell)."""
        items = list(sample.items())
        if self._last is not None and self._last[0] == items:
            return self._last[1]
        g = self.graph.evaluator(dict(sample))
        self._last = (items, g)
        return g

    def _key(self, i: int, sample: Mapping[str, Any]) -> tuple[str, tuple] | None:
        labels = self._labels[i]
        memo_key = (i,) + tuple(_hashable(sample[l]) for l in labels)
        if memo_key in self._key_memo:
            return self._key_memo[memo_key]
        key = self._key_memo[memo_key] = self._compute_key(i, sample)
        return key

    def _compute_key(self, i: int, sample: Mapping[str, Any]) -> tuple[str, tuple] | None:
        kernel = self._evaluator(sample).kernel(i)
        if kernel is None:
            return None
        feats = kernel_features(kernel)
        if feats is None or feats[0] not in self.predictor.regressors:
            kind = kernel["op"] if feats is None else feats[0]
            self._unpredicted.setdefault(kind, []).append(kernel["name"])
            return None
        return feats[0], tuple(feats[1])

    def _kernel_ms(self, i: int, sample: Mapping[str, Any]) -> float:
        key = self._key(i, sample)
        if key is None:
            return 0.0
        v = self._cache.get(key)
        if v is None:
            v = self._cache[key] = float(self.predictor.regressors[key[0]].predict([list(key[1])])[0])
        return v * self.scale

    def _prefill(self, terms: list[tuple[int, Term]]) -> None:
        """Predict every (kernel, features) the tables will need in one batch per kernel type."""
        wanted: dict[str, set[tuple]] = {}
        by_labels: dict[tuple[str, ...], list[tuple[int, Term]]] = {}
        for i, t in terms:
            by_labels.setdefault(tuple(sorted(t.labels())), []).append((i, t))
        for labels, group in by_labels.items():
            domains = [self.space.choices[l].domain for l in labels]
            if math.prod(len(d) for d in domains) > MAX_TABLE:
                continue  # a lazy table: predicted on first use
            for combo in itertools.product(*domains):
                s = dict(zip(labels, combo))
                for i, t in group:
                    if t.cond is not True and not _truth(t.cond, s):
                        continue
                    key = self._key(i, s)
                    if key is not None and key not in self._cache:
                        wanted.setdefault(key[0], set()).add(key[1])
        for name, rows in wanted.items():
            rows = sorted(rows)
            preds = self.predictor.regressors[name].predict(np.asarray(rows, dtype=np.float64))
            for r, p in zip(rows, preds):
                self._cache[(name, r)] = float(p)

    # -- inspection ----------------------------------------------------------------------------------
    def kernels(self, sample: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The nn-Meter kernels of ``sample``: op, predictor, features and predicted ms, in trace order."""
        sample = self.space.validate(sample)
        g = self.graph.evaluator(sample)
        out = []
        for node in self.graph.nodes:
            kernel = g.kernel(node.idx)
            if kernel is None:
                continue
            feats = kernel_features(kernel)
            name = feats[0] if feats else None
            ms = self._kernel_ms(node.idx, sample) if name in self.predictor.regressors else 0.0
            out.append({"path": node.path, "op": kernel["op"], "predictor": name,
                        "features": feats[1] if feats else None, "ms": ms})
        return out

    def kernel_features(self, sample: Mapping[str, Any]) -> list[tuple[str, tuple]]:
        """(kernel type, nn-Meter features) of every predicted kernel of ``sample``."""
        sample = self.space.validate(sample)
        keys = (self._key(node.idx, sample) for node in self.graph.nodes if node.idx in self._labels)
        return [k for k in keys if k is not None]

    def __repr__(self) -> str:
        return f"NnMeterProfiler(predictor={self.predictor.name!r}, unit='ms', {self.cost_model.describe()})"


def _hashable(v: Any) -> Any:
    return tuple(_hashable(x) for x in v) if isinstance(v, list) else v


def _truth(cond: Any, sample: Mapping[str, Any]) -> bool:
    from nas_core.shapes import evaluate_sym

    return bool(evaluate_sym(cond, sample))


def space_kernels(model_space: torch.nn.Module, dummy_input: Any, fusion_rules: Mapping[str, Any] | None = None,
                  max_combinations: int = MAX_TABLE) -> list[dict[str, Any]]:
    """Every distinct nn-Meter kernel (kernel dicts) any sample of the space can contain.

    Feed them to :func:`~nas_profiler_nnmeter.builder.kernel_configs_from_kernels` to
    measure exactly the kernels a search over this space will ask a predictor about.
    """
    from nas_profiler_nnmeter.builder import DEFAULT_FUSION_RULES

    space = search_space(model_space)
    graph = KernelGraph(trace(model_space, dummy_input), FusionRules.from_dict(fusion_rules or DEFAULT_FUSION_RULES))
    found: dict[tuple, dict[str, Any]] = {}
    groups: dict[tuple[str, ...], list[int]] = {}
    for node in graph.nodes:
        if node.type != PASSTHROUGH:
            groups.setdefault(tuple(sorted(graph.term_labels(node.idx))), []).append(node.idx)
    for labels, idxs in groups.items():
        domains = [space.choices[l].domain for l in labels]
        if math.prod(len(d) for d in domains) > max_combinations:
            raise ValueError(f"the kernels at {[graph.nodes[i].path for i in idxs][:3]} depend on {list(labels)} "
                             f"({math.prod(len(d) for d in domains)} combinations > {max_combinations}); "
                             "raise max_combinations.")
        for combo in itertools.product(*domains):
            g = graph.evaluator(dict(zip(labels, combo)))
            for i in idxs:
                kernel = g.kernel(i)
                if kernel is None:
                    continue
                feats = kernel_features(kernel)
                key = (feats[0], tuple(feats[1])) if feats else (kernel["op"],)
                found.setdefault(key, kernel)
    return list(found.values())
