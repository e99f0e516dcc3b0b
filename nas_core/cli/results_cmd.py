"""``nas results DIR``: the trial table, the best trial and the Pareto set of an experiment folder."""
from __future__ import annotations

import json

import click

from nas_core.errors import NasError


@click.command("results")
@click.argument("workdir", type=click.Path(file_okay=False))
@click.option("--plot", is_flag=True, help="Write the Pareto plot (pareto.png in DIR, or --output).")
@click.option("--output", type=click.Path(dir_okay=False), help="Where --plot writes the PNG.")
@click.option("--json", "as_json", is_flag=True, help="Print everything as JSON.")
@click.option("--limit", type=int, default=None, help="Show only the last N trials in the table.")
@click.option("--trial", "trial_id", type=int, default=None, help="Show one trial and its learning curve.")
def results_command(workdir: str, plot: bool, output: str | None, as_json: bool, limit: int | None,
                    trial_id: int | None) -> None:
    """Show the trials, the best trial and the Pareto set stored in DIR (objectives from the config)."""
    from rich.console import Console
    from rich.table import Table

    from nas_core.experiment.report import Report, axis_label, fmt_value

    try:
        report = Report(workdir)
        png = report.plot(output) if plot else None
    except NasError as err:
        raise click.ClickException(str(err)) from None
    from nas_core.cli.curve_view import show_trial, steps_done

    if trial_id is not None:
        show_trial(report, trial_id, as_json)
        return
    epochs = steps_done(report)
    if as_json:
        data = report.as_dict()
        for row in data["trials"]:
            row["epochs"] = epochs.get(row["id"])
        if png:
            data["plot"] = str(png)
        click.echo(json.dumps(data, indent=2, default=str))
        return
    console = Console()
    if not console.is_terminal:  # a log or a pipe: do not wrap the table at 80 columns
        console = Console(width=200)
    objectives = report.objectives
    metrics = [o.metric for o in objectives]
    extra = sorted({k for t in report.trials for k in t.values} - set(metrics))
    pareto = {t.id for t in report.pareto}
    best = report.best
    table = Table(title=f"trials in {workdir}")
    for col in ["#", "status", *[f"{axis_label(m, report.units.get(m))} {d.direction}" for m, d in zip(metrics, objectives)],
                *extra, *(["epochs"] if epochs else []), "sample", "s", "worker", "error"]:
        table.add_column(col, overflow="fold")
    rows = report.trials[-limit:] if limit else report.trials
    labels = report.store.get_meta("labels", None) or (list(report.trials[0].sample) if report.trials else [])
    for t in rows:
        mark = ("*" if best is not None and t.id == best.id else "") + ("P" if t.id in pareto else "")
        err = (t.error or "").splitlines()[0][:60] if t.error else ""
        table.add_row(f"{t.id}{mark}", t.status if t.feasible or t.status != "succeeded" else "infeasible",
                      *[fmt_value(t.values.get(m, "")) for m in metrics], *[fmt_value(t.values.get(m, "")) for m in extra],
                      *([str(epochs.get(t.id, ""))] if epochs else []),
                      " ".join(json.dumps(t.sample.get(k), separators=(",", ":")).strip('"') for k in labels),
                      fmt_value(t.duration or 0.0), t.worker or "", err)
    console.print(table)
    console.print("sample = values of " + ", ".join(labels))
    counts = {s: sum(t.status == s for t in report.trials) for s in ("succeeded", "failed", "rejected", "pruned")}
    if not counts["pruned"]:
        del counts["pruned"]
    console.print(f"{len(report.trials)} trials: " + ", ".join(f"{n} {s}" for s, n in counts.items())
                  + "   (* best, P Pareto set)")
    if epochs:
        console.print(f"epochs: {sum(epochs.values())} trained in all (the last step each trial reported); "
                      f"`nas results {workdir} --trial N` shows a trial's learning curve")
    if best is None:
        console.print("no succeeded, feasible trial yet")
    else:
        vals = ", ".join(f"{m}={fmt_value(best.values.get(m))}" + (f" {report.units[m]}" if report.units.get(m) else "")
                         for m in metrics)
        console.print(f"best: trial #{best.id}  {vals}  sample={json.dumps(best.sample)}")
    if objectives:
        dirs = ", ".join(f"{o.metric} {o.direction}" for o in objectives)
        console.print(f"Pareto set ({dirs}): " + (", ".join(
            f"#{t.id} (" + ", ".join(fmt_value(t.values.get(m)) for m in metrics) + ")" for t in report.pareto) or "-"))
    if png:
        console.print(f"plot: {png}")
