"""Reports: the Pareto plot as an image (labels with units, Pareto set marked) and `nas results`."""
from __future__ import annotations

import json

from click.testing import CliRunner
from PIL import Image

from nas_core.cli.main import cli
from nas_core.experiment import Experiment, Report, axis_label, plot_pareto

import nas_exp_testkit as kit


def _run(tmp_path):
    space = kit.toy_space()
    exp = Experiment(space, kit.CheapTrainer(), kit.ToyRandom(), profilers={"params": kit.ParamsCost(space)},
                     objectives={"accuracy": "max", "params": "min"}, max_trials=10, workdir=tmp_path / "run",
                     progress=False)
    exp.run()
    return exp


def test_pareto_plot_labels_units_and_marks_the_pareto_set(tmp_path):
    exp = _run(tmp_path)
    report = Report(tmp_path / "run")
    fig = plot_pareto(report.trials, report.objectives, report.units, tmp_path / "p.png")
    (ax,) = fig.axes
    assert ax.get_xlabel() == "Parameters (params)" and ax.get_ylabel() == "Accuracy (fraction)"
    pareto_ids = {t.id for t in report.pareto}
    marked = [c for c in ax.collections if c.get_label() == "Pareto set"]
    assert len(marked) == 1
    xy = {tuple(p) for p in marked[0].get_offsets().tolist()}
    assert xy == {(t.costs["params"], t.metrics["accuracy"]) for t in report.trials if t.id in pareto_ids}
    assert len(ax.lines) == 1 and len(ax.lines[0].get_xdata()) == len(pareto_ids)  # connected
    # the PNG written at the end of the run carries the same facts as metadata
    img = Image.open(tmp_path / "run" / "pareto.png")
    assert img.size[0] > 300 and img.size[1] > 200
    meta = json.loads(img.text["nas-core"])
    assert meta["panels"][0]["x"] == "Parameters (params)" and meta["panels"][0]["y"] == "Accuracy (fraction)"
    assert set(meta["panels"][0]["pareto"]) == pareto_ids and exp.store is not None


def test_axis_label():
    assert axis_label("flops", "MACs") == "FLOPs (MACs)"
    assert axis_label("latency", "ms") == "Latency (ms)"
    assert axis_label("my_metric", "") == "my metric"


def test_nas_results_prints_table_best_and_pareto_and_plots_on_demand(tmp_path):
    exp = _run(tmp_path)
    (tmp_path / "run" / "pareto.png").unlink()
    res = CliRunner().invoke(cli, ["results", str(tmp_path / "run"), "--plot"])
    assert res.exit_code == 0, res.output
    best = exp.best
    assert f"best: trial #{best.id}" in res.output
    assert "Pareto set (accuracy max, params min): #" in res.output
    assert "10 trials: 10 succeeded, 0 failed, 0 rejected" in res.output
    assert (tmp_path / "run" / "pareto.png").exists()
    res = CliRunner().invoke(cli, ["results", str(tmp_path / "run"), "--json"])
    data = json.loads(res.output)
    assert data["best"]["id"] == best.id and len(data["trials"]) == 10
    assert data["pareto"] == [t.id for t in Report(tmp_path / "run").pareto]


def test_nas_results_on_a_folder_without_trials(tmp_path):
    res = CliRunner().invoke(cli, ["results", str(tmp_path)])
    assert res.exit_code == 1 and "has no trials.db" in res.output
