"""Count ``Any`` in the annotations of nas_core's public functions and methods.

Public: a function at module level or a method of a class at module level, whose own name and class name do not
start with ``_`` (dunder methods such as ``__init__`` and ``__call__`` count), in a module whose dotted path has no
``_private`` part. Each ``Any`` in a parameter's or the return's annotation counts once (``dict[str, Any]`` is one,
``Callable[[Any], Any]`` two); string annotations are parsed. ``--list`` prints each one as ``file:line: function``.

    python scripts/count_any.py [--list] [package folder, default nas_core]
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Iterator


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _any_count(annotation: ast.expr | None) -> int:
    if annotation is None:
        return 0
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return 0
    return sum(1 for node in ast.walk(annotation)
               if (isinstance(node, ast.Name) and node.id == "Any")
               or (isinstance(node, ast.Attribute) and node.attr == "Any"))


def _public_functions(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not _is_private(node.name):
            yield node.name, node
        elif isinstance(node, ast.ClassDef) and not _is_private(node.name):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and not _is_private(item.name):
                    yield f"{node.name}.{item.name}", item


def any_annotations(package: Path) -> list[tuple[Path, int, str, int]]:
    """``(file, line, function, count)`` for each public function of ``package`` with ``Any`` in its signature."""
    found = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if any(_is_private(part) for part in parts if part != "__init__"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name, func in _public_functions(tree):
            args = func.args
            params = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
            count = sum(_any_count(p.annotation) for p in params if p is not None) + _any_count(func.returns)
            if count:
                found.append((path, func.lineno, name, count))
    return found


def main(argv: list[str]) -> None:
    listing = "--list" in argv
    folders = [a for a in argv if a != "--list"] or ["nas_core"]
    package = Path(folders[0]).resolve()
    found = any_annotations(package)
    if listing:
        for path, line, name, count in found:
            print(f"{path.relative_to(package.parent)}:{line}: {name} ({count})")
    print(f"{sum(c for *_, c in found)} Any in the signatures of {len(found)} public functions and methods of "
          f"{package.name}")


if __name__ == "__main__":
    main(sys.argv[1:])
