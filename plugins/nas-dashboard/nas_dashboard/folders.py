"""Find the experiment folders that `nas dashboard DIR ...` serves."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from nas_core.errors import ConfigError
from nas_core.experiment.store import TrialStore

__all__ = ["find_experiments"]


def find_experiments(dirs: Iterable[str | Path]) -> list[Path]:
    """Experiment folders (holding ``trials.db``) in ``dirs``: each is one, or a parent of several.

    Raises :class:`ConfigError` naming a folder that does not exist or holds no experiment.
    """
    found: list[Path] = []
    for d in dirs:
        path = Path(d)
        if not path.is_dir():
            raise ConfigError(f"{str(path)!r} is not a folder; give an experiment folder (the workdir that "
                              "`nas search` wrote, holding trials.db) or a folder of such folders.")
        if (path / TrialStore.FILENAME).is_file():
            found.append(path)
            continue
        children = sorted(p.parent for p in path.glob(f"*/{TrialStore.FILENAME}"))
        if not children:
            raise ConfigError(f"{str(path)!r} holds no experiment: neither {path / TrialStore.FILENAME} nor any "
                              f"*/{TrialStore.FILENAME}. Give the workdir of a `nas search` run or its parent.")
        found.extend(children)
    unique: list[Path] = []
    for p in found:
        if p.resolve() not in {u.resolve() for u in unique}:
            unique.append(p)
    if not unique:
        raise ConfigError("no experiment folder given; pass one or more workdirs: `nas dashboard runs/digits`.")
    return unique
