"""The best samples told so far, which the policy imitates beside its PPO steps (self-imitation).

Rebuilt from the history on resume (never saved): the set depends only on the rewards told,
in order, so a restored strategy holds the same elites as one that never stopped.
"""
from __future__ import annotations

__all__ = ["Elites"]

Indices = tuple[int, ...]


class Elites:
    """The ``size`` best (reward, sample) pairs, one entry per sample; ties keep the earlier sample."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: list[tuple[float, int, Indices]] = []  # (reward, order told, sample), best first
        self._told = 0

    def __len__(self) -> int:
        return len(self._items)

    def add(self, indices: Indices, reward: float) -> None:
        """Offer a told sample; it stays if it is among the ``size`` best (a sample told twice keeps its best)."""
        self._told += 1
        if self.size == 0:
            return
        for i, (r, _, held) in enumerate(self._items):
            if held == indices:
                if reward <= r:
                    return
                del self._items[i]
                break
        if len(self._items) >= self.size and reward <= self._items[-1][0]:
            return
        self._items.append((reward, self._told, indices))
        self._items.sort(key=lambda e: (-e[0], e[1]))
        del self._items[self.size:]

    def items(self) -> list[tuple[Indices, float]]:
        """(sample, reward), best first."""
        return [(indices, reward) for reward, _, indices in self._items]

    def clear(self) -> None:
        self._items.clear()
        self._told = 0
