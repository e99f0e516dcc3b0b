"""A Gaussian-process surrogate over categorical samples (index vectors), in plain torch.

The kernel is ``exp(-gamma * hamming(x, y) / n_labels)``: two samples are alike by the share of
labels on which they agree, with no ordering assumed among a label's values. Targets are
replaced by the normal quantiles of their ranks (a Gaussian copula), so a few extreme values
(failed or penalised samples scored 0 next to accuracies of 0.9) do not flatten the
differences that matter among the good ones; ``gamma`` and the noise level are picked from a small grid by the marginal
likelihood. Double precision, one thread: the same data give bit-identical predictions.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch

from nas_core.strategy.ranks import normal_scores
from nas_core.threads import torch_threads

__all__ = ["HammingGP"]

GAMMAS = (0.5, 1.0, 2.0, 4.0, 8.0)
NOISES = (1e-3, 1e-2, 1e-1)


class HammingGP:
    """Fit on index vectors ``x`` (n, L) and scores ``y``; predict mean and std at candidates."""

    def __init__(self, gamma: float | None = None, noise: float | None = None) -> None:
        self.gamma, self.noise = gamma, noise

    @staticmethod
    def _kernel(a: torch.Tensor, b: torch.Tensor, gamma: float) -> torch.Tensor:
        hamming = (a[:, None, :] != b[None, :, :]).sum(-1).to(torch.float64)
        return torch.exp(-gamma * hamming / a.shape[1])

    def fit(self, x: Sequence[Sequence[int]], y: Sequence[float], select: bool = True) -> "HammingGP":
        """Condition on the data; with ``select`` (or no hyperparameters yet) pick them by marginal likelihood."""
        with torch_threads(1):
            self.x = torch.tensor(x, dtype=torch.int64)
            self.y = copula(y)
            if select or self.gamma is None or self.noise is None:
                best = None
                for g in GAMMAS:
                    k = self._kernel(self.x, self.x, g)
                    for s in NOISES:
                        ll = self._loglik(k, s)
                        if best is None or ll > best[0]:
                            best = (ll, g, s)
                _, self.gamma, self.noise = best
            k = self._kernel(self.x, self.x, self.gamma)
            self.chol = torch.linalg.cholesky(k + self.noise * torch.eye(len(self.y), dtype=torch.float64))
            self.alpha = torch.cholesky_solve(self.y[:, None], self.chol)
        return self

    def _loglik(self, k: torch.Tensor, noise: float) -> float:
        chol = torch.linalg.cholesky(k + noise * torch.eye(len(self.y), dtype=torch.float64))
        alpha = torch.cholesky_solve(self.y[:, None], chol)
        return float(-0.5 * (self.y[:, None] * alpha).sum() - torch.log(torch.diagonal(chol)).sum())

    def predict(self, candidates: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard deviation at each candidate, on the copula scale (compare with ``self.y``)."""
        with torch_threads(1):
            c = torch.tensor(candidates, dtype=torch.int64)
            ks = self._kernel(c, self.x, self.gamma)
            mean = ks @ self.alpha[:, 0]
            v = torch.cholesky_solve(ks.T, self.chol)
            var = (1.0 - (ks * v.T).sum(1)).clamp_min(1e-12)
            return mean, var.sqrt()


def copula(y: Sequence[float]) -> torch.Tensor:
    """Normal quantiles of the ranks of ``y`` (:func:`nas_core.strategy.ranks.normal_scores`)."""
    return torch.tensor(normal_scores(list(y)), dtype=torch.float64)


def expected_improvement(mean: torch.Tensor, std: torch.Tensor, best: float) -> torch.Tensor:
    """Expected improvement over ``best`` (maximisation)."""
    z = (mean - best) / std
    return (mean - best) * torch.special.ndtr(z) + std * torch.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
