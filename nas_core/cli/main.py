"""The ``nas`` command line."""
from __future__ import annotations

import click

from nas_core.cli.new_plugin_cmd import new_plugin_command
from nas_core.cli.plugins_cmd import plugins_command
from nas_core.cli.results_cmd import results_command
from nas_core.cli.search_cmd import search_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nas-core", prog_name="nas")
def cli() -> None:
    """nas-core: hardware-aware neural architecture search for PyTorch."""


cli.add_command(plugins_command)
cli.add_command(search_command)
cli.add_command(results_command)
cli.add_command(new_plugin_command)


def _load_plugin_commands() -> None:
    from nas_core.registry import get_registry

    reg = get_registry()
    reg.pm.hook.register_commands(cli=cli)


def main() -> None:
    _load_plugin_commands()
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
