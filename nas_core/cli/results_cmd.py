"""``nas results DIR``: the trial table, the best trial and the Pareto set of an experiment folder.

The store is opened read-only and every figure comes from an SQL query
(:class:`~nas_core.experiment.query.TrialQuery`), so this is fast on 100,000 trials,
works while a search is writing and on a read-only folder, and imports no torch.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from nas_core.errors import NasError

if TYPE_CHECKING:
    from nas_core.experiment.report import Report
    from nas_core.experiment.store import TrialRecord

DEFAULT_ROWS = 50
PARETO_SHOWN = 30  # trials of the Pareto set printed (they are all marked P in the table)


def _label_value(text: str) -> tuple[str, object]:
    label, sep, value = text.partition("=")
    if not sep or not label:
        raise click.BadParameter(f"{text!r}: write LABEL=VALUE, e.g. --label width=16 or --label op=conv3x3.")
    try:
        return label, json.loads(value)
    except ValueError:
        return label, value


@click.command("results")
@click.argument("workdir", type=click.Path(file_okay=False))
@click.option("--plot", is_flag=True, help="Write the Pareto plot (pareto.png in DIR, or --output).")
@click.option("--output", type=click.Path(dir_okay=False), help="Where --plot writes the PNG.")
@click.option("--json", "as_json", is_flag=True, help="Print everything as JSON (every trial unless --limit).")
@click.option("--limit", type=click.IntRange(min=0), default=None,
              help=f"Rows of the table: the last N trials, or the first N in --sort order (default {DEFAULT_ROWS}).")
@click.option("--all", "show_all", is_flag=True, help="Show every trial in the table.")
@click.option("--sort", "sort", default=None, metavar="COLUMN",
              help="Sort by a column, metric, cost or label:LABEL; a leading '-' sorts descending (e.g. -accuracy).")
@click.option("--status", "statuses", multiple=True, help="Only trials of this status (repeatable).")
@click.option("--label", "labels", multiple=True, metavar="LABEL=VALUE", help="Only trials with this label value.")
@click.option("--search", default=None, help="Only trials with a label value containing this text.")
@click.option("--trial", "trial_id", type=int, default=None, help="Show one trial and its learning curve.")
def results_command(workdir: str, plot: bool, output: str | None, as_json: bool, limit: int | None,
                    show_all: bool, sort: str | None, statuses: tuple[str, ...], labels: tuple[str, ...],
                    search: str | None, trial_id: int | None) -> None:
    """Show the trials, the best trial and the Pareto set stored in DIR (objectives from the config)."""
    from nas_core.experiment.report import Report

    from nas_core.cli.curve_view import show_trial, steps_done

    label_values = dict(_label_value(text) for text in labels)
    try:
        report = Report(workdir)
        if trial_id is not None:
            show_trial(report, trial_id, as_json)
            return
        epochs = steps_done(report)  # learning curves: the last step each trial reported
        query = report.query
        rows = None if show_all else limit if limit is not None else None if as_json else DEFAULT_ROWS
        key, descending = (sort[1:], True) if sort and sort.startswith("-") else (sort or "id", False)
        latest_first = sort is None  # default: the last trials (shown oldest first)
        page = query.page(key, descending=descending or latest_first, status=statuses or None,
                          label_values=label_values or None, search=search, limit=rows)
        trials = list(reversed(page.trials)) if latest_first else page.trials
        best, pareto, counts = report.best, report.pareto_ids, query.counts()
        png = report.plot(output) if plot else None
        if as_json:
            data = report.as_dict(trials)
            data["total"] = page.total
            for row in data["trials"]:
                row["epochs"] = epochs.get(row["id"])
            if png:
                data["plot"] = str(png)
            click.echo(json.dumps(data, indent=2, default=str))
            return
        _print(report, workdir, page.total, trials, best, pareto, counts, png, rows is not None and latest_first,
               epochs)
    except NasError as err:
        raise click.ClickException(str(err)) from None


def _print(report: Report, workdir: str, total: int, trials: list[TrialRecord], best: TrialRecord | None,
           pareto: list[int], counts: dict[str, int], png: object, last: bool, epochs: dict[int, int]) -> None:
    from rich.console import Console
    from rich.table import Table

    from nas_core.experiment.report import axis_label, fmt_value

    console = Console()
    if not console.is_terminal:  # a log or a pipe: do not wrap the table at 80 columns
        console = Console(width=200)
    objectives = report.objectives
    metrics = [o.metric for o in objectives]
    extra = [m for m in report.query.metric_names() if m not in metrics]
    pareto_ids = set(pareto)
    shown = f"the last {len(trials)} of {total}" if last and len(trials) < total else (
        f"{len(trials)} of {total}" if len(trials) < total else f"{total}")
    table = Table(title=f"trials in {workdir} ({shown}" + ("; --all shows every one)" if len(trials) < total else ")"))
    for col in ["#", "status", *[f"{axis_label(o.metric, report.units.get(o.metric))} {o.direction}"
                                 for o in objectives], *extra, *(["epochs"] if epochs else []), "sample", "s",
                "worker", "error"]:
        table.add_column(col, overflow="fold")
    labels = report.query.labels
    for t in trials:
        mark = ("*" if best is not None and t.id == best.id else "") + ("P" if t.id in pareto_ids else "")
        err = (t.error or "").splitlines()[0][:60] if t.error else ""
        table.add_row(f"{t.id}{mark}", t.status if t.feasible or t.status != "succeeded" else "infeasible",
                      *[fmt_value(t.values.get(m, "")) for m in metrics], *[fmt_value(t.values.get(m, "")) for m in extra],
                      *([str(epochs.get(t.id, ""))] if epochs else []),
                      " ".join(json.dumps(t.sample.get(k), separators=(",", ":")).strip('"') for k in labels),
                      fmt_value(t.duration or 0.0), t.worker or "", err)
    console.print(table)
    console.print("sample = values of " + ", ".join(labels))
    listed = ["succeeded", "failed", "rejected"] + [s for s, n in counts.items()
                                                    if n and s not in ("succeeded", "failed", "rejected")]
    console.print(f"{sum(counts.values())} trials: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in listed)
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
        shown = report.query.trials(pareto[:PARETO_SHOWN])
        more = f", ... ({len(pareto)} trials; --json lists every one)" if len(pareto) > PARETO_SHOWN else ""
        console.print(f"Pareto set ({dirs}): " + (", ".join(
            f"#{t.id} (" + ", ".join(fmt_value(t.values.get(m)) for m in metrics) + ")" for t in shown) or "-") + more)
    if png:
        console.print(f"plot: {png}")
