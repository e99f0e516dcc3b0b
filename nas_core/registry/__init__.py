"""Registry of components by kind and name (see :mod:`nas_core.hookspecs`)."""
from nas_core.registry.registry import (
    KINDS,
    Component,
    Registry,
    available,
    create,
    get,
    get_registry,
    reset_registry,
)

__all__ = ["KINDS", "Component", "Registry", "available", "create", "get", "get_registry", "reset_registry"]
