"""Registers ``nas dashboard`` through the core's ``register_commands`` hook."""
from __future__ import annotations

from typing import Any

import nas_core


@nas_core.hookimpl
def register_commands(cli: Any) -> None:
    from nas_dashboard.cli import dashboard_command

    cli.add_command(dashboard_command)
