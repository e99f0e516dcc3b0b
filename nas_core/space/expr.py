"""Value choices and the arithmetic built on them.

A :class:`ValueChoice` is one decision over a list of plain values. Arithmetic on it
(``ValueChoice([16, 32]) * 2``) builds a :class:`ValueExpr` that is evaluated against a
sample, so a layer width, kernel size or padding can follow a decision.
"""
from __future__ import annotations

import math
import operator
from typing import Any, Callable, Iterable, Mapping, Sequence

from nas_core.errors import SpaceDefinitionError
from nas_core.space.mutable import require_label

__all__ = ["ValueExpr", "ValueChoice", "evaluate", "is_expr", "leaf_choices"]


class ValueExpr:
    """A value computed from one or more :class:`ValueChoice` decisions."""

    def __init__(self, fn: Callable[..., Any], args: Sequence[Any], repr_fmt: str) -> None:
        self._fn = fn
        self._args = tuple(args)
        self._repr_fmt = repr_fmt

    # -- evaluation -----------------------------------------------------------------
    def evaluate(self, sample: Mapping[str, object] | None = None) -> Any:
        """The value under ``sample`` (or under each choice's current value when None)."""
        return self._fn(*(evaluate(a, sample) for a in self._args))

    def leaves(self) -> list["ValueChoice"]:
        """The distinct :class:`ValueChoice` objects this expression reads, in order."""
        out: list[ValueChoice] = []
        for a in self._args:
            if isinstance(a, ValueExpr):
                for leaf in a.leaves():
                    if all(leaf is not o for o in out):
                        out.append(leaf)
        return out

    def labels(self) -> list[str]:
        """Labels of the decisions this expression depends on."""
        return _dedupe(leaf.label for leaf in self.leaves())

    def possible_values(self) -> list[Any]:
        """Every value this expression can take (sorted when comparable).

        When the arguments read disjoint decisions (``w0 + w1 + ... + w5``), the values are
        combined argument by argument, so a sum of six 10-way choices costs a few hundred
        evaluations instead of a million.
        """
        arg_leaves = [a.leaves() if isinstance(a, ValueExpr) else [] for a in self._args]
        ids = [id(leaf) for leaves in arg_leaves for leaf in leaves]
        if len(self._args) > 1 and len(ids) == len(set(ids)):
            domains = [a.possible_values() if isinstance(a, ValueExpr) else [a] for a in self._args]
            values = _dedupe(self._fn(*combo) for combo in _product(domains))
        else:
            leaves = self.leaves()
            values = _dedupe(self._eval_by_id({id(leaf): v for leaf, v in zip(leaves, combo)})
                             for combo in _product([leaf.candidates for leaf in leaves]))
        try:
            return sorted(values)
        except TypeError:
            return values

    def max(self) -> Any:
        return max(self.possible_values())

    def min(self) -> Any:
        return min(self.possible_values())

    def _eval_by_id(self, by_id: Mapping[int, Any]) -> Any:
        args = []
        for a in self._args:
            if isinstance(a, ValueChoice):
                args.append(by_id[id(a)])
            elif isinstance(a, ValueExpr):
                args.append(a._eval_by_id(by_id))
            else:
                args.append(a)
        return self._fn(*args)

    def map(self, fn: Callable[[Any], Any]) -> "ValueExpr":
        """A new expression ``fn(self)``, e.g. ``kernel.map(lambda k: k // 2)``."""
        return ValueExpr(fn, [self], f"{getattr(fn, '__name__', 'fn')}({{0}})")

    # -- arithmetic -----------------------------------------------------------------
    def _bin(self, other: Any, op: Callable, sym: str, reverse: bool = False) -> "ValueExpr":
        if reverse:
            return ValueExpr(op, [other, self], f"({{0}} {sym} {{1}})")
        return ValueExpr(op, [self, other], f"({{0}} {sym} {{1}})")

    def __add__(self, o): return self._bin(o, operator.add, "+")
    def __radd__(self, o): return self._bin(o, operator.add, "+", True)
    def __sub__(self, o): return self._bin(o, operator.sub, "-")
    def __rsub__(self, o): return self._bin(o, operator.sub, "-", True)
    def __mul__(self, o): return self._bin(o, operator.mul, "*")
    def __rmul__(self, o): return self._bin(o, operator.mul, "*", True)
    def __truediv__(self, o): return self._bin(o, operator.truediv, "/")
    def __rtruediv__(self, o): return self._bin(o, operator.truediv, "/", True)
    def __floordiv__(self, o): return self._bin(o, operator.floordiv, "//")
    def __rfloordiv__(self, o): return self._bin(o, operator.floordiv, "//", True)
    def __mod__(self, o): return self._bin(o, operator.mod, "%")
    def __rmod__(self, o): return self._bin(o, operator.mod, "%", True)
    def __pow__(self, o): return self._bin(o, operator.pow, "**")
    def __rpow__(self, o): return self._bin(o, operator.pow, "**", True)
    def __neg__(self): return ValueExpr(operator.neg, [self], "-{0}")
    def __abs__(self): return ValueExpr(abs, [self], "abs({0})")

    def __round__(self, ndigits: int | None = None):
        return ValueExpr(lambda v: round(v, ndigits), [self], "round({0})")

    def __bool__(self) -> bool:
        raise SpaceDefinitionError(
            f"{self!r} is a search-space decision and has no truth value while the space is "
            "being built. Use it as a layer argument or combine it with arithmetic; to branch "
            "on it, use a LayerChoice instead of an `if`."
        )

    def __index__(self) -> int:
        raise SpaceDefinitionError(
            f"{self!r} was used where a plain int is required (for example by a torch.nn layer). "
            "Use the mutable layer from nas_core.nn (e.g. nas_core.nn.Conv2d) so the value can "
            "follow the decision."
        )

    def __repr__(self) -> str:
        return self._repr_fmt.format(*(repr(a) for a in self._args))


