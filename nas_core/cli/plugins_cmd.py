"""``nas plugins``: what is installed, by kind, name, distribution and version."""
from __future__ import annotations

import json

import click


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--kind", type=click.Choice(["profiler", "strategy", "trainer", "executor", "pruner"]), help="Only this kind.")
def plugins_command(as_json: bool, kind: str | None) -> None:
    """List every registered component with the distribution that provides it."""
    from nas_core.registry import get_registry  # here: other commands need no plugin loaded

    reg = get_registry()
    comps = reg.components(kind)
    dup_keys = {(g[0].kind, g[0].name) for g in reg.duplicates()}
    rows = [c.as_dict() | {"conflict": (c.kind, c.name) in dup_keys} for c in comps]
    formulas = reg.formulas()
    if as_json:
        click.echo(json.dumps({
            "components": rows,
            "shape_formulas": _formula_counts(formulas),
            "failed_plugins": reg.failed,
        }, indent=2))
        return
    headers = ("kind", "name", "distribution", "version")
    table = [tuple(r[h] for h in headers) + ("CONFLICT" if r["conflict"] else "",) for r in rows]
    widths = [max([len(h)] + [len(str(t[i])) for t in table]) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    for t in table:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(t, widths)) + (f"  {t[-1]}" if t[-1] else ""))
    counts = _formula_counts(formulas)
    if counts:
        click.echo("\nshape formulas: " + ", ".join(f"{d} ({n})" for d, n in counts.items()))
    for name, err in reg.failed.items():
        click.echo(f"\nfailed to import plugin {name!r}: {err}", err=True)
    if dup_keys:
        click.echo("\nconflicting names: uninstall one provider or set NAS_CORE_DISABLE_PLUGINS.", err=True)


def _formula_counts(formulas) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in formulas:
        out[f.distribution] = out.get(f.distribution, 0) + 1
    return out
