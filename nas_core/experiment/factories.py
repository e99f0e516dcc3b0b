"""Checks on the code a configuration names (``space.class``, ``factory = "module:callable"``).

A config is code: importing the module it names runs that module, and the factory is
called with the table's options. These checks do not make an untrusted config safe (see
"Configs are code" in docs/experiments.md); they refuse the mistakes and the obvious
misuses before anything is called: a factory must be a class or a function written in
Python (a builtin such as ``os:system`` is refused), a trainer factory must be a
:class:`~nas_core.Trainer` subclass or a function, and what it returns must be a Trainer.
"""
from __future__ import annotations

import inspect
from typing import Any

from nas_core.errors import ConfigError

__all__ = ["check_factory", "check_built", "describe_callable"]


def describe_callable(obj: object) -> str:
    """A short description of ``obj`` for an error: ``builtin function os.system``, ``class m.Net``..."""
    if inspect.isclass(obj):
        return f"class {obj.__module__}.{obj.__qualname__}"
    if inspect.isbuiltin(obj):
        return f"builtin function {getattr(obj, '__module__', None) or '?'}.{getattr(obj, '__name__', '?')}"
    if inspect.isfunction(obj):
        return f"function {obj.__module__}.{obj.__qualname__}"
    return f"{type(obj).__name__} object {obj!r:.60}"


def _qual(cls: type) -> str:
    import nas_core

    if getattr(nas_core, cls.__name__, None) is cls:
        return f"nas_core.{cls.__name__}"
    if cls.__module__.startswith("torch.nn.modules"):
        return f"torch.nn.{cls.__qualname__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def check_factory(kind: str, fieldname: str, path: str, obj: object, base: type | None = None) -> None:
    """Refuse, before calling it, a factory that is neither a class nor a Python function.

    With ``base`` (e.g. :class:`~nas_core.Trainer` for trainers, ``nn.Module`` for spaces),
    a class must be a subclass of it.
    """
    want = f"a {base.__name__} subclass or a Python function returning one" if base else "a class or a Python function"
    if inspect.isclass(obj):
        if base is not None and not issubclass(obj, base):
            raise ConfigError(
                f"{fieldname}: {path!r} is {describe_callable(obj)}, which is not a {_qual(base)} subclass;"
                f" name {want} ({kind}s are built from it).")
        return
    if inspect.isfunction(obj) or (inspect.ismethod(obj) and inspect.isfunction(obj.__func__)):
        return
    raise ConfigError(
        f"{fieldname}: {path!r} is {describe_callable(obj)}, not {want}; a config may only name code written to "
        f"build a {kind} (configs are code: see \"Configs are code\" in docs/experiments.md).")


def check_built(kind: str, fieldname: str, path: str, result: object, base: type) -> Any:
    """Refuse what a factory returned when it is not a ``base`` instance; else return it."""
    if not isinstance(result, base):
        raise ConfigError(
            f"{fieldname}: {path!r} returned {_qual(type(result))}, not a {_qual(base)}; a {kind} factory must "
            f"return a {base.__name__} instance.")
    return result
