"""The ``nas`` command line."""
from __future__ import annotations

from typing import Any

import click

from nas_core.cli.new_plugin_cmd import new_plugin_command
from nas_core.cli.plugins_cmd import plugins_command
from nas_core.cli.results_cmd import results_command
from nas_core.cli.search_cmd import search_command
from nas_core.cli.space_cmd import space_command


class _NasGroup(click.Group):
    """Loads the plugins' commands only when a name is not a core command (or the list is shown),
    so ``nas results`` does not import every plugin (and torch)."""

    _plugins_loaded = False

    def _load_plugins(self) -> None:
        if not self._plugins_loaded:
            self._plugins_loaded = True
            _load_plugin_commands()

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            self._load_plugins()
            command = super().get_command(ctx, cmd_name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugins()
        return super().list_commands(ctx)


@click.group(cls=_NasGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nas-core", prog_name="nas")
def cli() -> None:
    """nas-core: hardware-aware neural architecture search for PyTorch."""


cli.add_command(plugins_command)
cli.add_command(search_command)
cli.add_command(results_command)
cli.add_command(new_plugin_command)
cli.add_command(space_command)


def _load_plugin_commands() -> None:
    from nas_core.registry import get_registry

    reg = get_registry()
    reg.pm.hook.register_commands(cli=cli)


def main(*args: Any, **kwargs: Any) -> None:
    cli(*args, **kwargs)


if __name__ == "__main__":  # pragma: no cover
    main()
