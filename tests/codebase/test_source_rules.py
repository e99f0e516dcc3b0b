"""Static rules on the sources of the core and of every plugin package.

* no module imports a ``_private`` name from another package (a plugin from the core or
  from a sibling plugin; one core subpackage from another);
* no source module is over 450 lines.

Tests are not scanned: they may look at internals on purpose.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 450


@dataclass(frozen=True)
class SourceModule:
    path: Path
    dotted: str  # e.g. "nas_core.shapes.trace" or "nas_profiler_device.measure"

    @property
    def owner(self) -> str:
        return package_owner(self.dotted)


def package_owner(dotted: str) -> str:
    """The unit privacy is measured against: a core subpackage (or top-level core module),
    or a plugin's whole top-level package."""
    parts = dotted.split(".")
    if parts[0] == "nas_core" and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


def _package_roots() -> list[Path]:
    roots = [ROOT / "nas_core"]
    for pyproject in sorted((ROOT / "plugins").glob("*/pyproject.toml")):
        for child in sorted(pyproject.parent.iterdir()):
            if child.is_dir() and (child / "__init__.py").is_file() and child.name != "tests":
                roots.append(child)
    return roots


def source_modules() -> list[SourceModule]:
    modules = []
    for root in _package_roots():
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root.parent).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules.append(SourceModule(path, ".".join(parts)))
    return modules


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _resolve(module: SourceModule, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = module.dotted.split(".")
    if module.path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def private_reach_ins(module: SourceModule, first_party: set[str]) -> list[str]:
    """``file:line: what`` for each private name of another first-party package that this
    module imports, or reads as an attribute of a name it imported from there
    (``Parametrized._leaves``)."""
    tree = ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))
    found = []
    foreign_names: set[str] = set()
    for node in ast.walk(tree):
        targets: list[tuple[str, str]] = []  # (imported module, name or "")
        if isinstance(node, ast.ImportFrom):
            source = _resolve(module, node)
            targets = [(source, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            targets = [(alias.name, "") for alias in node.names]
        for source, name in targets:
            if not source or package_owner(source) == module.owner:
                continue
            if source.split(".")[0] not in first_party:
                continue  # third-party libraries are out of scope
            foreign_names.add(name or source.split(".")[0])
            private_parts = [p for p in source.split(".") if _is_private(p)]
            if _is_private(name):
                private_parts.append(name)
            if private_parts:
                where = f"{_shown(module.path)}:{node.lineno}"
                found.append(f"{where}: {', '.join(private_parts)} from {source}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and _is_private(node.attr)
            and isinstance(node.value, ast.Name)
            and node.value.id in foreign_names
        ):
            where = f"{_shown(module.path)}:{node.lineno}"
            found.append(f"{where}: {node.value.id}.{node.attr}")
    return found


def first_party_packages() -> set[str]:
    return {m.dotted.split(".")[0] for m in source_modules()}


def test_the_scan_sees_the_core_and_every_plugin_package():
    owners = {m.owner for m in source_modules()}
    assert "nas_core.shapes" in owners and "nas_core.oneshot" in owners
    assert "nas_profiler_device" in owners and "nas_profiler_nnmeter" in owners


def test_the_private_import_check_catches_a_reach_in(tmp_path):
    plugin = tmp_path / "demo_plugin"
    plugin.mkdir()
    (plugin / "mod.py").write_text(
        "from nas_core.nn.layers import _ConvNd\n"
        "from . import _own_helper\n"
        "import nas_core.shapes._hidden\n"
        "from torch.utils._pytree import tree_map\n"
        "from nas_core.nn import Parametrized\n"
        "Parametrized._leaves\n"
    )
    module = SourceModule(plugin / "mod.py", "demo_plugin.mod")
    found = private_reach_ins(module, {"nas_core", "demo_plugin"})
    assert len(found) == 3, found
    assert "_ConvNd from nas_core.nn.layers" in found[0]
    assert "_hidden from nas_core.shapes._hidden" in found[1]
    assert found[2].endswith("mod.py:6: Parametrized._leaves")


def test_a_core_subpackage_does_not_count_as_its_sibling():
    assert package_owner("nas_core.oneshot.mixed") != package_owner("nas_core.nn.layers")
    assert package_owner("nas_core.shapes.trace") == package_owner("nas_core.shapes")


def test_no_private_import_across_packages():
    first_party = first_party_packages()
    found = [hit for m in source_modules() for hit in private_reach_ins(m, first_party)]
    assert not found, (
        "private names imported across packages (make them public and documented):\n"
        + "\n".join(found)
    )


def test_no_source_module_over_the_line_limit():
    too_long = []
    for module in source_modules():
        count = len(module.path.read_text(encoding="utf-8").splitlines())
        if count > MAX_LINES:
            too_long.append(f"{module.path.relative_to(ROOT)}: {count} lines")
    assert not too_long, f"modules over {MAX_LINES} lines (split them):\n" + "\n".join(too_long)


def _declared_requirements(pyproject: Path) -> set[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    names = set()
    for requirement in requirements:
        name = re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]
        names.add(name.lower().replace("_", "-"))
    return names


def test_a_plugin_importing_another_plugin_declares_it(plugin_packages):
    distributions = {name: (dist, ROOT / "plugins" / dist / "pyproject.toml")  # import name -> (distribution, pyproject)
                     for name, dist in plugin_packages.items()}
    undeclared = []
    for module in source_modules():
        own = module.dotted.split(".")[0]
        if own not in distributions:
            continue
        tree = ast.parse(module.path.read_text(encoding="utf-8"))
        imported = {
            alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            (node.module or "").split(".")[0] for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 0
        }
        own_dist, pyproject = distributions[own]
        declared = _declared_requirements(pyproject)
        for name in sorted(imported & distributions.keys() - {own}):
            other_dist = distributions[name][0]
            if other_dist not in declared:
                undeclared.append(f"{_shown(module.path)} imports {name} but {own_dist} does not declare {other_dist}")
    assert not undeclared, "\n".join(undeclared)


def _runtime_imports(module: SourceModule, names: set[str]) -> set[str]:
    """First-party modules ``module`` imports at run time (at the top or inside functions; not
    under ``if TYPE_CHECKING:``)."""
    tree = ast.parse(module.path.read_text(encoding="utf-8"))
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(n) for child in node.body for n in ast.walk(child))
    deps = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom):
            source = _resolve(module, node)
            for alias in node.names:
                full = f"{source}.{alias.name}"
                deps.add(full if full in names else source)
        elif isinstance(node, ast.Import):
            deps.update(alias.name for alias in node.names)
    return (deps & names) - {module.dotted}


def import_cycles(modules: list[SourceModule]) -> list[list[str]]:
    """The groups of modules that import one another, directly or through others (Tarjan)."""
    names = {m.dotted for m in modules}
    graph = {m.dotted: _runtime_imports(m, names) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def test_the_cycle_check_finds_a_cycle_and_skips_type_only_imports(tmp_path):
    pkg = tmp_path / "demo_pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("def f():\n    from demo_pkg.b import g\n")
    (pkg / "b.py").write_text("from demo_pkg import a\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from demo_pkg.a import f\n")
    modules = [SourceModule(pkg / f"{n}.py", f"demo_pkg.{n}") for n in "abc"]
    assert import_cycles(modules) == [["demo_pkg.a", "demo_pkg.b"]]


def test_no_import_cycles():
    cycles = import_cycles(source_modules())
    assert not cycles, "modules that import one another (split out what both need):\n" + "\n".join(
        " <-> ".join(group) for group in cycles)
