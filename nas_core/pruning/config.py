"""The ``pruner`` option of an experiment: a registry name, a table with options, or an object."""
from __future__ import annotations

import inspect
import pickle
from typing import Any, Mapping

from nas_core.errors import ConfigError, RegistryError
from nas_core.pruning.base import Pruner

__all__ = ["resolve_pruner"]


def resolve_pruner(value: object, fieldname: str = "pruner") -> Pruner | None:
    """``None`` (no pruning), a :class:`Pruner`, a registry name (``"asha"``), or a mapping
    ``{"name": "asha", **options}``; every mistake is a :class:`ConfigError` naming ``fieldname``."""
    if value is None or isinstance(value, Pruner):
        pruner = value
    elif isinstance(value, str):
        pruner = _create(fieldname, value, {})
    elif isinstance(value, Mapping):
        if "name" not in value or not isinstance(value["name"], str):
            raise ConfigError(f"{fieldname} needs a name: a registered pruner ({_names()}), e.g. "
                              f"{{\"name\": \"asha\", \"reduction_factor\": 3}}; got {dict(value)!r}.")
        pruner = _create(fieldname, value["name"], {k: v for k, v in value.items() if k != "name"})
    else:
        raise ConfigError(
            f"{fieldname} must be a pruner name ({_names()}), a table with a name and its options, or a "
            f"nas_core.pruning.Pruner; got {type(value).__name__} {value!r}."
        )
    if pruner is not None and not isinstance(pruner, Pruner):
        raise ConfigError(f"{fieldname}: the factory returned {type(pruner).__name__}, not a nas_core.pruning.Pruner.")
    if pruner is not None:
        try:
            pickle.dumps(pruner)
        except Exception as err:  # noqa: BLE001 - say why it cannot travel to the workers
            raise ConfigError(
                f"{fieldname}: {pruner!r} cannot be pickled ({type(err).__name__}: {err}); pruners run in the "
                "workers, so define the class at module level and keep only plain options on it."
            ) from None
    return pruner


def _names() -> str:
    from nas_core.registry import get_registry

    return ", ".join(get_registry().names("pruner")) or "none installed"


def _create(fieldname: str, name: str, options: dict[str, Any]) -> Any:
    from nas_core.registry import get_registry

    try:
        factory = get_registry().get("pruner", name).factory
    except RegistryError as err:
        raise ConfigError(f"{fieldname}: {err}") from None
    try:
        return factory(**options)
    except ConfigError as err:
        raise ConfigError(f"{fieldname}: {err}") from None
    except TypeError as err:
        try:
            sig = str(inspect.signature(factory))
        except (TypeError, ValueError):
            sig = "(see its documentation)"
        raise ConfigError(f"{fieldname}: pruner {name!r} does not accept the options {sorted(options)} ({err}). "
                          f"Its options: {sig}.") from None
