"""The table-based profiler of docs/writing-plugins.md works as printed."""
import re
from pathlib import Path

import pytest
import torch

import nas_core
from nas_core.strategy.testing import ToyNet

DOC = Path(__file__).resolve().parents[4] / "docs" / "writing-plugins.md"


def _example() -> str:
    text = DOC.read_text()
    section = text.split("## A table-based profiler in 15 lines", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_table_profiler_from_the_docs():
    code = _example()
    assert len(code.strip().splitlines()) <= 15
    env: dict = {}
    exec(code, env)  # noqa: S102 - the documented example
    model = ToyNet()
    x = torch.randn(1, 1, 8, 8)
    table = env["TableLatency"](model, x)
    flops = nas_core.create("profiler", "flops", model, x)
    for sample in model.space.enumerate():
        # ToyNet's only MACs are its Conv2d: the table gives 0.9e-6 ms per MAC
        assert table.profile(sample) == pytest.approx(flops.profile(sample) * 0.9e-6, rel=1e-9)
    probs = {l: torch.full((len(c.domain),), 1 / len(c.domain)) for l, c in model.space.choices.items()}
    assert float(table.expectation(probs)) > 0
