"""Symbolic values: ints (or bools, floats) that depend on a sample.

A :class:`Sym` knows the labels it depends on and how to compute its value from a sample.
Shapes are tuples whose entries are plain ints or Syms. Arithmetic on Syms builds Syms;
arithmetic on plain values stays plain (constant folding), so formulas are written once
for fixed and choice-dependent shapes alike.
"""
from __future__ import annotations

import math
import operator
from typing import Any, Callable, Iterable, Mapping, Sequence

from nas_core.space.expr import ValueExpr

__all__ = [
    "Sym",
    "sym",
    "sym_apply",
    "case",
    "labels_of",
    "evaluate_sym",
    "is_sym",
    "numel",
    "SymShape",
    "all_of",
    "any_of",
    "Cond",
]


class Sym:
    """A value computed from a sample: ``Sym(labels, fn)`` with ``fn(sample) -> value``."""

    __slots__ = ("labels", "fn", "desc")

    def __init__(self, labels: Iterable[str], fn: Callable[[Mapping[str, Any]], Any], desc: str = "sym") -> None:
        self.labels: frozenset[str] = frozenset(labels)
        self.fn = fn
        self.desc = desc

    def __call__(self, sample: Mapping[str, object]) -> Any:
        return self.fn(sample)

    def __repr__(self) -> str:
        return f"<{self.desc} over {sorted(self.labels)}>"

    def _op(self, other: Any, op: Callable, sym: str, rev: bool = False) -> Any:
        return sym_apply(op, other, self, desc=sym) if rev else sym_apply(op, self, other, desc=sym)

    def __add__(self, o): return self._op(o, operator.add, "+")
    def __radd__(self, o): return self._op(o, operator.add, "+", True)
    def __sub__(self, o): return self._op(o, operator.sub, "-")
    def __rsub__(self, o): return self._op(o, operator.sub, "-", True)
    def __mul__(self, o): return self._op(o, operator.mul, "*")
    def __rmul__(self, o): return self._op(o, operator.mul, "*", True)
    def __floordiv__(self, o): return self._op(o, operator.floordiv, "//")
    def __rfloordiv__(self, o): return self._op(o, operator.floordiv, "//", True)
    def __truediv__(self, o): return self._op(o, operator.truediv, "/")
    def __rtruediv__(self, o): return self._op(o, operator.truediv, "/", True)
    def __mod__(self, o): return self._op(o, operator.mod, "%")
    def __pow__(self, o): return self._op(o, operator.pow, "**")
    def __neg__(self): return sym_apply(operator.neg, self, desc="neg")

    # Comparisons are symbolic too: ``require(c == in_channels, ...)`` checks the sample's value.
    def __eq__(self, o): return self._op(o, operator.eq, "==")  # type: ignore[override]
    def __ne__(self, o): return self._op(o, operator.ne, "!=")  # type: ignore[override]
    def __lt__(self, o): return self._op(o, operator.lt, "<")
    def __le__(self, o): return self._op(o, operator.le, "<=")
    def __gt__(self, o): return self._op(o, operator.gt, ">")
    def __ge__(self, o): return self._op(o, operator.ge, ">=")
    __hash__ = object.__hash__  # identity: a Sym is a node of an expression, not a value

    def __bool__(self) -> bool:
        raise TypeError(
            f"{self!r} depends on the sample and has no fixed truth value: a comparison such as "
            "`c == n` or `h >= k` is itself symbolic; pass it to require(...) inside a formula, or build "
            "the value with nas_core.shapes.case / sym_apply instead of `if`/`and`/`or`."
        )

    def __index__(self) -> int:
        raise TypeError(f"{self!r} depends on the sample; it cannot be used as a plain int here.")


SymShape = tuple  # a tuple of int | Sym


def is_sym(v: object) -> bool:
    return isinstance(v, Sym)


def sym(value: Any) -> Any:
    """Convert a ValueChoice expression (or a tuple of them) to a Sym; plain values pass through."""
    if isinstance(value, ValueExpr):
        labels = value.labels()
        if None in labels:
            raise ValueError(f"{value!r} has unlabelled choices; find the space's choices first (search_space(model)).")
        return Sym(labels, value.evaluate, desc=repr(value))
    if isinstance(value, tuple):
        return tuple(sym(v) for v in value)
    if isinstance(value, list):
        return [sym(v) for v in value]
    return value


def labels_of(*values: object) -> frozenset[str]:
    """Union of the labels of Syms found in ``values`` (recursing into tuples, lists, dicts)."""
    out: set[str] = set()
    stack = list(values)
    while stack:
        v = stack.pop()
        if isinstance(v, Sym):
            out |= v.labels
        elif isinstance(v, (tuple, list)):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
    return frozenset(out)


def evaluate_sym(value: Any, sample: Mapping[str, object]) -> Any:
    """The concrete value of ``value`` (recursing into tuples, lists and dicts)."""
    if isinstance(value, Sym):
        return value.fn(sample)
    if isinstance(value, tuple):
        return tuple(evaluate_sym(v, sample) for v in value)
    if isinstance(value, list):
        return [evaluate_sym(v, sample) for v in value]
    if isinstance(value, dict):
        return {k: evaluate_sym(v, sample) for k, v in value.items()}
    return value


