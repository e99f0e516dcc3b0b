"""The ENAS controller: an LSTM (or GRU) that emits one decision per label, in order."""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["Controller"]


class Controller(nn.Module):
    """Autoregressive policy over a space's labels.

    At each step the recurrent cell reads the embedding of the previous decision and a
    linear head gives logits over the next label's domain (``tanh_constant * tanh(z / T)``
    as in ENAS). ``forward`` returns the chosen indices, their summed log-probability and
    the summed entropy; ``greedy=True`` takes the argmax at every step (deterministic).
    """

    def __init__(self, domain_sizes: list[int], hidden: int = 64, cell: str = "lstm", temperature: float = 5.0,
                 tanh_constant: float = 2.5) -> None:
        super().__init__()
        if cell not in ("lstm", "gru"):
            raise ValueError(f"ENAS controller cell must be 'lstm' or 'gru', got {cell!r}.")
        self.sizes = list(domain_sizes)
        self.hidden = hidden
        self.kind = cell
        self.cell = nn.LSTMCell(hidden, hidden) if cell == "lstm" else nn.GRUCell(hidden, hidden)
        self.start = nn.Parameter(torch.zeros(1, hidden))
        self.heads = nn.ModuleList(nn.Linear(hidden, n) for n in self.sizes)
        self.embeddings = nn.ModuleList(nn.Embedding(n, hidden) for n in self.sizes)
        self.temperature = temperature
        self.tanh_constant = tanh_constant
        for p in self.parameters():
            nn.init.uniform_(p, -0.1, 0.1)

    def forward(self, generator: torch.Generator | None = None,
                greedy: bool = False) -> tuple[list[int], torch.Tensor, torch.Tensor]:
        inp = self.start
        state = None
        choices: list[int] = []
        logp = torch.zeros(())
        entropy = torch.zeros(())
        for head, emb, n in zip(self.heads, self.embeddings, self.sizes):
            state = self.cell(inp, state)
            h = state[0] if self.kind == "lstm" else state
            logits = self._logits(head, h)
            log_probs = torch.log_softmax(logits, -1)
            probs = log_probs.exp()
            if greedy:
                idx = int(torch.argmax(probs))
            else:
                idx = int(torch.multinomial(probs.detach(), 1, generator=generator))
            choices.append(idx)
            logp = logp + log_probs[idx]
            entropy = entropy - (probs * log_probs).sum()
            inp = emb(torch.tensor([idx]))
        return choices, logp, entropy

    def _logits(self, head: nn.Module, h: torch.Tensor) -> torch.Tensor:
        return self.tanh_constant * torch.tanh(head(h)[0] / self.temperature)

    @torch.no_grad()
    def greedy_probabilities(self) -> list[list[float]]:
        """Each label's probabilities along the most likely path (given the argmax of the labels before it)."""
        inp, state = self.start, None
        out: list[list[float]] = []
        for head, emb in zip(self.heads, self.embeddings):
            state = self.cell(inp, state)
            probs = torch.softmax(self._logits(head, state[0] if self.kind == "lstm" else state), -1)
            out.append([round(float(p), 4) for p in probs])
            inp = emb(torch.tensor([int(torch.argmax(probs))]))
        return out
