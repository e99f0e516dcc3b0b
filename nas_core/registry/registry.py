"""The component registry: one pluggy PluginManager fed by the ``nas_core`` entry points.

Environment variables (read when the registry loads):

``NAS_CORE_PLUGINS``
    Unset: load every installed plugin. Empty or ``none``: load no third-party or
    first-party plugin (only the core's own components). Otherwise a comma-separated list
    of distribution or entry-point names to load; the others are skipped.
``NAS_CORE_DISABLE_PLUGINS``
    A comma-separated list of distribution or entry-point names never to load.
"""
from __future__ import annotations

import difflib
import logging
import importlib.metadata as md
import os
import threading
import warnings
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

import pluggy

from nas_core import hookspecs
from nas_core.errors import DuplicateComponentError, RegistryError, UnknownComponentError
from nas_core.registry.catalogue import distribution_for, plural

__all__ = ["Registry", "Component", "KINDS", "get_registry", "reset_registry", "create", "available", "get"]

ENTRY_POINT_GROUP = "nas_core"
KINDS: dict[str, str] = {
    "profiler": "register_profilers",
    "strategy": "register_strategies",
    "trainer": "register_trainers",
    "executor": "register_executors",
    "pruner": "register_pruners",
}
CORE_DISTRIBUTION = "nas-core"


@dataclass(frozen=True)
class Component:
    """A registered component: what it is, its factory, and which distribution provides it."""

    kind: str
    name: str
    factory: Callable[..., Any]
    plugin: str
    distribution: str
    version: str

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "plugin": self.plugin,
            "object": f"{getattr(self.factory, '__module__', '?')}.{getattr(self.factory, '__qualname__', repr(self.factory))}",
        }


@dataclass(frozen=True)
class FormulaEntry:
    """A shape formula registered by a plugin."""

    target: Any
    formula: Any
    leaf: bool
    plugin: str
    distribution: str


def _env_list(name: str) -> list[str] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return [p.strip() for p in raw.split(",") if p.strip() and p.strip().lower() != "none"]


def _norm(name: str) -> str:
    return name.lower().replace("_", "-")


