"""NumParamsProfiler: exact counts, breakdown, shared parameters refused."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import nas_core.nn as nnn
from nas_core import search_space
from nas_core.errors import ProfilerError
from nas_core.space import LayerChoice, ModelSpace, Repeat, ValueChoice
from nas_profiler_params import NumParamsProfiler


class Space(ModelSpace):
    def __init__(self):
        super().__init__()
        w = ValueChoice([4, 8], label="w")
        self.c = nnn.Conv2d(3, w, ValueChoice([1, 3], label="k"))
        self.rep = Repeat(lambda i: nnn.Conv2d(w, w, 1, bias=False), (0, 2), label="d")
        self.head = LayerChoice([nnn.Linear(w, 5), nn.Sequential(nnn.Linear(w, 3), nn.Linear(3, 5))], label="head")

    def forward(self, x):
        return self.head(self.rep(self.c(x)).mean((2, 3)))


def test_exact_for_every_sample_and_breakdown():
    model = Space()
    p = NumParamsProfiler(model, torch.randn(1, 3, 5, 5))  # a dummy input is accepted and not needed
    space = search_space(model)
    for s in space.enumerate():
        n = sum(q.numel() for q in space.freeze(s).parameters())
        assert p.profile(s) == n
        assert sum(p.breakdown(s).values()) == n
    assert p.profile_batch(list(space.enumerate())) == [p.profile(s) for s in space.enumerate()]
    assert p.unit == "params" and p.metric == "params"


def test_shared_parameters_are_refused():
    class Shared(ModelSpace):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 3)
            self.b = nn.Linear(3, 3)
            self.b.weight = self.a.weight
            self.pick = LayerChoice([nn.ReLU(), nn.Tanh()], label="act")

        def forward(self, x):
            return self.pick(self.b(self.a(x)))

    with pytest.raises(ProfilerError, match="shares parameters"):
        NumParamsProfiler(Shared())
