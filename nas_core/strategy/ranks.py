"""Scores as normal quantiles of their ranks: a scale-free view of results for learning strategies.

Raw scores mix scales (a failed or penalised sample scored 0 next to accuracies of 0.90 and
0.91): fitted directly, the few extreme values flatten the differences that matter among the
good samples. Their ranks, mapped through the normal quantile function (a Gaussian copula),
keep the order and give every result the same weight.
"""
from __future__ import annotations

from statistics import NormalDist
from typing import Sequence

__all__ = ["normal_scores", "normal_score_of"]

_NORMAL = NormalDist()


def normal_scores(values: Sequence[float]) -> list[float]:
    """The normal quantile of each value's rank among ``values`` (ties share their mean rank)."""
    n = len(values)
    order = sorted(range(n), key=lambda i: values[i])
    ranks = [0.0] * n
    i = 0
    while i < n:
        j = i
        while j + 1 < n and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return [_NORMAL.inv_cdf(r / (n + 1)) for r in ranks]


def normal_score_of(value: float, reference: Sequence[float]) -> float:
    """The normal quantile of ``value``'s rank among ``reference`` (``value`` counted as one more member)."""
    below = sum(1 for r in reference if r < value)
    equal = sum(1 for r in reference if r == value)
    rank = below + (equal + 2) / 2  # mean rank of value among its ties, value included
    n = len(reference) + 1
    return _NORMAL.inv_cdf(rank / (n + 1))