class ValueChoice(ValueExpr):
    """One decision among ``candidates``.

    ``label`` (alias ``key``) names the decision; choices that share a label are one
    decision. Without a label, a stable one is generated from where the choice is first
    used in the model (for example ``"stem.out_channels"``).
    """

    def __init__(self, candidates: Iterable[Any], *, label: str | None = None, key: str | None = None) -> None:
        candidates = list(candidates)
        if not candidates:
            raise SpaceDefinitionError("ValueChoice needs at least one candidate; got an empty list.")
        if label is not None and key is not None and label != key:
            raise SpaceDefinitionError(f"ValueChoice got both label={label!r} and key={key!r}; give one.")
        for c in candidates:
            if isinstance(c, ValueExpr):
                raise SpaceDefinitionError("ValueChoice candidates must be plain values, not other choices.")
        if len({repr(c) for c in candidates}) != len(candidates):
            raise SpaceDefinitionError(f"ValueChoice candidates must be distinct; got {candidates!r}.")
        super().__init__(lambda: None, [], "")
        self.candidates: list[Any] = candidates
        self.label: str | None = label if label is not None else key
        self.current: Any = candidates[0]

    @property
    def default(self) -> Any:
        return self.candidates[0]

    def require_label(self) -> str:
        """The label; a choice gets one from its constructor or from ``search_space(model)``."""
        return require_label(self)

    def evaluate(self, sample: Mapping[str, object] | None = None) -> Any:
        if sample is None:
            return self.current
        if self.label is None or self.label not in sample:
            raise KeyError(self.label)
        return sample[self.label]

    def leaves(self) -> list["ValueChoice"]:
        return [self]

    def _eval_by_id(self, by_id: Mapping[int, Any]) -> Any:
        return by_id[id(self)]

    def possible_values(self) -> list[Any]:
        return list(self.candidates)

    def __repr__(self) -> str:
        lab = f", label={self.label!r}" if self.label else ""
        return f"ValueChoice({self.candidates!r}{lab})"



def is_expr(value: object) -> bool:
    """True if ``value`` is a decision or computed from one."""
    return isinstance(value, ValueExpr)


def evaluate(value: Any, sample: Mapping[str, object] | None = None) -> Any:
    """Evaluate ``value`` if it is an expression (recursing into tuples and lists)."""
    if isinstance(value, ValueExpr):
        return value.evaluate(sample)
    if isinstance(value, tuple):
        return tuple(evaluate(v, sample) for v in value)
    if isinstance(value, list):
        return [evaluate(v, sample) for v in value]
    return value


def leaf_choices(value: Any) -> list[ValueChoice]:
    """All :class:`ValueChoice` objects inside ``value`` (expressions, tuples, lists, dicts)."""
    if isinstance(value, ValueExpr):
        return value.leaves()
    out: list[ValueChoice] = []
    if isinstance(value, (tuple, list)):
        items = value
    elif isinstance(value, dict):
        items = list(value.values())
    else:
        return out
    for v in items:
        for leaf in leaf_choices(v):
            if all(leaf is not o for o in out):
                out.append(leaf)
    return out


def expr_candidates(value: Any) -> list[Any]:
    """All values ``value`` can take; a plain value gives a one-element list."""
    if isinstance(value, ValueChoice):
        return list(value.candidates)
    if isinstance(value, ValueExpr):
        return value.possible_values()
    return [value]


def expr_max(value: Any) -> Any:
    """The largest value ``value`` can take (recursing into tuples)."""
    if isinstance(value, tuple):
        return tuple(expr_max(v) for v in value)
    return max(expr_candidates(value))


def _product(domains: list[list[Any]]) -> Iterable[tuple]:
    if not domains:
        yield ()
        return
    total = math.prod(len(d) for d in domains)
    if total > 1_000_000:
        raise SpaceDefinitionError(
            f"an expression depends on {total} combinations of decisions; split it into smaller parts."
        )
    import itertools

    yield from itertools.product(*domains)


def _dedupe(items: Iterable[Any]) -> list[Any]:
    """Distinct items in first-seen order (hashable ones through a set, others by equality)."""
    out: list[Any] = []
    seen: set = set()
    for i in items:
        try:
            if i in seen:
                continue
            seen.add(i)
        except TypeError:  # unhashable: compare with what is kept
            if i in out:
                continue
        out.append(i)
    return out
