"""Run the code blocks of a docs page, so that a page's examples are tested as written.

A block is marked by an HTML comment on the line before its fence::

    <!-- example: profiler -->
    ```python
    profiler = FlopsProfiler(net, torch.randn(3))
    ```

:func:`doc_example` returns a block's code; :func:`run_doc_example` executes it in a fresh
namespace holding ``torch``, ``torch.nn`` as ``nn``, ``nas_core`` and the names you pass, and
returns that namespace. The migration guide's examples are run so by the core's tests and by
the tests of the plugins they use.
"""
from __future__ import annotations

import re
from pathlib import Path

from nas_core.errors import ConfigError

__all__ = ["doc_example", "run_doc_example"]


def doc_example(doc: Path, name: str) -> str:
    """The code of the block marked ``<!-- example: name -->`` in the page ``doc``."""
    found = re.search(rf"<!-- example: {re.escape(name)} -->\n```\w+\n(.*?)```", Path(doc).read_text(), re.S)
    if found is None:
        raise ConfigError(f"{doc} has no example {name!r}: mark its code block with `<!-- example: {name} -->`")
    return found.group(1)


def run_doc_example(doc: Path, name: str, **namespace: object) -> dict[str, object]:
    """Execute the example ``name`` of ``doc`` with ``namespace`` (plus torch, nn and nas_core); return its names."""
    import torch
    from torch import nn

    import nas_core

    names: dict[str, object] = {"torch": torch, "nn": nn, "nas_core": nas_core, **namespace}
    exec(compile(doc_example(doc, name), f"<{name}>", "exec"), names)
    return names
