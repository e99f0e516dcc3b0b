"""nas-core: hardware-aware neural architecture search for PyTorch."""
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
