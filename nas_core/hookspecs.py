"""The plugin contract: pluggy hook specifications of nas-core.

A plugin is a module (found through the ``nas_core`` entry-point group) that implements
some of these hooks with :data:`hookimpl`. Each hook receives a ``register`` callable;
the plugin calls it once per component it provides. First-party components register
through exactly the same hooks.

A complete plugin::

    import nas_core

    class Depth(nas_core.Profiler):
        unit = "layers"
        def __init__(self, model_space, dummy_input=None):
            self.space = nas_core.search_space(model_space)
        def profile(self, sample):
            return float(sum(1 for m in self.space.freeze(sample).modules() if not list(m.children())))

    @nas_core.hookimpl
    def register_profilers(register):
        register("depth", Depth)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pluggy

if TYPE_CHECKING:
    import click

PROJECT = "nas_core"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Register = Callable[[str, Callable[..., Any]], None]
RegisterFormula = Callable[..., None]


@hookspec
def register_profilers(register: Register) -> None:
    """Register profilers: ``register(name, factory)``.

    ``factory(model_space, dummy_input, **options)`` returns a
    :class:`nas_core.Profiler` whose ``profile(sample)`` gives a float in its ``unit``.
    """


@hookspec
def register_strategies(register: Register) -> None:
    """Register search strategies: ``register(name, factory)``.

    ``factory(**options)`` returns a :class:`nas_core.Strategy` (multi-trial, ask/tell)
    or a :class:`nas_core.OneShotStrategy`.
    """


@hookspec
def register_trainers(register: Register) -> None:
    """Register trainers: ``register(name, factory)``; ``factory(**options)`` returns a
    :class:`nas_core.Trainer` that trains and evaluates a frozen model."""


@hookspec
def register_executors(register: Register) -> None:
    """Register executors (where trials run): ``register(name, factory)``;
    ``factory(**options)`` returns a :class:`nas_core.Executor`."""


@hookspec
def register_pruners(register: Register) -> None:
    """Register pruners (early stopping): ``register(name, factory)``.

    ``factory(**options)`` returns a :class:`nas_core.pruning.Pruner`. Its
    ``should_prune(curve, history)`` is called in the worker after each intermediate
    report of a trial (``nas_core.pruning.report``) and returns True to stop the trial.
    Pruners are pickled to the workers: keep only plain options on them.
    """


@hookspec
def register_shape_formulas(register: RegisterFormula) -> None:
    """Register shape (and cost) formulas: ``register(target, formula, leaf=False)``.

    ``target`` is an ``nn.Module`` subclass (looked up along the MRO, so subclasses
    inherit it) or a torch function / method name; ``formula`` is a
    :class:`nas_core.ShapeFormula`. ``leaf=True`` declares a module costed as a whole:
    shape inference does not open it, and every profiler uses the formula's costs.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add sub-commands to the ``nas`` command line: ``cli`` is its ``click.Group``."""
