"""``nas results DIR --trial N``: one trial and its learning curve (the reports of its trainer)."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from nas_core.pruning import CurveStore

if TYPE_CHECKING:
    from nas_core.experiment.report import Report


def steps_done(report: Report) -> dict[int, int]:
    """The last reported step of each trial that reported (empty when no trainer reported)."""
    with CurveStore(report.store.path, read_only=True) as curves:
        return curves.steps_done()


def show_trial(report: Report, trial_id: int, as_json: bool) -> None:
    """Print trial ``trial_id`` of ``report`` (a :class:`~nas_core.experiment.Report`) and its curve."""
    from rich.console import Console
    from rich.table import Table

    from nas_core.experiment.report import fmt_value

    trial = report.store.trial(trial_id)
    if trial is None:
        con = report.store.connection()
        first, last = con.execute("SELECT MIN(id), MAX(id) FROM trials").fetchone()
        known = f"trials are #{first} to #{last}" if first is not None else "it holds no trial yet"
        raise click.ClickException(f"no trial #{trial_id} in {report.workdir}; {known}.")
    with CurveStore(report.store.path, read_only=True) as curves:
        points, status = curves.points(trial_id), curves.status(trial_id)
    if as_json:
        click.echo(json.dumps({
            "id": trial.id, "status": trial.status, "sample": trial.sample, "metrics": trial.metrics,
            "costs": trial.costs, "score": trial.score, "error": trial.error, "duration": trial.duration,
            "curve": [{"step": p.step, "value": p.value, "metrics": p.metrics, "time": p.time} for p in points],
        }, indent=2, default=str))
        return
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)
    console.print(f"trial #{trial.id}: {trial.status}  sample={json.dumps(trial.sample)}")
    vals = ", ".join(f"{k}={fmt_value(v)}" for k, v in trial.values.items())
    console.print(f"metrics: {vals or '-'}" + ("   (partial: its last report before it was pruned)"
                                              if trial.status == "pruned" else ""))
    if trial.error:
        console.print(f"error: {trial.error.splitlines()[0]}")
    if not points:
        console.print("learning curve: none (its trainer made no intermediate report)")
        return
    names = list(dict.fromkeys(k for p in points for k in p.metrics))
    console.print(f"learning curve of trial #{trial.id} ({len(points)} reports, {status or 'running'}):")
    table = Table()
    for col in ["step", *names, "elapsed s"]:
        table.add_column(col, justify="right")
    t0 = min(p.time for p in points)
    for p in points:
        table.add_row(str(p.step), *[fmt_value(p.metrics.get(n, "")) for n in names], f"{p.time - t0:.2f}")
    console.print(table)
