"""The kernel graph of :mod:`nas_profiler_nnmeter.graph` under one sample.

For one sample the graph is the frozen model's ONNX graph as nn-Meter sees it: passthroughs
removed, a BatchNorm folded into the Conv before it when that conv has no other consumer,
and nn-Meter's fusion rule grouping each kernel's root with its fusible tail.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from nas_core.shapes import SymTensor, evaluate_sym
from nas_profiler_nnmeter.ops import PASSTHROUGH, pair

if TYPE_CHECKING:
    from nas_profiler_nnmeter.graph import KernelGraph

__all__ = ["SampleGraph"]


def _nhwc(shape: tuple) -> list:
    dims = [int(v) for v in shape]
    return [dims[0], dims[2], dims[3], dims[1]] if len(dims) == 4 else dims


class SampleGraph:
    """The kernel graph under one sample (memoised walks)."""

    def __init__(self, g: KernelGraph, sample: Mapping[str, Any]) -> None:
        self.g = g
        self.s = sample
        self._active: dict[int, bool] = {}
        self._res0: dict[int, int | None] = {}
        self._cons0: dict[int, list[int]] = {}
        self._folded: dict[int, bool] = {}
        self._cons: dict[int, list[int]] = {}
        self._root: dict[int, int] = {}
        self._type: dict[int, str] = {}

    def active(self, i: int) -> bool:
        v = self._active.get(i)
        if v is None:
            v = self._active[i] = self.g.active(i, self.s)
        return v

    def type(self, i: int) -> str:
        t = self._type.get(i)
        if t is None:
            n = self.g.nodes[i]
            t = n.type
            if t == "conv":
                groups = evaluate_sym(n.attrs.get("groups", 1), self.s)
                cin = evaluate_sym(n.inputs[0].shape[1], self.s) if n.inputs else None
                if groups == cin:
                    t = "dwconv"
            self._type[i] = t
        return t

    def resolve(self, s: SymTensor | None, fold: bool) -> int | None:
        """The node producing ``s`` in the exported graph (None: a graph input or constant)."""
        while s is not None:
            key = id(s)
            m = self.g.merges.get(key)
            if m is not None:
                s = m.resolve(self.s)
                continue
            p = self.g.producer.get(key)
            if p is None:
                return None
            n = self.g.nodes[p]
            if n.type == PASSTHROUGH or (fold and n.type == "bn" and self.folded(p)):
                s = n.inputs[0] if n.inputs else None
                continue
            return p
        return None

    def _consumers(self, i: int, fold: bool) -> list[int]:
        memo = self._cons if fold else self._cons0
        out = memo.get(i)
        if out is None:
            out = []
            for c in self.g.potential_consumers[i]:
                if not self.active(c) or (fold and self.g.nodes[c].type == "bn" and self.folded(c)):
                    continue
                if any(self.resolve(s, fold) == i for s in self.g.nodes[c].inputs):
                    out.append(c)
            memo[i] = out
        return out

    def folded(self, b: int) -> bool:
        """A BatchNorm the exporter folds into the Conv before it (that conv's only consumer)."""
        v = self._folded.get(b)
        if v is None:
            n = self.g.nodes[b]
            p = self.resolve(n.inputs[0], fold=False) if n.inputs else None
            v = p is not None and self.g.nodes[p].type == "conv" and self._consumers(p, fold=False) == [b]
            self._folded[b] = v
        return v

    def exists(self, i: int) -> bool:
        """Node ``i`` is a node of the exported graph for this sample."""
        n = self.g.nodes[i]
        if n.type == PASSTHROUGH or not self.active(i):
            return False
        return not (n.type == "bn" and self.folded(i))

    def consumers(self, i: int) -> list[int]:
        return self._consumers(i, fold=True)

    def root(self, i: int) -> int:
        r = self._root.get(i)
        if r is not None:
            return r
        self._root[i] = i
        n = self.g.nodes[i]
        rules = self.g.rules
        if not self.g.may_be_target(n):
            return i
        seen = []
        for s in n.inputs:
            p = self.resolve(s, fold=True)
            if p is None or p in seen:
                continue
            seen.append(p)
            cons = self.consumers(p)
            if rules.mon == 0 and cons != [i]:
                continue
            rp = self.root(p)
            if not rules.fusible(self.type(rp), self.type(i)):
                continue
            if rules.mon != 0 and next((c for c in cons if rules.fusible(self.type(rp), self.type(c))), None) != i:
                continue
            self._root[i] = rp
            break
        return self._root[i]

    def chain(self, r: int) -> list[int]:
        members = [r]
        tail = r
        while True:
            if not any(self.g.may_be_target(self.g.nodes[c]) for c in self.g.potential_consumers[tail]):
                return members  # nothing after the tail can be absorbed (the labels rely on this shortcut)
            nxt = next((c for c in self.consumers(tail) if c not in members and self.root(c) == r), None)
            if nxt is None:
                return members
            members.append(nxt)
            tail = nxt

    def kernel(self, i: int) -> dict[str, Any] | None:
        """nn-Meter's kernel dict for the kernel rooted at node ``i`` (None if ``i`` roots no kernel)."""
        if not self.exists(i) or self.root(i) != i:
            return None
        n = self.g.nodes[i]
        types = [self.type(m) for m in self.chain(i)]
        in_shapes = [_nhwc(evaluate_sym(s.shape, self.s)) for s in n.inputs]
        out = evaluate_sym(n.op.output, self.s)
        out_shapes = [_nhwc(out)] if isinstance(out, tuple) and all(isinstance(v, int) for v in out) else []
        kernel: dict[str, Any] = {"op": "-".join(types), "name": n.path}
        if types[0] == "add" and in_shapes:  # nn-Meter's workaround for add with a constant
            in_shapes = [in_shapes[0]] * len(in_shapes)
        kernel["input_tensors"] = in_shapes
        for key in ("ks", "strides"):
            if key in n.attrs:
                kernel[key] = pair(evaluate_sym(n.attrs[key], self.s))
        if in_shapes:
            if len(in_shapes[0]) == 4:
                kernel["inputh"], kernel["inputw"] = in_shapes[0][1], in_shapes[0][2]
            kernel["cin"] = in_shapes[0][-1]
        if len(out_shapes) == 1:
            kernel["cout"] = out_shapes[0][-1]
        return kernel
