"""Folding: a symbolic value over a small domain becomes a constant or a table lookup."""
from __future__ import annotations

import itertools
import math
from typing import Any

from nas_core.space.search_space import SearchSpace
from nas_core.shapes.sym import Sym, case

__all__ = ["FOLD_LIMIT", "fold_sym", "hkey"]


#: a Sym over labels with at most this many joint values is tabulated (or folded to a constant)
FOLD_LIMIT = 4096


def fold_sym(v: Sym, space: SearchSpace) -> Any:
    """``v`` as a constant when it is one over its labels' domains, else as a lookup table (or as is)."""
    labels = sorted(v.labels)
    try:
        domains = [space.choices[l].domain for l in labels]
    except KeyError:
        return v
    if math.prod(len(d) for d in domains) > FOLD_LIMIT:
        return v
    table: dict[tuple, Any] = {}
    try:
        for combo in itertools.product(*domains):
            val = v.fn(dict(zip(labels, combo)))
            if isinstance(val, Sym):
                return v
            table[tuple(hkey(c) for c in combo)] = val
    except Exception:  # noqa: BLE001 - a value undefined for some combination: keep it symbolic
        return v
    values = list(table.values())
    if all(type(x) is type(values[0]) and x == values[0] for x in values):
        return values[0]
    return case(labels, table, desc=v.desc)


def hkey(v: Any) -> Any:
    """A sample value as a dict key (lists become tuples)."""
    return tuple(v) if isinstance(v, list) else v

