"""`nas results` shows the epochs each trial trained and, with --trial N, its learning curve."""
from __future__ import annotations

import json

from click.testing import CliRunner

from nas_core.cli.main import cli
from nas_core.experiment import Experiment

from nas_core.pruning import testing as kit


def _run(tmp_path):
    exp = Experiment(kit.WidthSpace, kit.CurveTrainer(epochs=4), kit.Fixed([5, 1, 3]), max_trials=3,
                     pruner=kit.StopNarrow(below=0.3, at_step=2), workdir=tmp_path / "run", progress=False)
    exp.run()
    return str(tmp_path / "run")


def test_results_table_has_epochs_and_the_pruned_count(tmp_path):
    run = _run(tmp_path)
    res = CliRunner().invoke(cli, ["results", run])
    assert res.exit_code == 0, res.output
    assert "epochs" in res.output
    assert "3 trials: 1 succeeded, 0 failed, 0 rejected, 2 pruned" in res.output
    assert "epochs: 8 trained in all" in res.output  # 4 + 2 + 2
    data = json.loads(CliRunner().invoke(cli, ["results", run, "--json"]).output)
    assert [(t["status"], t["epochs"]) for t in data["trials"]] == [("succeeded", 4), ("pruned", 2), ("pruned", 2)]


def test_results_trial_prints_its_learning_curve(tmp_path):
    run = _run(tmp_path)
    res = CliRunner().invoke(cli, ["results", run, "--trial", "2"])
    assert res.exit_code == 0, res.output
    assert 'trial #2: pruned  sample={"width": 1}' in res.output
    assert "partial: its last report before it was pruned" in res.output
    assert "learning curve of trial #2 (2 reports, pruned):" in res.output
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in res.output.splitlines() if line.startswith("│")]
    assert [r[:3] for r in rows] == [["1", f"{kit.accuracy_at(1, 1):.4g}", f"{1 - kit.accuracy_at(1, 1):.4g}"],
                                     ["2", f"{kit.accuracy_at(1, 2):.4g}", f"{1 - kit.accuracy_at(1, 2):.4g}"]]
    data = json.loads(CliRunner().invoke(cli, ["results", run, "--trial", "1", "--json"]).output)
    assert data["status"] == "succeeded"
    assert [(p["step"], p["value"]) for p in data["curve"]] == [(e, kit.accuracy_at(5, e)) for e in (1, 2, 3, 4)]
    assert data["curve"][3]["metrics"]["loss"] == 1 - kit.accuracy_at(5, 4)


def test_results_trial_unknown_is_an_error_naming_the_range(tmp_path):
    run = _run(tmp_path)
    res = CliRunner().invoke(cli, ["results", run, "--trial", "9"])
    assert res.exit_code == 1 and "no trial #9" in res.output and "trials are #1 to #3" in res.output


def test_nas_search_with_a_pruner_section_reports_the_pruned_trials(tmp_path, nas_plugin):
    nas_plugin(kit.KitPlugin())
    cfg = tmp_path / "exp.toml"
    cfg.write_text('[experiment]\nmax_trials = 3\nworkdir = "run"\n[space]\nclass = "nas_core.pruning.testing:WidthSpace"\n'
                   '[strategy]\nname = "fixed"\nwidths = [6, 2, 1]\n[trainer]\nname = "curve"\nepochs = 3\n'
                   '[pruner]\nname = "stop-narrow"\nbelow = 0.3\nat_step = 2\n')
    res = CliRunner().invoke(cli, ["search", str(cfg), "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "trials: 1 succeeded, 0 failed, 0 rejected, 2 pruned" in res.output
    res = CliRunner().invoke(cli, ["results", str(tmp_path / "run"), "--json"])
    assert [t["epochs"] for t in json.loads(res.output)["trials"]] == [3, 2, 2]
