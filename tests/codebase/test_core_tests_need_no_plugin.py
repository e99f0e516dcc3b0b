"""The core's tests (``tests/``) import no plugin package: they run with no plugin loaded (``NAS_CORE_PLUGINS=``),
so a test that needs a plugin lives in that plugin's ``tests/`` folder (docs/contributing.md).

The plugin packages come from the ``plugin_packages`` fixture (``conftest.py``: read from
``plugins/*/pyproject.toml``). An import is
``import x`` / ``from x import y`` anywhere in a file (inside functions too), ``importlib.import_module("x")``,
``__import__("x")`` or ``pytest.importorskip("x")``, and ``import x`` / ``from x import`` lines of code held in a
string (a script a test writes or runs in a subprocess).
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DYNAMIC_IMPORTS = {"import_module", "__import__", "importorskip"}
FIX = ("the core's tests run with no plugin loaded (NAS_CORE_PLUGINS=): move this test to {where}, or use the "
       "core's stand-ins (nas_core.strategy.testing.UniformRandom, nas_core.oneshot.testing, the nas_plugin "
       "fixture); see docs/contributing.md, 'Where a test goes'")


def _statement_imports(code: str) -> list[str]:
    """The modules an ``import`` / ``from ... import`` statement imports ([] when ``code`` is not one)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    modules = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.append(node.module)
    return modules


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, dotted module)`` of every import statement, dynamic import and import line held in a string."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if called in DYNAMIC_IMPORTS and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "import" in node.value:
            spans_lines = (node.end_lineno or node.lineno) > node.lineno  # a triple-quoted block: lines match
            for offset, line in enumerate(node.value.splitlines()):
                if line.lstrip().startswith(("import ", "from ")):
                    line_no = node.lineno + offset if spans_lines else node.lineno
                    found += [(line_no, module) for module in _statement_imports(line.strip())]
    return found


def plugin_imports(path: Path, packages: dict[str, str]) -> list[str]:
    """``file:line: ...`` for each plugin package the Python file ``path`` imports, with what to do instead."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    hits = []
    for line, module in sorted(set(_imported_modules(tree))):
        top = module.split(".")[0]
        if top in packages:
            where = f"plugins/{packages[top]}/tests/"
            hits.append(f"{shown}:{line}: imports {module} (plugin {packages[top]}): {FIX.format(where=where)}")
    return hits


def test_the_plugin_packages_come_from_the_plugins_pyprojects(plugin_packages):
    packages = plugin_packages
    folders = {p.parent.name for p in (ROOT / "plugins").glob("*/pyproject.toml")}
    assert set(packages.values()) == folders  # every distribution has a package
    assert packages["nas_strategy_darts"] == "nas-strategy-darts" and "nas_core" not in packages


def test_a_planted_plugin_import_is_found_with_its_line_and_the_fix(tmp_path, plugin_packages):
    packages = plugin_packages
    first, second = sorted(packages)[:2]  # real plugin packages, named here without spelling one out
    planted = tmp_path / "test_planted.py"
    planted.write_text(
        "import json\n"
        f"import {first}.sub as alias\n"
        "from nas_core.strategy.testing import UniformRandom\n"
        "\n"
        "def test_x():\n"
        f"    from {second} import Thing\n"
        f"    importlib.import_module({second!r})\n"
        f"    code = 'import torch\\nfrom {first} import y\\n'\n"
    )
    hits = plugin_imports(planted, packages)
    assert [h.split(": imports ")[0] for h in hits] == [f"{planted}:2", f"{planted}:6", f"{planted}:7", f"{planted}:8"]
    assert f"imports {first}.sub (plugin {packages[first]})" in hits[0]
    assert f"move this test to plugins/{packages[second]}/tests/" in hits[1]
    assert "NAS_CORE_PLUGINS=" in hits[0] and "docs/contributing.md" in hits[0]
    planted.write_text("import json\nfrom nas_core.oneshot.testing import MacsProfiler\n")
    assert plugin_imports(planted, packages) == []


def test_no_core_test_imports_a_plugin(plugin_packages):
    packages = plugin_packages
    hits = [hit for path in sorted((ROOT / "tests").rglob("*.py")) for hit in plugin_imports(path, packages)]
    assert not hits, "the core's tests import plugin packages:\n" + "\n".join(hits)
