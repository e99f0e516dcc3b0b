"""``nas search CONFIG``: run (or resume) a multi-trial search described by a TOML/YAML file."""
from __future__ import annotations

import json
import logging

import click

from nas_core.errors import NasError


@click.command("search")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--workdir", type=click.Path(file_okay=False), help="Experiment folder (default: from the config).")
@click.option("--max-trials", type=int, help="Override experiment.max_trials.")
@click.option("--max-duration", help="Override experiment.max_duration (seconds, or e.g. 3m).")
@click.option("--seed", type=int, help="Override experiment.seed.")
@click.option("--executor", help="Override the executor by registry name (e.g. in-process, process-pool, ray).")
@click.option("--workers", type=int, help="Override the executor's max_workers.")
@click.option("--overwrite", is_flag=True, help="Delete the folder's previous trials and start over.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.option("-v", "--verbose", is_flag=True, help="Log every trial.")
def search_command(config: str, workdir: str | None, max_trials: int | None, max_duration: str | None,
                   seed: int | None, executor: str | None, workers: int | None, overwrite: bool,
                   no_progress: bool, verbose: bool) -> None:
    """Run the search in CONFIG; rerun the same command to resume after an interruption."""
    from nas_core.experiment.config import load_config, parse_duration
    from nas_core.experiment.lock import ExperimentLock
    from nas_core.experiment.runner import BEST_ARCH, BEST_WEIGHTS, PARETO_PNG

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        cfg = load_config(config)
        exp = cfg.build(workdir=workdir, max_trials=max_trials, seed=seed, executor=executor, workers=workers,
                        max_duration=parse_duration(max_duration, "--max-duration") if max_duration else None,
                        overwrite=overwrite, progress=not no_progress)
        ExperimentLock(exp.workdir).acquire().release()  # a folder in use is refused before anything is said
        resumed = exp.workdir.joinpath("trials.db").exists()
        click.echo(f"experiment folder: {exp.workdir}" + (" (resuming)" if resumed and not overwrite else ""))
        best = exp.run()
    except NasError as err:
        raise click.ClickException(str(err)) from None
    counts = {s: exp.store.count(s) for s in ("succeeded", "failed", "rejected", "timeout", "pruned", "running")}
    click.echo(f"trials: {counts['succeeded']} succeeded, {counts['failed']} failed, {counts['rejected']} rejected"
               + "".join(f", {counts[s]} {s}" for s in ("timeout", "pruned") if counts[s]))
    if counts["running"]:
        click.echo(f"{counts['running']} trial(s) stopped at the time budget; rerun with a larger --max-duration "
                   "to run them again.")
    if best is None:
        click.echo("no trial succeeded; see `nas results " + str(exp.workdir) + "` for the errors.")
        raise SystemExit(1)
    arch = json.loads((exp.workdir / BEST_ARCH).read_text())
    click.echo(f"best architecture (trial #{best.id}):")
    click.echo(json.dumps(arch, indent=2))
    for name in [o.metric for o in exp.objectives] + [m for m in best.values if m not in {o.metric for o in exp.objectives}]:
        if name in best.values:
            unit = exp.units.get(name, "")
            click.echo(f"  {name}: {best.values[name]:.6g}" + (f" {unit}" if unit else ""))
    click.echo(f"files: {exp.workdir / BEST_ARCH}, {exp.workdir / BEST_WEIGHTS}"
               + (f", {exp.workdir / PARETO_PNG}" if (exp.workdir / PARETO_PNG).exists() else ""))
