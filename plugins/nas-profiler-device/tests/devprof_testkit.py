"""Shared helpers for the nas-profiler-device tests: tiny spaces, a fake measurer, a loopback agent."""
from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

import nas_core.nn as nnn
from nas_core.space import LayerChoice, ModelSpace, Repeat, ValueChoice

from nas_profiler_device.agent_server import AgentServer, make_server
from nas_profiler_device.measure import Measurement
from nas_profiler_device.measurer import Measurer

TOKEN = "test-token-123456"


class TinySpace(ModelSpace):
    """A mutable-width stem, a LayerChoice, a Repeat and a fixed head (36 samples)."""

    def __init__(self) -> None:
        super().__init__()
        width = ValueChoice([4, 8], label="width")
        self.stem = nnn.Conv2d(3, width, 3, padding=1)
        self.op = LayerChoice({"conv3": nn.Conv2d(8, 8, 3, padding=1), "conv5": nn.Conv2d(8, 8, 5, padding=2),
                               "skip": nn.Identity()}, label="op")
        self.pre = nnn.Conv2d(width, 8, 1)
        self.body = Repeat(lambda i: nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU()), depth=(1, 3),
                           label="depth")
        self.head = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.op(self.pre(F.relu(self.stem(x))))
        x = self.body(x)
        return self.head(F.adaptive_avg_pool2d(x, 1).flatten(1))


class ChoiceSpace(ModelSpace):
    """Two LayerChoices of convolutions (small and quick to export)."""

    def __init__(self) -> None:
        super().__init__()
        self.a = LayerChoice([nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(3, 8, 5, padding=2)], label="a")
        self.b = LayerChoice([nn.Conv2d(8, 8, 1), nn.Conv2d(8, 8, 3, padding=1)], label="b")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(torch.relu(self.a(x))).mean((2, 3))


class FakeMeasurer(Measurer):
    """Deterministic 'latency': 0.01 ms per call plus 1 us per parameter. Counts its calls."""

    backend = "fake"

    def __init__(self, threads: int = 1, versions: dict[str, str] | None = None, device: str = "fake-device") -> None:
        self.threads, self.repeats, self.warmup = threads, 1, 0
        self.versions = versions or {"torch": "x"}
        self.device = device
        self.calls = 0

    def measure(self, module: nn.Module, inputs: Sequence[torch.Tensor]) -> Measurement:
        self.calls += 1
        ms = 0.01 + sum(p.numel() for p in module.parameters()) * 1e-3
        return Measurement(ms, 0.0, 1, 0, "fake", self.device, self.threads, int(inputs[0].shape[0]),
                           [list(t.shape) for t in inputs], dict(self.versions))

    def identity(self) -> dict[str, Any]:
        return {"device": self.device, "backend": "fake", "threads": self.threads, "versions": dict(self.versions)}


@contextlib.contextmanager
def running_agent(**options: Any) -> Iterator[AgentServer]:
    """A device agent on a free loopback port, served from a thread."""
    server = make_server("127.0.0.1", 0, TOKEN, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
