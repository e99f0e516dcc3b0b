"""nas-core: hardware-aware neural architecture search for PyTorch.

The names below are imported on first use (PEP 562), so ``import nas_core`` and the
commands that only read results (``nas results``) do not pay for importing torch.
"""
from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from nas_core.errors import (
    ArchitectureError,
    ArchitectureFormatError,
    ConfigError,
    DuplicateComponentError,
    InvalidSampleError,
    NasError,
    SpaceDefinitionError,
    UnknownComponentError,
)

if TYPE_CHECKING:
    from nas_core.hookspecs import hookimpl
    from nas_core.interfaces import (
        Executor,
        InProcessExecutor,
        OneShotStrategy,
        Profiler,
        ShapeFormula,
        Strategy,
        Trainer,
        TrialResult,
    )
    from nas_core.registry import available, create, get_registry
    from nas_core.space import (
        InputChoice,
        LayerChoice,
        ModelSpace,
        Repeat,
        SearchSpace,
        ValueChoice,
        apply_fixed_architecture,
        export_architecture,
        search_space,
    )

#: public name -> the module that defines it (imported by ``__getattr__`` on first use)
_LAZY = {
    "hookimpl": "nas_core.hookspecs",
    **dict.fromkeys(["Executor", "InProcessExecutor", "OneShotStrategy", "Profiler", "ShapeFormula", "Strategy",
                     "Trainer", "TrialResult"], "nas_core.interfaces"),
    **dict.fromkeys(["available", "create", "get_registry"], "nas_core.registry"),
    **dict.fromkeys(["InputChoice", "LayerChoice", "ModelSpace", "Repeat", "SearchSpace", "ValueChoice",
                     "apply_fixed_architecture", "export_architecture", "search_space"], "nas_core.space"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        if name.startswith("_") or importlib.util.find_spec(f"nas_core.{name}") is None:
            raise AttributeError(f"module 'nas_core' has no attribute {name!r}")
        return importlib.import_module(f"nas_core.{name}")  # a subpackage, e.g. nas_core.space
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"

__all__ = [
    "ArchitectureError",
    "ArchitectureFormatError",
    "ConfigError",
    "DuplicateComponentError",
    "Executor",
    "InProcessExecutor",
    "InputChoice",
    "InvalidSampleError",
    "LayerChoice",
    "ModelSpace",
    "NasError",
    "OneShotStrategy",
    "Profiler",
    "Repeat",
    "SearchSpace",
    "ShapeFormula",
    "SpaceDefinitionError",
    "Strategy",
    "Trainer",
    "TrialResult",
    "UnknownComponentError",
    "ValueChoice",
    "apply_fixed_architecture",
    "available",
    "create",
    "export_architecture",
    "get_registry",
    "hookimpl",
    "search_space",
]