def sym_apply(fn: Callable[..., Any], *args: Any, desc: str | None = None) -> Any:
    """``fn(*args)``, symbolic when any argument (or nested tuple/list entry) is a Sym."""
    labels = labels_of(*args)
    if not labels and not any(isinstance(a, Sym) for a in args):
        return fn(*args)
    return Sym(labels, lambda s: fn(*(evaluate_sym(a, s) for a in args)), desc or str(getattr(fn, "__name__", "fn")))


def case(labels: Sequence[str], branches: Mapping[Any, Any], key: Callable[[tuple], Any] | None = None,
         desc: str = "case") -> Any:
    """A value that depends on which branch the sample takes.

    ``branches`` maps a key (by default the tuple of the sample's values for ``labels``,
    with lists made tuples) to a value (plain or Sym). If every branch is the same plain
    value, that value is returned.
    """
    labels = tuple(labels)
    if key is None and any(isinstance(v, Cond) for v in branches.values()):
        restricted = {}
        for k, v in branches.items():
            if isinstance(v, Cond):
                for label, value in zip(labels, k):
                    v = v.restrict(label, value) if isinstance(v, Cond) else v
            restricted[k] = v
        branches = restricted
    vals = list(branches.values())
    if vals and all(not isinstance(v, Sym) or isinstance(v, Cond) for v in vals) and all(_eq(v, vals[0]) for v in vals):
        return vals[0]
    key = key or (lambda t: t)
    all_labels = frozenset(labels) | labels_of(*vals)

    def fn(s: Mapping[str, Any]) -> Any:
        k = key(tuple(_hashable(s[label]) for label in labels))
        return evaluate_sym(branches[k], s)

    return Sym(all_labels, fn, desc)


def _eq(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False


def _hashable(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    return v


def numel(shape: Sequence[Any]) -> Any:
    """Product of a shape's entries (symbolic if any entry is)."""
    return sym_apply(lambda *d: math.prod(d), *shape, desc="numel") if shape else 1


class Cond(Sym):
    """A conjunction of ``label in allowed-values`` atoms (plus opaque boolean Syms).

    Conditions of ops (which LayerChoice candidate, Repeat depth, InputChoice subset is
    selected) are Conds, so they simplify: inside the branch ``label == k`` the atom on
    ``label`` is known, and equal conditions compare equal.
    """

    __slots__ = ("atoms", "extra")

    def __init__(self, atoms: Mapping[str, frozenset] | None = None, extra: Iterable[Sym] = ()) -> None:
        self.atoms: dict[str, frozenset] = dict(atoms or {})
        self.extra: tuple[Sym, ...] = tuple(dict.fromkeys(extra))
        labels = set(self.atoms) | labels_of(*self.extra)
        atoms_items = tuple(self.atoms.items())
        extra_t = self.extra

        def fn(s: Mapping[str, Any]) -> bool:
            for label, allowed in atoms_items:
                if _hashable(s[label]) not in allowed:
                    return False
            return all(e.fn(s) for e in extra_t)

        super().__init__(labels, fn, "cond")

    @staticmethod
    def atom(label: str, allowed: Iterable[Any]) -> "Cond":
        return Cond({label: frozenset(_hashable(v) for v in allowed)})

    def restrict(self, label: str, value: Any) -> Any:
        """This condition knowing ``sample[label] == value`` (True/False when decided)."""
        if label not in self.atoms:
            return _simplify(self)
        if _hashable(value) not in self.atoms[label]:
            return False
        atoms = {k: v for k, v in self.atoms.items() if k != label}
        return _simplify(Cond(atoms, self.extra))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Cond) and self.atoms == other.atoms and set(map(id, self.extra)) == set(map(id, other.extra))

    def __hash__(self) -> int:
        return hash((frozenset(self.atoms.items()), frozenset(map(id, self.extra))))

    def __repr__(self) -> str:
        parts = [f"{k} in {sorted(map(repr, v))}" for k, v in self.atoms.items()] + [repr(e) for e in self.extra]
        return "Cond(" + " and ".join(parts) + ")"


def _simplify(c: "Cond") -> Any:
    if not c.atoms and not c.extra:
        return True
    return c


def all_of(*conds: Any) -> Any:
    """Logical AND of bools, Conds and boolean Syms (None means True)."""
    atoms: dict[str, frozenset] = {}
    extra: list[Sym] = []
    for c in conds:
        if c is None or c is True:
            continue
        if c is False:
            return False
        if isinstance(c, Cond):
            for k, v in c.atoms.items():
                atoms[k] = atoms[k] & v if k in atoms else v
                if not atoms[k]:
                    return False
            extra.extend(c.extra)
        elif isinstance(c, Sym):
            extra.append(c)
        elif not c:
            return False
    return _simplify(Cond(atoms, extra))


def any_of(*conds: Any) -> Any:
    """Logical OR of plain bools and boolean Syms (None means True)."""
    if any(c is None or c is True for c in conds):
        return True
    conds = tuple(dict.fromkeys(c for c in conds if c is not False))
    if not conds:
        return False
    if len(conds) == 1:
        return conds[0]
    return Cond(extra=[sym_apply(lambda *c: any(c), *conds, desc="or")])
