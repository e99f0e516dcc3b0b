"""``nas new-plugin KIND NAME``: write a working plugin package to start from (as llm's plugin template)."""
from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from string import Template

import click

from nas_core.errors import ConfigError

__all__ = ["new_plugin_command", "write_plugin", "TEMPLATE_KINDS"]

#: kind -> (distribution prefix, what the template implements)
TEMPLATE_KINDS = {
    "profiler": ("nas-profiler", "a Profiler counting the layers with weights"),
    "strategy": ("nas-strategy", "a seeded strategy sampling without repeats"),
    "trainer": ("nas-trainer", "a Trainer fitting a small random regression task"),
    "executor": ("nas-executor", "an Executor running trials on a thread pool"),
    "shapes": ("nas-shapes", "a formula pack for a custom layer (shape and costs)"),
    "pruner": ("nas-pruner", "a Pruner stopping trials below a minimum score (early stopping)"),
}

_PYPROJECT = Template('''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "$dist"
version = "0.1.0"
description = "nas-core $kind `$name`: $what."
requires-python = ">=3.10"
dependencies = ["nas-core"]

[project.optional-dependencies]
test = ["pytest>=7.4"$test_deps]

[project.entry-points.nas_core]
$name = "$pkg"

[tool.setuptools.packages.find]
include = ["$pkg*"]
''')

_README = Template('''# $dist

nas-core $kind `$name`: $what.

    pip install -e .        # then `nas plugins` lists `$name`
    python -m pytest tests  # the test uses nas-core's pytest fixtures (nas_plugin, nas_registry)

Edit `$pkg/__init__.py`; see nas-core's docs/writing-plugins.md.
''')


def write_plugin(kind: str, name: str, parent: str | Path = ".") -> Path:
    """Write the plugin package ``<prefix>-<name>/`` under ``parent`` and return its folder."""
    if kind not in TEMPLATE_KINDS:
        raise ConfigError(f"nas new-plugin: unknown kind {kind!r}; choose one of {sorted(TEMPLATE_KINDS)}.")
    if not re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", name):
        raise ConfigError(
            f"nas new-plugin: the name {name!r} must be lower-case letters and digits, words joined by '-' "
            "(e.g. 'my-device'); it is the registry name users type."
        )
    prefix, what = TEMPLATE_KINDS[kind]
    dist = f"{prefix}-{name}"
    pkg = dist.replace("-", "_")
    cls = "".join(part.capitalize() for part in name.split("-")) + kind.capitalize()
    root = Path(parent) / dist
    if root.exists():
        raise ConfigError(f"nas new-plugin: {root} already exists; choose another name or folder, or remove it.")
    test_deps = ', "nas-shapes-torch"' if kind == "shapes" else ""  # its test costs a Conv2d
    values = {"kind": kind, "name": name, "dist": dist, "pkg": pkg, "cls": cls, "what": what, "test_deps": test_deps}
    templates = resources.files("nas_core.cli") / "templates"
    files = {
        root / "pyproject.toml": _PYPROJECT.substitute(values),
        root / "README.md": _README.substitute(values),
        root / pkg / "__init__.py": Template((templates / f"{kind}.py.tmpl").read_text()).substitute(values),
        root / "tests" / f"test_{pkg}.py": Template((templates / f"{kind}_test.py.tmpl").read_text()).substitute(values),
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@click.command("new-plugin")
@click.argument("kind", type=click.Choice(sorted(TEMPLATE_KINDS)))
@click.argument("name")
@click.option("--dir", "parent", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder to create the plugin package in.")
def new_plugin_command(kind: str, name: str, parent: str) -> None:
    """Write a working plugin package: pyproject with the entry point, the hook, and a test."""
    try:
        root = write_plugin(kind, name, parent)
    except ConfigError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"wrote {root}/ ; next: pip install -e {root} && nas plugins")
