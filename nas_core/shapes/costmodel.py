"""CostModel: a sum of cost terms, each depending on a few labels, compiled to lookup tables.

Every term is a function of a handful of labels. Terms over the same labels are summed
into one table indexed by those labels' values, so ``evaluate(sample)`` is a few list
indexings and additions (generated once as a small Python function, tables shared where
equal so they stay in the CPU caches), ``evaluate_batch`` runs it over many samples, and
``expectation(probs)`` contracts each table with the per-label probability vectors in
torch, exactly and differentiably.
"""
from __future__ import annotations

import itertools
import linecache
import logging
import math
import operator
import warnings
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import torch

from nas_core.errors import InvalidSampleError, ProfilerError
from nas_core.space.search_space import SearchSpace
from nas_core.shapes.sym import evaluate_sym, labels_of


log = logging.getLogger("nas_core.shapes")
__all__ = ["Term", "CostModel"]

#: a group whose labels have more combinations than this is evaluated lazily (with a cache)
MAX_TABLE = 1 << 16
#: tables are merged (summed with broadcasting) while the merged table has at most this many
#: entries, so ``evaluate`` does fewer, deeper lookups and reads each label about once
MERGE_LIMIT = 1 << 12


@dataclass
class Term:
    """A cost ``value`` (int, float or Sym) counted when ``cond`` (bool or Sym) holds."""

    value: Any
    cond: Any = True
    origin: str = ""
    # values by the value's own labels: tables enumerate the labels of the condition too
    _value_labels: tuple = field(init=False, repr=False, compare=False)
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._value_labels = tuple(sorted(labels_of(self.value)))

    def labels(self) -> frozenset[str]:
        return labels_of(self.value, self.cond)

    def __call__(self, sample: Mapping[str, object]) -> float:
        if not evaluate_sym(self.cond, sample):
            return 0.0
        key = tuple(_hkey(sample[l]) for l in self._value_labels)
        v = self._memo.get(key)
        if v is None:
            v = self._memo[key] = float(evaluate_sym(self.value, sample))
        return v


def _hkey(v: Any) -> Any:
    return tuple(_hkey(x) for x in v) if isinstance(v, list) else v


class _Group:
    def __init__(self, labels: tuple[str, ...], terms: list[Term], space: SearchSpace,
                 table: np.ndarray | None = None) -> None:
        self.labels = labels
        self.terms = terms
        self.domains = [space.choices[l].domain for l in labels]
        self.size = math.prod(len(d) for d in self.domains)
        self.lazy = self.size > MAX_TABLE
        self.table: np.ndarray | None = table
        self.cache: dict[tuple, float] = {}
        if not self.lazy and table is None:
            flat = np.zeros(self.size, dtype=np.float64)
            for i, combo in enumerate(itertools.product(*self.domains)):
                s = dict(zip(labels, combo))
                flat[i] = sum(t(s) for t in terms)
            self.table = flat.reshape([len(d) for d in self.domains]) if labels else flat.reshape(())

    def tabled(self) -> np.ndarray:
        """The table of a group that is not lazy (one entry per combination of its labels)."""
        assert self.table is not None, "a lazy group has no table"
        return self.table

    def value(self, sample: Mapping[str, Any]) -> float:
        key = tuple(_hkey(sample[l]) for l in self.labels)
        v = self.cache.get(key)
        if v is None:
            v = sum(t(sample) for t in self.terms)
            self.cache[key] = v
        return v


def _merge_groups(groups: list[_Group], space: SearchSpace, order: Mapping[str, int]) -> list[_Group]:
    """Sum tables whose union of labels stays small (subsets first, then the smallest unions)."""
    fixed = [g for g in groups if g.lazy]
    tabled = [g for g in groups if not g.lazy]
    sizes = {l: len(c.domain) for l, c in space.choices.items()}

    def union_size(a: _Group, b: _Group) -> int:
        return math.prod(sizes[l] for l in set(a.labels) | set(b.labels))

    def merge(a: _Group, b: _Group) -> _Group:
        labels = tuple(sorted(set(a.labels) | set(b.labels), key=lambda l: order.get(l, 1 << 30)))
        shape = [sizes[l] for l in labels]
        total = np.zeros(shape, dtype=np.float64)
        for g in (a, b):
            # move g's axes into the merged label order, then broadcast over the others
            perm = sorted(range(len(g.labels)), key=lambda i: labels.index(g.labels[i]))
            t = np.transpose(g.tabled(), perm) if g.labels else g.tabled()
            view = [sizes[l] if l in g.labels else 1 for l in labels]
            total = total + t.reshape(view)
        return _Group(labels, a.terms + b.terms, space, table=total)

    while len(tabled) > 1:
        best = None
        for i in range(len(tabled)):
            for j in range(i + 1, len(tabled)):
                u = union_size(tabled[i], tabled[j])
                if u > MERGE_LIMIT:
                    continue
                # prefer absorbing a subset (no growth), then the smallest merged table
                growth = u - max(tabled[i].size, tabled[j].size)
                key = (growth, u)
                if best is None or key < best[0]:
                    best = (key, i, j)
        if best is None:
            break
        _, i, j = best
        merged = merge(tabled[i], tabled[j])
        tabled = [g for k, g in enumerate(tabled) if k not in (i, j)] + [merged]
    return tabled + fixed


