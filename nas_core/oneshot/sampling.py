"""Fair path sampling for weight training (FairNAS-style strict fairness).

During warm-up the architecture does not move; the shared weights train one path per
batch. Drawing each label's value uniformly at random (SPOS) is fair only on average;
:class:`FairPathSampler` makes it exact: every label walks through a shuffled copy of its
domain, so over any ``len(domain)`` consecutive steps each candidate trains exactly once.
Parameter-free candidates (identity, skip) then get no head start over convolutions.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch

from nas_core.errors import ConfigError

__all__ = ["FairPathSampler"]


class FairPathSampler:
    """One sample per call; each label cycles through a fresh permutation of its domain."""

    def __init__(self, domains: Mapping[str, Sequence[Any]], generator: torch.Generator) -> None:
        if not domains:
            raise ConfigError("FairPathSampler needs at least one label with a domain.")
        self.domains = {l: list(d) for l, d in domains.items()}
        self.generator = generator
        self._queues: dict[str, list[int]] = {l: [] for l in self.domains}

    def __call__(self) -> dict[str, Any]:
        out = {}
        for label, domain in self.domains.items():
            queue = self._queues[label]
            if not queue:
                queue.extend(torch.randperm(len(domain), generator=self.generator).tolist())
            out[label] = domain[queue.pop()]
        return out
