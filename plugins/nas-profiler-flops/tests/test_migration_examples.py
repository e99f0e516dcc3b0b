"""The migration guide's FLOPs examples (seed 000): the profiler, a filter chain on it, debug logging."""
import logging
from functools import partial
from pathlib import Path

import pytest
import torch
import torch.nn as nn

import nas_core
from nas_core.oneshot.testing import DigitsOneShotSpace
from nas_core.testing.doc_examples import run_doc_example

pytestmark = pytest.mark.usefixtures("nas_one_torch_thread")

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "migrating-from-nni.md"
run = partial(run_doc_example, GUIDE)


class Seed000Space(nas_core.space.ModelSpace):
    """Seed 000's MyModelSpace: a 'layer1' choice with a 'conv' candidate, on a 3-vector input."""

    def __init__(self):
        super().__init__()
        self.layer1 = nas_core.space.LayerChoice({"conv": nn.Linear(3, 8), "fc": nn.Linear(3, 2)}, label="layer1")

    def forward(self, x):
        return self.layer1(x)


def test_profiler_example():
    ns = run("profiler", net=Seed000Space())
    assert ns["flops"] == 24  # a 3 -> 8 linear layer: 24 MACs (+ bias convention of the plugin)


def test_filter_chain_example():
    space = DigitsOneShotSpace()
    ns = run("filter-chain", model_space=space, dummy_input=torch.zeros(1, 1, 8, 8))
    assert type(ns["strategy"]).__name__ == "Chain"


def test_debug_logging_example(caplog):
    from nas_profiler_flops import FlopsProfiler

    root = logging.getLogger("nas_core")
    before = root.level
    try:
        with caplog.at_level(logging.DEBUG, logger="nas_core"):
            run("debug-logging", model_space=DigitsOneShotSpace(), dummy_input=torch.zeros(1, 1, 8, 8),
                FlopsProfiler=FlopsProfiler)
    finally:
        root.setLevel(before)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "shape inference of DigitsOneShotSpace" in text and "shape formula" in text
    assert "cost model (MACs)" in text