class CostModel:
    """Sum of :class:`Term` s over a :class:`SearchSpace`, compiled so ``evaluate(sample) -> float`` is a fast lookup.

    ``evaluate(sample) -> float`` is the total cost of one sample (generated lookup code;
    an invalid sample raises InvalidSampleError naming the label and its allowed values).
    """

    def __init__(self, space: SearchSpace, terms: Iterable[Term], unit: str = "") -> None:
        self.space = space
        self.unit = unit
        by_labels: dict[tuple[str, ...], list[Term]] = {}
        order = {l: i for i, l in enumerate(space.labels)}
        for t in terms:
            labels = tuple(sorted(t.labels(), key=lambda l: order.get(l, 1 << 30)))
            unknown = [l for l in labels if l not in space.choices]
            if unknown:
                raise ProfilerError(f"cost term {t.origin!r} depends on labels {unknown} that are not in the space.")
            by_labels.setdefault(labels, []).append(t)
        self.groups = _merge_groups([_Group(labels, ts, space) for labels, ts in by_labels.items()], space, order)
        self._index = {l: {_hkey(v): i for i, v in enumerate(c.domain)} for l, c in space.choices.items()}
        #: ``evaluate(sample) -> float``: the total cost of ``sample`` (generated lookup code);
        #: an invalid sample raises InvalidSampleError naming the label and allowed values
        self.evaluate: Callable[[Mapping[str, Any]], float] = self._compile()
        if log.isEnabledFor(logging.DEBUG):
            for g in self.groups:
                log.debug("cost model (%s): %d terms depend on %s", unit or "no unit", len(g.terms), list(g.labels) or "nothing")

    # -- single sample --------------------------------------------------------------------
    @staticmethod
    def _lookup_table(g: _Group, memo: dict) -> Any:
        """``g.table`` as nested lists indexed by value positions.

        Equal sub-tables (and equal values) are one shared object, which keeps the tables
        small in the CPU caches: an inactive block's costs, for instance, are one zero tree.
        """

        def build(arr: np.ndarray) -> Any:
            if arr.ndim == 0:
                v = float(arr)
                return memo.setdefault(v, v) if v == v else v
            items = [build(sub) for sub in arr]
            return memo.setdefault(tuple(map(id, items)), items)

        return build(g.tabled())

    def _compile(self) -> Callable[[Mapping[str, Any]], float]:
        """Generate ``_cost(s)``: fetch every used label at once (``operator.itemgetter``, a C
        loop), turn each value into its position, then index one nested list per table.
        Anything unexpected (a missing or extra label, a value outside a domain) falls back
        to validating the sample, which names the problem."""
        env: dict[str, Any] = {"_hk": _hkey, "_slow": self._evaluate_slow, "N": len(self.space.choices)}
        parts = []
        list_labels = {l for l, c in self.space.choices.items() if c.kind == "input"}
        used: dict[str, str] = {}
        memo: dict = {}
        const = 0.0
        for gi, g in enumerate(self.groups):
            if g.lazy:
                env[f"G{gi}"] = g.value
                parts.append(f"G{gi}(s)")
            elif not g.labels:
                const += float(g.tabled())
            else:
                names = [used.setdefault(l, f"v{len(used)}") for l in g.labels]
                env[f"T{gi}"] = self._lookup_table(g, memo)
                parts.append(f"T{gi}" + "".join(f"[{n}]" for n in names))
        env["C"] = const
        for l in self.space.choices:  # labels the cost ignores are still checked against their domain
            used.setdefault(l, f"v{len(used)}")
        lines = ["    if len(s) != N:", "        return _slow(s)", "    try:"]
        if used:
            env["_get"] = operator.itemgetter(*used)
            lines.append(f"        {', '.join(used.values())} = _get(s)")  # one key: the bare value
            for l, v in used.items():
                env[f"X{v}"] = self._index[l]
                lines.append(f"        {v} = X{v}[_hk({v})]" if l in list_labels else f"        {v} = X{v}[{v}]")
        lines.append(f"        return {' + '.join(['C'] + parts)}")
        lines.append("    except (KeyError, TypeError):")
        lines.append("        return _slow(s)")
        src = "def _cost(s):\n" + "".join(line + "\n" for line in lines)
        filename = f"<nas_core.costmodel-{id(self):x}>"
        # registered with linecache so tracebacks through the generated lookup show its source
        linecache.cache[filename] = (len(src), None, src.splitlines(keepends=True), filename)
        weakref.finalize(self, linecache.cache.pop, filename, None)
        exec(compile(src, filename, "exec"), env)  # noqa: S102 - generated lookup code
        return env["_cost"]

    def _evaluate_slow(self, sample: Mapping[str, Any]) -> float:
        return float(self._evaluate_tables([self.space.validate(sample)])[0])

    def evaluate_batch(self, samples: Iterable[Mapping[str, object]]) -> np.ndarray:
        """Costs of many samples at once, as a float64 array.

        The generated lookup is faster per sample than numpy gathers (reading the sample
        dicts dominates either way), so this is that lookup in a C-level loop."""
        samples = samples if isinstance(samples, Sequence) else list(samples)
        return np.fromiter(map(self.evaluate, samples), dtype=np.float64, count=len(samples))

    def _evaluate_tables(self, samples: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Costs of valid samples through numpy gathers over each table (the reference path)."""
        n = len(samples)
        total = np.zeros(n, dtype=np.float64)
        used = sorted({l for g in self.groups for l in g.labels})
        idx: dict[str, np.ndarray] = {}
        try:
            if used and n:
                # one C-level gather of every used label per sample, then one column per label
                getter = operator.itemgetter(*used)
                columns = zip(*(getter(s) for s in samples)) if len(used) > 1 else [[getter(s) for s in samples]]
                for l, col in zip(used, columns):
                    ix = self._index[l]
                    if self.space.choices[l].kind == "input":
                        idx[l] = np.array([ix[_hkey(v)] for v in col], dtype=np.int64)
                    else:
                        idx[l] = np.array([ix[v] for v in col], dtype=np.int64)
        except (KeyError, TypeError):
            for s in samples:
                self.space.validate(s)
            raise
        for g in self.groups:
            if g.lazy:
                total += np.fromiter((g.value(s) for s in samples), dtype=np.float64, count=n)
            elif not g.labels:
                total += float(g.tabled())
            else:
                total += g.tabled()[tuple(idx[l] for l in g.labels)]
        return total

    # -- expectation --------------------------------------------------------------------------
    def expectation(self, probs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Exact expected cost when each label ``l`` is drawn independently from ``probs[l]``.

        ``probs[l]`` is a 1-D tensor over the label's domain, in domain order. Labels the
        cost does not depend on may be omitted. Differentiable in the probabilities.
        """
        ref = next(iter(probs.values())) if probs else torch.zeros(())
        total = torch.zeros((), dtype=ref.dtype if ref.is_floating_point() else torch.float32, device=ref.device)
        for g in self.groups:
            for l in g.labels:
                if l not in probs:
                    raise InvalidSampleError(
                        f"expectation needs probabilities for label {l!r} (domain {self.space.choices[l].domain}); "
                        "pass a 1-D tensor over its domain."
                    )
                if probs[l].dim() != 1 or probs[l].numel() != len(self.space.choices[l].domain):
                    raise InvalidSampleError(
                        f"probabilities for label {l!r} must be a 1-D tensor of length "
                        f"{len(self.space.choices[l].domain)} (its domain size), got shape {list(probs[l].shape)}."
                    )
            if g.lazy:
                table = torch.tensor(
                    [g.value(dict(zip(g.labels, c))) for c in itertools.product(*g.domains)], dtype=total.dtype
                ).reshape([len(d) for d in g.domains])
            else:
                table = torch.as_tensor(g.table, dtype=total.dtype, device=total.device)
            if torch.isnan(table).any():
                warnings.warn(
                    f"cost table over {g.labels} has invalid combinations; they count as 0 in the expectation.",
                    RuntimeWarning,
                    stacklevel=2,
                )
                table = torch.nan_to_num(table, nan=0.0)
            if not g.labels:
                total = total + table
                continue
            letters = "abcdefghijklmnopqrstuvwxyz"[: len(g.labels)]
            eq = letters + "," + ",".join(letters) + "->"
            total = total + torch.einsum(eq, table, *(probs[l].to(total.dtype) for l in g.labels))
        return total

    def describe(self) -> str:
        lazy = sum(1 for g in self.groups if g.lazy)
        return f"CostModel({len(self.groups)} tables, {lazy} lazy, unit={self.unit!r})"
