"""The autoregressive policy: a GRU cell walks the labels in space order, each step
choosing one label's value from the embedding of the previous choice."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

__all__ = ["AutoregressivePolicy"]

_MASKED = -1e9  # logit of a value whose every completion was already proposed


class AutoregressivePolicy(nn.Module):
    """``sizes[t]`` is the domain size of label ``t``.

    The heads start at zero, so the initial policy is exactly uniform over every label.
    """

    def __init__(self, sizes: Sequence[int], hidden_size: int = 32) -> None:
        super().__init__()
        self.sizes = list(sizes)
        self.start = nn.Parameter(torch.zeros(hidden_size))
        self.cell = nn.GRUCell(hidden_size, hidden_size)
        self.embeds = nn.ModuleList(nn.Embedding(n, hidden_size) for n in self.sizes)
        self.heads = nn.ModuleList(nn.Linear(hidden_size, n) for n in self.sizes)
        for head in self.heads:
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)

    def step(self, t: int, x: torch.Tensor, h: torch.Tensor | None, mask: torch.Tensor | None
             ) -> tuple[torch.Tensor, torch.Tensor]:
        """One decision: new hidden state and (masked) log-probabilities of label ``t``'s values."""
        h = self.cell(x, h)
        logits = self.heads[t](h)
        if mask is not None:
            logits = logits.masked_fill(~mask, _MASKED)
        return h, torch.log_softmax(logits, dim=-1)

    def evaluate(self, actions: torch.Tensor, masks: Sequence[torch.Tensor | None]) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probability and entropy of whole samples ``actions`` (B, T) under ``masks`` (T x (B, n_t))."""
        batch = actions.shape[0]
        x = self.start.expand(batch, -1)
        h = None
        logp = torch.zeros(batch)
        entropy = torch.zeros(batch)
        for t in range(len(self.sizes)):
            h, lp = self.step(t, x, h, masks[t])
            a = actions[:, t]
            logp = logp + lp.gather(1, a[:, None]).squeeze(1)
            entropy = entropy - (lp.exp() * lp).sum(1)
            x = self.embeds[t](a)
        return logp, entropy
