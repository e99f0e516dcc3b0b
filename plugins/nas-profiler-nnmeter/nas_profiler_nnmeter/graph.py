"""nn-Meter kernels from a shape trace: a symbolic data-flow graph and nn-Meter's fusion rules.

The shape trace lists every op that can run, each with the condition under which it runs
and symbolic shapes; ``OpRecord.outputs`` and the module calls of LayerChoice / Repeat /
InputChoice / Parametrized link the ops into a data-flow graph whose edges are selected by
the sample. For one sample, the graph is the frozen model's ONNX graph as nn-Meter sees it
(Identity and Dropout removed, BatchNorm folded into a preceding Conv by the exporter), and
nn-Meter's kernel detector rule applies: walking in topological order, a kernel's root
absorbs its tail's single consumer when ``(type(root), type(consumer))`` is a fusible pair
(``BF_conv_bn``, ``BF_conv_relu``, ``BF_add_relu``...).

Every op gets one term: the predicted latency of the kernel it roots (0 when another
kernel absorbs it). A term depends only on the labels of the op's neighbourhood (its
shapes, its inputs' and consumers' conditions, and the chain of fusible neighbours), so
compiling the terms into a CostModel stays small whatever the size of the space.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Mapping

from nas_core.errors import ProfilerError
from nas_core.shapes import CHOICE_MODULES, Merge, ShapeTrace, SymTensor, choice_merges, evaluate_sym, labels_of
from nas_core.space.input_choice import InputChoice
from nas_profiler_nnmeter.ops import PASSTHROUGH, FusionRules, op_type
from nas_profiler_nnmeter.sample_graph import SampleGraph

__all__ = ["FusionRules", "KernelGraph", "Node", "PASSTHROUGH", "op_type", "unpredicted_warning"]


@dataclass
class Node:
    """One traced op as a node of the kernel graph."""

    idx: int
    op: Any  # OpRecord
    type: str
    attrs: dict[str, Any]
    inputs: list[SymTensor]

    @property
    def path(self) -> str:
        return self.op.path


def hashable(v: Any) -> Any:
    return tuple(hashable(x) for x in v) if isinstance(v, list) else v


class KernelGraph:
    """The traced ops as nn-Meter sees the frozen model, with per-sample kernel detection."""

    def __init__(self, trace: ShapeTrace, rules: FusionRules) -> None:
        self.trace = trace
        self.rules = rules
        self.merges: dict[int, Merge] = {}
        self._build_merges()
        self.nodes: list[Node] = []
        self.producer: dict[int, int] = {}
        for op in trace.ops:
            if isinstance(op.target, InputChoice):
                continue  # its output is a merge (built from its module call)
            t, attrs = op_type(op)
            node = Node(len(self.nodes), op, t, attrs, [i for i in op.inputs if isinstance(i, SymTensor)])
            self.nodes.append(node)
            in_ids = {id(i) for i in node.inputs}
            for out in op.outputs:
                if id(out) not in in_ids and id(out) not in self.producer and id(out) not in self.merges:
                    self.producer[id(out)] = node.idx
        self._may0: dict[int, frozenset[int]] = {}
        self._fold_statically()
        self._may0 = {}
        self.potential_consumers: dict[int, list[int]] = {n.idx: [] for n in self.nodes}
        for n in self.nodes:
            if n.type == PASSTHROUGH:
                continue
            seen = set()
            for s in n.inputs:
                for p in self.may_resolve(s):
                    if p not in seen:
                        seen.add(p)
                        self.potential_consumers[p].append(n.idx)
        self.targets = rules.targets | {"bn"}
        self._cond_labels: dict[int, tuple[str, ...]] = {}
        self._active_memo: dict[tuple, bool] = {}

    # -- structure ---------------------------------------------------------------------------------
    def _fold_statically(self) -> None:
        """BatchNorms the exporter always folds (fed directly by a Conv whose only consumer they are) become
        passthroughs, so their kernels never depend on the rest of the graph."""
        users: dict[int, set[int]] = {n.idx: set() for n in self.nodes}
        for n in self.nodes:
            if n.type == PASSTHROUGH:
                continue
            for i in n.inputs:
                for p in self._may_nofold(i):
                    users[p].add(n.idx)
        for n in self.nodes:
            if n.type != "bn" or len(n.inputs) != 1 or id(n.inputs[0]) in self.merges:
                continue
            p = self.producer.get(id(n.inputs[0]))
            if p is not None and self.nodes[p].type == "conv" and users[p] == {n.idx}:
                n.type = PASSTHROUGH
                n.attrs["folded_into"] = self.nodes[p].path

    def _may_nofold(self, s: SymTensor | None, _stack: frozenset = frozenset()) -> frozenset[int]:
        """Nodes ``s`` can resolve to before BatchNorm folding (through choices and passthroughs)."""
        if s is None or id(s) in _stack:
            return frozenset()
        stack = _stack | {id(s)}
        if id(s) in self.merges:
            out: set[int] = set()
            for alt in self.merges[id(s)].alternatives.values():
                out |= self._may_nofold(alt, stack)
            return frozenset(out)
        p = self.producer.get(id(s))
        if p is None:
            return frozenset()
        n = self.nodes[p]
        if n.type == PASSTHROUGH:
            return self._may_nofold(n.inputs[0] if n.inputs else None, stack)
        return frozenset([p])

    def _build_merges(self) -> None:
        for call in self.trace.calls:
            m = call.module
            if not isinstance(m, CHOICE_MODULES):
                continue
            if not isinstance(call.output, SymTensor) and call.output is not None:
                raise ProfilerError(
                    f"NnMeterProfiler supports choices whose output is one tensor; {call.path!r} "
                    f"({type(m).__name__}) returns {type(call.output).__name__}."
                )
            if isinstance(m, InputChoice) and isinstance(call.output, SymTensor):
                several = next((list(s) for s in m.domain if len(s) > 1), None)
                if several is not None:
                    raise ProfilerError(
                        f"NnMeterProfiler does not support InputChoice {m.label!r} choosing several inputs "
                        f"(subset {several} with reduction {m.reduction!r}); use n_chosen=1, or sum the "
                        "inputs in the module's forward so the add is traced as an op."
                    )
        self.merges = choice_merges(self.trace)

    def may_resolve(self, s: SymTensor | None, _stack: frozenset = frozenset()) -> frozenset[int]:
        """Every node ``s`` can resolve to for some sample (through choices, passthroughs, folded BN)."""
        if s is None or id(s) in _stack:
            return frozenset()
        key = id(s)
        if key in self._may0:
            return self._may0[key]
        stack = _stack | {key}
        out: set[int] = set()
        if key in self.merges:
            for alt in self.merges[key].alternatives.values():
                out |= self.may_resolve(alt, stack)
        elif key in self.producer:
            n = self.nodes[self.producer[key]]
            if n.type == PASSTHROUGH:
                out |= self.may_resolve(n.inputs[0] if n.inputs else None, stack)
            else:
                out.add(n.idx)
                if n.type == "bn" and n.inputs:  # folded into a preceding conv by the exporter
                    out |= self.may_resolve(n.inputs[0], stack)
        self._may0[key] = frozenset(out)
        return self._may0[key]

    # -- labels a node's term depends on -------------------------------------------------------------
    def _resolution_labels(self, s: SymTensor | None, seen: set[int]) -> set[str]:
        if s is None or id(s) in seen:
            return set()
        seen.add(id(s))
        out: set[str] = set()
        if id(s) in self.merges:
            m = self.merges[id(s)]
            out |= set(m.labels)
            for alt in m.alternatives.values():
                out |= self._resolution_labels(alt, seen)
        elif id(s) in self.producer:
            n = self.nodes[self.producer[id(s)]]
            if n.type == PASSTHROUGH or n.type == "bn":
                for i in n.inputs[:1]:
                    out |= self._resolution_labels(i, seen)
                if n.type == "bn":
                    for p in self.may_resolve(n.inputs[0] if n.inputs else None):
                        out |= self._type_labels(self.nodes[p])
                        for c in self.potential_consumers[p]:
                            out |= set(labels_of(self.nodes[c].op.cond))
                            for i in self.nodes[c].inputs:
                                out |= self._resolution_labels(i, seen)
        return out

    def _type_labels(self, n: Node) -> set[str]:
        if n.type != "conv":
            return set()
        return set(labels_of(n.attrs.get("groups"), n.inputs[0].shape[1] if n.inputs else None))

    def term_labels(self, idx: int) -> frozenset[str]:
        """The labels the term of node ``idx`` can depend on (a safe over-approximation).

        Its own condition, type and shapes; for the consumers of every node whose
        consumers are counted, their conditions and where their inputs come from; and the
        same, recursively, along the nodes that can fuse with it (backwards while a node may
        be absorbed by its producer, forwards while a consumer may be absorbed).
        """
        out: set[str] = set()
        seen_res: set[int] = set()
        seen_cons: set[int] = set()
        seen_root: set[int] = set()
        seen_fwd: set[int] = set()

        def base(m: Node) -> None:
            out.update(labels_of(m.op.cond))
            out.update(self._type_labels(m))

        def res(m: Node) -> None:
            if m.idx in seen_res:
                return
            seen_res.add(m.idx)
            for i in m.inputs:
                out.update(self._resolution_labels(i, set()))
            if m.type == "bn":  # folded or not: its producer's type and consumers
                for p in self.may_resolve(m.inputs[0] if m.inputs else None):
                    base(self.nodes[p])
                    cons(p)

        def cons(p: int) -> None:
            if p in seen_cons:
                return
            seen_cons.add(p)
            for c in self.potential_consumers[p]:
                base(self.nodes[c])
                res(self.nodes[c])

        def root(m: Node) -> None:
            if m.idx in seen_root:
                return
            seen_root.add(m.idx)
            base(m)
            if not self.may_be_target(m):
                return
            res(m)
            for i in m.inputs:
                for p in self.may_resolve(i):
                    base(self.nodes[p])
                    cons(p)
                    root(self.nodes[p])

        def fwd(m: Node) -> None:
            if not any(self.may_be_target(self.nodes[c]) for c in self.potential_consumers[m.idx]):
                return  # nothing can be absorbed after m: its kernel ends there whoever consumes it
            cons(m.idx)
            for c in self.potential_consumers[m.idx]:
                node = self.nodes[c]
                if c not in seen_fwd and self.may_be_target(node):
                    seen_fwd.add(c)
                    root(node)
                    fwd(node)

        n = self.nodes[idx]
        base(n)
        if n.type == "bn":
            res(n)
        root(n)
        fwd(n)
        out.update(labels_of([i.shape for i in n.inputs], n.op.output, n.attrs.get("ks"), n.attrs.get("strides")))
        return frozenset(out)

    def may_be_target(self, n: Node) -> bool:
        """Whether node ``n`` may be a fusion target (a kernel's consumer nn-Meter can absorb)."""
        return n.type in self.targets or (n.type == "conv" and "dwconv" in self.targets)

    # -- one sample --------------------------------------------------------------------------------
    def active(self, i: int, sample: Mapping[str, Any]) -> bool:
        """Whether node ``i`` runs for ``sample`` (memoised on the values of its condition's labels)."""
        labels = self._cond_labels.get(i)
        if labels is None:
            labels = self._cond_labels[i] = tuple(sorted(labels_of(self.nodes[i].op.cond)))
        key = (i,) + tuple(hashable(sample[l]) for l in labels)
        v = self._active_memo.get(key)
        if v is None:
            v = self._active_memo[key] = bool(evaluate_sym(self.nodes[i].op.cond, sample))
        return v

    def evaluator(self, sample: Mapping[str, Any]) -> "SampleGraph":
        """The graph under one sample: its exported nodes, consumers and kernels."""
        return SampleGraph(self, sample)


def unpredicted_warning(kinds: Mapping[str, list[str]], predictor: str) -> None:
    """Warn, naming them, about kernel types the predictor has no regressor for (counted as 0, as nn-Meter does)."""
    if not kinds:
        return
    parts = [f"{k} (e.g. at {v[0]})" for k, v in sorted(kinds.items())]
    warnings.warn(
        f"nn-Meter predictor {predictor!r} has no regressor for kernel type(s) {', '.join(parts)}; nn-Meter counts "
        "them as 0 ms and so does this profiler. Build a predictor that covers them (build_predictor with "
        "kernels=...) if their latency matters.",
        RuntimeWarning,
        stacklevel=3,
    )
