"""Argument checks shared by strategies, one-shot strategies and the experiment runner.

Each returns the value in its checked form (``int``, ``float``...) or raises a
:class:`~nas_core.errors.ConfigError` whose message names the owner, the argument, what it
must be, and what was given: ``"DARTS: epochs must be an integer >= 1, got 0."``
"""
from __future__ import annotations

import numbers
from typing import Any, Collection, Literal, TypeVar, overload

from nas_core.errors import ConfigError

__all__ = ["check_int", "check_number", "check_prob", "check_choice"]

T = TypeVar("T")


def _prefix(owner: str) -> str:
    return f"{owner}: " if owner else ""


@overload
def check_int(owner: str, name: str, value: object, minimum: int, maximum: int | None = None,
              allow_none: Literal[False] = False) -> int: ...
@overload
def check_int(owner: str, name: str, value: object, minimum: int, maximum: int | None = None,
              allow_none: bool = ...) -> int | None: ...


def check_int(owner: str, name: str, value: object, minimum: int, maximum: int | None = None,
              allow_none: bool = False) -> int | None:
    """``value`` as an int in ``[minimum, maximum]`` (``None`` passes when ``allow_none``)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < minimum or (
        maximum is not None and int(value) > maximum
    ):
        upper = f" and <= {maximum}" if maximum is not None else ""
        none = " (or None for the default)" if allow_none else ""
        raise ConfigError(f"{_prefix(owner)}{name} must be an integer >= {minimum}{upper}{none}, got {value!r}.")
    return int(value)


@overload
def check_number(owner: str, name: str, value: object, minimum: float = 0.0, *, strict: bool = False,
                 allow_none: Literal[False] = False) -> float: ...
@overload
def check_number(owner: str, name: str, value: object, minimum: float = 0.0, *, strict: bool = False,
                 allow_none: bool = ...) -> float | None: ...


def check_number(owner: str, name: str, value: object, minimum: float = 0.0, *, strict: bool = False,
                 allow_none: bool = False) -> float | None:
    """``value`` as a float ``>= minimum`` (``> minimum`` when ``strict``); NaN never passes."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
        float(value) > minimum if strict else float(value) >= minimum
    ):
        none = " (or None)" if allow_none else ""
        raise ConfigError(
            f"{_prefix(owner)}{name} must be a number {'>' if strict else '>='} {minimum:g}{none}, got {value!r}."
        )
    return float(value)


@overload
def check_prob(owner: str, name: str, value: object, allow_none: Literal[False] = False) -> float: ...
@overload
def check_prob(owner: str, name: str, value: object, allow_none: bool = ...) -> float | None: ...


def check_prob(owner: str, name: str, value: object, allow_none: bool = False) -> float | None:
    """``value`` as a float in [0, 1]."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) <= 1.0:
        raise ConfigError(f"{_prefix(owner)}{name} must be a probability in [0, 1], got {value!r}.")
    return float(value)


def check_choice(owner: str, name: str, value: T, choices: Collection[T]) -> T:
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        listed = " or ".join(repr(c) for c in choices)
        raise ConfigError(f"{_prefix(owner)}{name} must be {listed}, got {value!r}.")
    return value
