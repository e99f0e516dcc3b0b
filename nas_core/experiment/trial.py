"""Running one trial, wherever an executor puts it: freeze, train, measure, never raise.

:func:`run_trial` is a module-level function so every executor can ship it by reference.
Its job carries the space source and the trainer pickled once (``payload``); each worker
process unpickles them once and caches them by ``token``. Whatever goes wrong inside the
trial (any exception, ``SystemExit`` included, running out of memory, a NaN objective)
comes back as a failed :class:`TrialOutcome` with the error text; only the death of the
worker itself surfaces as an exception of the future. A ``KeyboardInterrupt`` stops the
search only when the trial runs in the search's own process (the user pressed Ctrl-C).
"""
from __future__ import annotations

import gc
import hashlib
import importlib
import math
import os
import pickle
import random
import socket
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import torch
from torch import nn

from nas_core.errors import ConfigError
from nas_core.experiment.oom import is_out_of_memory
from nas_core.interfaces import FAILED, PRUNED, SUCCEEDED
from nas_core.pruning import TrialPruned, TrialReporting, reporting
from nas_core.threads import torch_threads

__all__ = ["SpaceSpec", "TrialJob", "TrialOutcome", "run_trial", "build_space", "trial_seed", "trial_device", "worker_id"]


@dataclass(frozen=True)
class SpaceSpec:
    """A model space by import path: ``SpaceSpec("my_pkg.spaces:Net", {"width": 16})``."""

    target: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def build(self) -> nn.Module:
        return import_object(self.target, "space")(**dict(self.kwargs))


def import_object(path: str, field_name: str) -> Any:
    """``"package.module:attr"`` -> the object, with an error naming the field on failure."""
    if not isinstance(path, str) or ":" not in path:
        raise ConfigError(
            f"{field_name}: {path!r} is not an import path; write it as 'package.module:Name' "
            "(the module must be importable, e.g. next to the config file or installed)."
        )
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ConfigError(
            f"{field_name}: cannot import module {module_name!r} ({err}). Put the module next to the config "
            "file, install it, or add its folder to PYTHONPATH."
        ) from None
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            names = [n for n in dir(module) if not n.startswith("_")]
            raise ConfigError(
                f"{field_name}: module {module_name!r} has no attribute {attr!r}; it defines: {', '.join(names[:20])}."
            )
        obj = getattr(obj, part)
    return obj


def build_space(source: Any) -> nn.Module:
    """The model space from an ``nn.Module``, a :class:`SpaceSpec` or a zero-argument factory."""
    if isinstance(source, nn.Module):
        return source
    if isinstance(source, SpaceSpec):
        model = source.build()
    elif callable(source):
        model = source()
    else:
        raise ConfigError(
            f"space must be an nn.Module model space, a zero-argument factory or 'module:Class', got {source!r}."
        )
    if not isinstance(model, nn.Module):
        raise ConfigError(f"the space factory {source!r} returned {type(model).__name__}, not an nn.Module.")
    return model