class Registry:
    """Components of every kind, by name, with the distribution that provides each."""

    def __init__(self, load_entry_points: bool = True, builtins: bool = True) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._dist_of: dict[str, tuple[str, str]] = {}  # plugin name -> (distribution, version)
        self.failed: dict[str, str] = {}  # plugin name -> error text
        self._components: dict[str, dict[str, list[Component]]] | None = None
        self._formulas: list[FormulaEntry] | None = None
        self._lock = threading.RLock()
        if builtins:
            from nas_core import builtins as core_builtins

            self.add_plugin(core_builtins, name="nas-core", distribution=CORE_DISTRIBUTION)
        if load_entry_points:
            self.load_entry_points()

    # -- loading ------------------------------------------------------------------------
    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> None:
        """Import and register every plugin of the entry-point group (honouring the env vars)."""
        allow = _env_list("NAS_CORE_PLUGINS")
        deny = set(map(_norm, _env_list("NAS_CORE_DISABLE_PLUGINS") or []))
        seen: set[tuple[str, str]] = set()
        for ep in md.entry_points(group=group):
            dist = ep.dist.name if ep.dist is not None else "?"
            version = ep.dist.version if ep.dist is not None else "?"
            if (dist, ep.name) in seen:
                continue
            seen.add((dist, ep.name))
            names = {_norm(dist), _norm(ep.name)}
            if allow is not None and not names & set(map(_norm, allow)):
                continue
            if names & deny:
                continue
            try:
                module = ep.load()
            except Exception as err:  # noqa: BLE001 - a broken plugin must not break the rest
                self.failed[ep.name] = f"{type(err).__name__}: {err}"
                warnings.warn(
                    f"nas-core: plugin {ep.name!r} from distribution {dist!r} failed to import "
                    f"({type(err).__name__}: {err}); it is skipped and everything else still works. "
                    f"Reinstall or uninstall {dist!r}, or set NAS_CORE_DISABLE_PLUGINS={ep.name}.",
                    RuntimeWarning,
                    stacklevel=2,
                )
                continue
            self.add_plugin(module, name=ep.name, distribution=dist, version=version)

    def add_plugin(self, plugin: ModuleType | object, name: str | None = None, distribution: str | None = None,
                   version: str | None = None) -> str:
        """Register a plugin object (a module or any object with hookimpls)."""
        with self._lock:
            name = name or getattr(plugin, "__name__", None) or repr(plugin)
            if self.pm.has_plugin(name):
                raise RegistryError(f"a plugin named {name!r} is already registered.")
            self.pm.register(plugin, name=name)
            if version is None and distribution:
                try:
                    version = md.version(distribution)
                except md.PackageNotFoundError:
                    version = "?"
            self._dist_of[name] = (distribution or name, version or "?")
            self._components = None
            self._formulas = None
            return name

    def remove_plugin(self, name: str) -> None:
        with self._lock:
            self.pm.unregister(name=name)
            self._dist_of.pop(name, None)
            self._components = None
            self._formulas = None

    # -- collection ---------------------------------------------------------------------
    def _collect(self) -> dict[str, dict[str, list[Component]]]:
        with self._lock:
            if self._components is not None:
                return self._components
            comps: dict[str, dict[str, list[Component]]] = {k: {} for k in KINDS}
            for kind, hook_name in KINDS.items():
                hook = getattr(self.pm.hook, hook_name)
                for impl in reversed(hook.get_hookimpls()):
                    plugin = impl.plugin_name
                    dist, version = self._dist_of.get(plugin, (plugin, "?"))

                    def register(name: str, factory: Callable[..., Any], _k=kind, _p=plugin, _d=dist, _v=version) -> None:
                        if not isinstance(name, str) or not name:
                            raise RegistryError(f"plugin {_p!r} registered a {_k} with an invalid name {name!r}.")
                        comps[_k].setdefault(name, []).append(Component(_k, name, factory, _p, _d, _v))

                    impl.function(register=register)
            self._components = comps
            return comps

    def formulas(self) -> list[FormulaEntry]:
        """Every shape formula registered through ``register_shape_formulas``."""
        with self._lock:
            if self._formulas is not None:
                return self._formulas
            out: list[FormulaEntry] = []
            for impl in reversed(self.pm.hook.register_shape_formulas.get_hookimpls()):
                plugin = impl.plugin_name
                dist, _ = self._dist_of.get(plugin, (plugin, "?"))

                def register(target: Any, formula: Any, leaf: bool = False, _p=plugin, _d=dist) -> None:
                    out.append(FormulaEntry(target, formula, leaf, _p, _d))

                impl.function(register=register)
            self._formulas = out
            return out

    def _check_kind(self, kind: str) -> None:
        if kind not in KINDS:
            raise RegistryError(f"unknown component kind {kind!r}; kinds are: {', '.join(KINDS)}.")

    def components(self, kind: str | None = None) -> list[Component]:
        """Every registered component (of one kind, or all), duplicates included."""
        comps = self._collect()
        kinds = [kind] if kind else list(KINDS)
        for k in kinds:
            self._check_kind(k)
        return [c for k in kinds for name in sorted(comps[k]) for c in comps[k][name]]

    def names(self, kind: str) -> list[str]:
        """Registered names of one kind, sorted."""
        self._check_kind(kind)
        return sorted(self._collect()[kind])

    def get(self, kind: str, name: str) -> Component:
        """The component ``name`` of ``kind``; clear errors on unknown or duplicate names."""
        self._check_kind(kind)
        entries = self._collect()[kind].get(name)
        if not entries:
            names = self.names(kind)
            close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            known = ", ".join(names) or "none"
            failed = f" Plugins that failed to import: {', '.join(self.failed)}." if self.failed else ""
            dist = distribution_for(kind, name)
            install = (f"It is provided by {dist}: `pip install {dist}`, then check `nas plugins`." if dist else
                       f"No known distribution provides a {kind} named {name!r}; if a third-party plugin does, "
                       "install it and check `nas plugins`.")
            raise UnknownComponentError(
                f"no {kind} named {name!r}.{hint} Available {plural(kind)}: {known}. {install}{failed}"
            )
        if len(entries) > 1:
            who = " and ".join(f"{e.distribution} {e.version} (plugin {e.plugin!r})" for e in entries)
            raise DuplicateComponentError(
                f"{kind} name {name!r} is claimed by {who}. Uninstall one of them, or disable one with "
                f"NAS_CORE_DISABLE_PLUGINS=<plugin>."
            )
        return entries[0]

    def create(self, kind: str, name: str, *args: Any, **kwargs: Any) -> Any:
        """Build the component ``name`` of ``kind`` with the given arguments."""
        component = self.get(kind, name)
        logging.getLogger("nas_core.registry").debug("building %s %r with %s from %s", kind, name,
                                                     getattr(component.factory, "__qualname__", component.factory),
                                                     component.distribution)
        return component.factory(*args, **kwargs)

    def duplicates(self) -> list[list[Component]]:
        """Groups of components that claim the same kind and name."""
        comps = self._collect()
        return [entries for k in KINDS for entries in comps[k].values() if len(entries) > 1]

    def plugins(self) -> list[tuple[str, str, str]]:
        """(plugin, distribution, version) of every registered plugin."""
        return [(p, *self._dist_of[p]) for p in self._dist_of]


_registry: Registry | None = None
_registry_lock = threading.Lock()


def get_registry() -> Registry:
    """The process-wide registry, loaded on first use."""
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = Registry()
        return _registry


def reset_registry(registry: Registry | None = None) -> Registry | None:
    """Replace (or, with None, drop so it reloads) the process-wide registry; returns the old one."""
    global _registry
    with _registry_lock:
        old, _registry = _registry, registry
        return old


def create(kind: str, name: str, *args: Any, **kwargs: Any) -> Any:
    """Build a registered component: ``create("profiler", "flops", space, dummy_input)``."""
    return get_registry().create(kind, name, *args, **kwargs)


def get(kind: str, name: str) -> Component:
    return get_registry().get(kind, name)


def available(kind: str | None = None) -> dict[str, list[str]] | list[str]:
    """Registered names: a list for one kind, or a dict of kind to names."""
    reg = get_registry()
    if kind is not None:
        return reg.names(kind)
    return {k: reg.names(k) for k in KINDS}

