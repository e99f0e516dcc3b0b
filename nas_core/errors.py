"""Errors raised by nas-core. Each message says what was wrong and how to fix it."""
from __future__ import annotations

__all__ = [
    "NasError",
    "SpaceDefinitionError",
    "InvalidSampleError",
    "ArchitectureError",
    "ArchitectureFormatError",
    "RegistryError",
    "UnknownComponentError",
    "DuplicateComponentError",
    "ConfigError",
    "ShapeInferenceError",
    "ProfilerError",
    "ExperimentInUseError",
    "StoreError",
]


class NasError(Exception):
    """Base class of every nas-core error."""


class SpaceDefinitionError(NasError, ValueError):
    """The model space itself is malformed (bad candidates, conflicting labels...)."""


class InvalidSampleError(NasError, ValueError):
    """A sample does not fit the space: unknown label, missing label or value outside the domain."""


class ArchitectureError(NasError, RuntimeError):
    """A sample is in the domain but does not make a working network (e.g. shapes do not fit)."""


class ArchitectureFormatError(NasError, ValueError):
    """An architecture JSON file or dict is malformed."""


class RegistryError(NasError, LookupError):
    """Base class of registry errors."""


class UnknownComponentError(RegistryError, KeyError):
    """No component of that kind is registered under that name."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class DuplicateComponentError(RegistryError):
    """Two plugins claim the same name for the same kind."""


class ConfigError(NasError, ValueError):
    """An experiment configuration is malformed."""


class ShapeInferenceError(NasError, RuntimeError):
    """Shape inference could not follow a module or op."""


class ProfilerError(NasError, RuntimeError):
    """A profiler cannot cost a sample."""


class ExperimentInUseError(NasError, RuntimeError):
    """Another search holds the experiment folder's lock."""


class StoreError(NasError, RuntimeError):
    """An experiment's trial store cannot be opened, read or written (damaged, foreign, full, read-only)."""
