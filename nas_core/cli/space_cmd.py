"""``nas space``: inspect and export a model space (``nas space export module:Class FILE``, NNI's ``nnictl ss_gen``)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from nas_core.errors import NasError


def _build(target: str):
    from nas_core.experiment.trial import SpaceSpec

    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # spaces next to where the command runs import as in `nas search`
    return SpaceSpec(target).build()


@click.group("space")
def space_command() -> None:
    """Inspect and export model spaces."""


@space_command.command("export")
@click.argument("target")
@click.argument("file", type=click.Path(dir_okay=False))
def export_command(target: str, file: str) -> None:
    """Write the search space of TARGET ('module:Class', built with no arguments) to FILE as JSON."""
    from nas_core.space.space_json import write_space_json

    try:
        data = write_space_json(_build(target), file)
    except (NasError, TypeError) as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"wrote {len(data)} choices of {target} to {file}")


@space_command.command("show")
@click.argument("target")
def show_command(target: str) -> None:
    """Print the choices of TARGET ('module:Class') with their domains."""
    from nas_core.space import search_space

    try:
        click.echo(search_space(_build(target)).describe())
    except (NasError, TypeError) as err:
        raise click.ClickException(str(err)) from None