def trial_seed(seed: int, sample_key: str) -> int:
    """The seed of one trial: a function of the experiment seed and the sample only."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{sample_key}".encode()).digest()[:4], "little")


def trial_device() -> torch.device | None:
    """The device the executor gave this worker (``cuda:0`` is then its own GPU), or None if it gave none."""
    name = os.environ.get("NAS_TRIAL_DEVICE")
    return torch.device(name) if name else None


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class TrialJob:
    """What a worker needs to run one trial."""

    trial_id: int
    sample: dict[str, Any]
    seed: int
    token: str
    payload: bytes  # pickle of (space source, trainer)
    objective: str
    threads: int | None = 1
    keep_weights: bool = True
    #: pid of the search process: a KeyboardInterrupt there is the user's Ctrl-C, elsewhere a trial failure
    origin_pid: int = field(default_factory=os.getpid)
    #: where intermediate reports go and the pruner that judges them (None: reports are ignored)
    reporting: TrialReporting | None = None


@dataclass
class TrialOutcome:
    """What comes back from a worker."""

    trial_id: int
    status: str
    metrics: dict[str, float]
    error: str | None
    duration: float
    worker: str
    weights: dict[str, torch.Tensor] | None = None
    #: True when the metrics are intermediate (a trial stopped early by a pruner)
    partial: bool = False


_CACHE: dict[str, tuple[Any, Any]] = {}


def pack(space_source: Any, trainer: Any) -> tuple[str, bytes]:
    """Pickle the space source and the trainer once; returns ``(token, payload)``."""
    if isinstance(space_source, nn.Module):
        raise ConfigError(
            f"to run trials in worker processes, give the space as a factory (a module-level function or class "
            f"that builds it, e.g. space={type(space_source).__name__}) or as 'module:Class', not as a built "
            f"{type(space_source).__name__} instance: model spaces are rebuilt in each worker."
        )
    try:
        payload = _dumps((space_source, trainer))
    except Exception as err:  # noqa: BLE001 - explain what must be picklable
        raise ConfigError(
            f"the space and the trainer must be picklable to run trials in worker processes ({type(err).__name__}: "
            f"{err}). Define their classes at module level (not inside a function or as a lambda), or give the "
            "space as 'module:Class'."
        ) from None
    return hashlib.sha256(payload).hexdigest()[:16], payload


def _dumps(obj: Any) -> bytes:
    """cloudpickle when installed (classes from ``__main__`` or a notebook travel by value), else pickle."""
    try:
        import cloudpickle
    except ImportError:
        return pickle.dumps(obj)
    return cloudpickle.dumps(obj)


def prime(token: str, space: nn.Module, trainer: Any) -> None:
    """Cache already-built objects in this process (the in-process executor skips unpickling)."""
    _CACHE[token] = (space, trainer)


def _resolve(job: TrialJob) -> tuple[Any, Any]:
    hit = _CACHE.get(job.token)
    if hit is None:
        source, trainer = pickle.loads(job.payload)
        from nas_core.space import search_space

        hit = (search_space(build_space(source)), trainer)
        if len(_CACHE) > 4:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[job.token] = hit
    return hit


def _seed_all(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:  # pragma: no cover - numpy is a core dependency
        pass


def reset_weights(model: nn.Module) -> None:
    """Re-initialise every layer that can (``reset_parameters``): each trial trains from scratch."""
    for m in model.modules():
        fn: Callable[[], None] | None = getattr(m, "reset_parameters", None)
        if callable(fn):
            fn()


def _error_text(err: BaseException, limit: int = 4000) -> str:
    head = f"{type(err).__name__}: {err}"
    tb = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    text = f"{head}\n{tb}"
    return text if len(text) <= limit else text[:1000] + "\n...\n" + text[-(limit - 1000):]


def run_trial(job: TrialJob) -> TrialOutcome:
    """Freeze ``job.sample``, train it from scratch with the trainer, and return the outcome."""
    start = time.perf_counter()
    metrics: dict[str, float] = {}
    weights = None
    try:
        space, trainer = _resolve(job)
        with torch_threads(job.threads), torch.random.fork_rng(devices=[]):
            _seed_all(job.seed)
            model = space.freeze(job.sample)
            reset_weights(model)
            with reporting(job.trial_id, job.reporting):
                raw = trainer.fit(model)
        metrics = _check_metrics(raw, job.objective)
        if job.keep_weights:
            weights = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        status, error = SUCCEEDED, None
    except TrialPruned as pruned:  # stopped early: its last report is its (partial) result
        status, error, metrics = PRUNED, None, pruned.metrics
    except (torch.OutOfMemoryError, MemoryError) as err:
        status, error = FAILED, "out of memory: " + _error_text(err)
        model = None  # noqa: F841 - drop references before collecting
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except KeyboardInterrupt as err:
        if os.getpid() == job.origin_pid:  # Ctrl-C in the search process itself: stop the search
            raise
        status, error = FAILED, _error_text(err)
    except BaseException as err:  # noqa: BLE001 - any error in a trial (SystemExit too) fails that trial only
        status, error = FAILED, ("out of memory: " if is_out_of_memory(err) else "") + _error_text(err)
    return TrialOutcome(job.trial_id, status, metrics, error, time.perf_counter() - start, worker_id(), weights,
                        partial=status == PRUNED)


class NonFiniteObjectiveError(FloatingPointError):
    """The trainer reported NaN or an infinity for the objective."""


def _check_metrics(raw: Any, objective: str) -> dict[str, float]:
    if not isinstance(raw, Mapping):
        raise TypeError(f"trainer.fit(model) must return a dict of metric name to number, got {type(raw).__name__}.")
    out: dict[str, float] = {}
    for k, v in raw.items():
        if isinstance(v, torch.Tensor) and v.numel() == 1:
            v = v.item()
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise TypeError(f"trainer.fit(model) returned {v!r} for metric {k!r}; metrics must be numbers.")
        out[str(k)] = float(v)
    if objective not in out:
        raise KeyError(
            f"trainer.fit(model) returned no {objective!r} metric (it returned {sorted(out)}); the trainer must "
            f"report every objective."
        )
    if not math.isfinite(out[objective]):
        raise NonFiniteObjectiveError(f"the trainer reported {objective} = {out[objective]} (not a finite number).")
    return out
