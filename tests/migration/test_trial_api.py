"""nas_core.trial in-process: standalone and experiment modes, report checks."""
import json
import math

import pytest
import torch
from torch import nn

from nas_core import trial
from nas_core.errors import ConfigError
from nas_core.space import MutableModule, MutableScope, LayerChoice, search_space
from nas_core.testing.seed_models import Net


def test_standalone_applies_first_candidates_and_prints(monkeypatch, capsys):
    monkeypatch.delenv(trial.ARCHITECTURE_ENV, raising=False)
    monkeypatch.delenv(trial.REPORT_ENV, raising=False)
    assert trial.is_standalone() and trial.get_trial_id() == "STANDALONE"
    model = Net()
    out = trial.get_and_apply_next_architecture(model)
    assert out is model and not any(isinstance(m, MutableModule) for m in model.modules())
    assert model.conv1.kernel_size == (3, 3)  # the first candidate
    assert model(torch.zeros(1, 1, 12, 12)).shape == (1, 10)
    trial.report_intermediate_result(0.5)
    trial.report_final_result({"default": 0.75, "loss": torch.tensor(0.1)})
    printed = capsys.readouterr().out
    assert "[nas_core.trial] intermediate result: 0.5" in printed
    assert "[nas_core.trial] final result: {'default': 0.75, 'loss': 0.1" in printed


def test_experiment_mode_reads_the_architecture_and_appends_reports(monkeypatch, tmp_path):
    arch, reports = tmp_path / "arch.json", tmp_path / "reports.jsonl"
    arch.write_text(json.dumps({"conv1": 1, "skipcon": []}))
    monkeypatch.setenv(trial.ARCHITECTURE_ENV, str(arch))
    monkeypatch.setenv(trial.REPORT_ENV, str(reports))
    model = Net()
    trial.get_and_apply_next_architecture(model)
    assert model.conv1.kernel_size == (5, 5)
    trial.report_intermediate_result({"acc": 0.1})
    trial.report_final_result(0.9)
    assert trial.read_reports(reports) == ([{"acc": 0.1}], 0.9)
    reports.write_text("not json\n")
    with pytest.raises(ConfigError, match="line 1 is not a report"):
        trial.read_reports(reports)


@pytest.mark.parametrize("bad, match", [(math.nan, "finite number"), ({}, "empty dict"), ("high", "finite number"),
                                        ({"acc": [1]}, "value 'acc'")])
def test_bad_reports_are_errors(bad, match, monkeypatch):
    monkeypatch.delenv(trial.REPORT_ENV, raising=False)
    with pytest.raises(ConfigError, match=match):
        trial.report_final_result(bad)


def test_mutable_scope_groups_choices():
    class Cell(MutableScope):
        def __init__(self, key):
            super().__init__(key)
            self.op = LayerChoice([nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 4, 1)])
            self.op2 = LayerChoice([nn.ReLU(), nn.Tanh()], label="act")

        def forward(self, x):
            return self.op2(self.op(x))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell1, self.cell2 = Cell("normal"), Cell("reduce")

        def forward(self, x):
            return self.cell2(self.cell1(x))

    model = Model()
    space = search_space(model)
    assert space.labels == ["cell1.op", "act", "cell2.op"]  # "act" is one decision shared by both cells
    assert model.cell1.key == "normal" and model.cell1.labels() == ["cell1.op", "act"]
    assert model.cell2.labels() == ["cell2.op", "act"]
    frozen = space.freeze(space.default())
    assert isinstance(frozen.cell1, Cell) and frozen(torch.zeros(1, 4, 5, 5)).shape == (1, 4, 5, 5)
    with pytest.raises(TypeError, match="key"):
        MutableScope(3)

