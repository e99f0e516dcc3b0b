"""Checking an experiment's settings before anything trains: numbers, components, profilers, schedule.

Each function raises a :class:`~nas_core.errors.ConfigError` naming the setting and the fix;
:class:`~nas_core.experiment.Experiment` calls them from its constructor.
"""
from __future__ import annotations

import logging
import numbers
from typing import TYPE_CHECKING, Any, Mapping, cast

from torch import nn

from nas_core.checks import check_int, check_number
from nas_core.errors import ConfigError
from nas_core.interfaces import Executor, InProcessExecutor, OneShotStrategy, Profiler, ProfilesSamples
from nas_core.registry import create

if TYPE_CHECKING:
    from nas_core.space.search_space import SearchSpace

__all__ = ["positive", "check_space", "resolve_trainer", "resolve_strategy", "resolve_executor", "build_profilers",
           "check_metric_if_rejected", "SCHEDULES", "check_schedule", "warn_if_trainer_ignores_gpus"]

#: ``async``: a finished trial is told at once and the next sample started; ``sync``: batches
SCHEDULES = ("async", "sync")


def positive(name: str, value: object, kind: type = int, allow_none: bool = True, minimum: float = 1) -> Any:
    """``value`` as ``kind`` when it is a number >= ``minimum`` (None passes when ``allow_none``)."""
    if kind is int:
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and float(value).is_integer():
            value = int(float(value))  # 3.0 from a TOML or JSON config is the integer 3
        return check_int("", name, value, int(minimum), allow_none=allow_none)
    return check_number("", name, value, minimum, allow_none=allow_none)


def check_space(model: nn.Module, space: SearchSpace) -> None:
    """A space with no choice has nothing to search."""
    if len(space) == 0:
        raise ConfigError(
            f"space: {type(model).__name__} has no choices (no LayerChoice, InputChoice, ValueChoice or "
            "Repeat); there is nothing to search."
        )


def resolve_trainer(trainer: object) -> Any:
    trainer = create("trainer", trainer) if isinstance(trainer, str) else trainer
    if not callable(getattr(trainer, "fit", None)):
        raise ConfigError(f"trainer must have fit(model) -> dict of metrics (a nas_core.Trainer), got {trainer!r}.")
    return trainer


def resolve_strategy(strategy: object) -> Any:
    strategy = create("strategy", strategy) if isinstance(strategy, str) else strategy
    if not isinstance(strategy, OneShotStrategy) and not (
            callable(getattr(strategy, "ask", None)) and callable(getattr(strategy, "tell", None))):
        raise ConfigError(
            f"strategy must be a multi-trial (ask/tell) strategy, got {type(strategy).__name__}; one-shot "
            "strategies train a supernet with strategy.fit(model_space, trainer) instead."
        )
    return strategy


def resolve_executor(executor: Executor | str | None) -> Executor:
    if executor is None:
        return InProcessExecutor()
    return create("executor", executor) if isinstance(executor, str) else executor


def build_profilers(profilers: Mapping[str, Profiler | str] | None, model: nn.Module, dummy_input: Any) -> dict[str, ProfilesSamples]:
    """``{metric: profiler}`` with registry names built on ``model`` and ``dummy_input``."""
    out: dict[str, ProfilesSamples] = {}
    for metric, prof in (profilers or {}).items():
        if isinstance(prof, str):
            if dummy_input is None:
                raise ConfigError(
                    f"profilers.{metric}: building profiler {prof!r} needs a dummy input; pass dummy_input= "
                    "(a tensor or a shape such as [1, 1, 8, 8]) or a built profiler object."
                )
            prof = create("profiler", prof, model, dummy_input)
        if not callable(getattr(prof, "profile", None)):
            raise ConfigError(f"profilers.{metric} must have profile(sample) -> float, got {prof!r}.")
        out[str(metric)] = prof
    return out


def check_metric_if_rejected(value: object) -> float | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
        raise ConfigError(f"metric_if_rejected must be a number or None, got {value!r}.")
    return cast("float | None", value)  # kept as given (an int stays an int in the store)


def check_schedule(schedule: object, batch_size: object) -> str:
    """``"async"`` or ``"sync"``; a batch size only means something for synchronous batches."""
    if schedule not in SCHEDULES:
        raise ConfigError(
            f"schedule must be 'async' (a finished trial is told at once and the next one started: every worker "
            f"busy) or 'sync' (batches, reproducible across executors), got {schedule!r}."
        )
    if schedule == "async" and batch_size is not None:
        raise ConfigError(
            f"batch_size={batch_size!r} sets the size of synchronous batches, but schedule is 'async' (as many "
            "trials at once as the executor has workers). Add schedule='sync' (schedule = \"sync\" in the "
            "config's [experiment]) or drop batch_size."
        )
    return schedule


def warn_if_trainer_ignores_gpus(executor: Executor, trainer: Any) -> bool:
    """Warn (and return True) when the executor gives workers GPUs but the trainer is set to train on CPU."""
    envs = getattr(executor, "envs", None) or []
    gives_gpus = any(env.get("NAS_TRIAL_DEVICE", "").startswith("cuda") for env in envs) or bool(
        getattr(executor, "gpus_per_trial", 0))
    name = str(getattr(trainer, "device_name", getattr(trainer, "device", "")))
    if gives_gpus and name == "cpu":
        logging.getLogger("nas_core.experiment").warning(
            "the executor gives each worker a GPU but the trainer trains on 'cpu'; set the trainer's device to "
            "'auto' (or 'cuda': inside a worker that is its own GPU).")
        return True
    return False
