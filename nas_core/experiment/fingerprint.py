"""What makes two runs the same experiment: the fingerprint a resume is checked against.

A stored trial means "this sample, trained by this trainer with these options, costed by
these profilers, proposed by this strategy with these options, scored by these
objectives under these constraints". Every option that changes that meaning is in the
fingerprint: the space (its class, constructor arguments, labels and their values, the
dummy input shape), the seed, the trainer, strategy and each profiler (class and options),
objectives, constraints, ``metric_if_rejected`` and the schedule. What may change on resume
is left out: the budget (``max_trials``, ``max_duration``), the executor and its worker
count, ``batch_size``, ``trial_timeout``, ``trial_threads``, ``retries``, ``keep_weights``,
the progress bar.

A component's options are the ones its config table gave (recorded by
:func:`record_options` when the config builds it) together with its public attributes
whose values are plain data (numbers, strings, booleans, None, short lists of them).
A component may define ``fingerprint() -> dict`` to state its options itself.
"""
from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Mapping

from nas_core.errors import ConfigError

if TYPE_CHECKING:
    from nas_core.experiment.runner import Experiment

__all__ = ["FORMAT", "experiment_fingerprint", "component_fingerprint", "record_options", "check_resume"]

#: the fingerprint layout; stores written before it have no "format" key
FORMAT = 2
#: keys whose value had the same form in the first layout (compared with such stores)
_LEGACY_KEYS = ("labels", "seed", "objectives", "constraints", "profilers")
_MAX_LIST = 64

_recorded: "weakref.WeakKeyDictionary[Any, dict[str, Any]]" = weakref.WeakKeyDictionary()
#: each component's fingerprint, taken once: before it is set up and used (its state then changes)
_snapshots: "weakref.WeakKeyDictionary[Any, dict[str, Any]]" = weakref.WeakKeyDictionary()


def record_options(component: object, options: Mapping[str, object]) -> None:
    """Remember the options a component was built with (the config does this for every table)."""
    try:
        _recorded[component] = dict(options)
        _snapshots.pop(component, None)
        component_fingerprint(component)
    except TypeError:  # not weak-referenceable: its public attributes still count
        pass


def _plain(value: Any, depth: int = 0) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if depth < 2 and isinstance(value, (list, tuple)) and len(value) <= _MAX_LIST:
        return all(_plain(v, depth + 1) for v in value)
    if depth < 2 and isinstance(value, Mapping) and len(value) <= _MAX_LIST:
        return all(isinstance(k, str) and _plain(v, depth + 1) for k, v in value.items())
    return False


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def component_fingerprint(component: object) -> dict[str, Any]:
    """``{"class": "module.Name", option: value, ...}`` for a trainer, strategy or profiler.

    Taken the first time it is asked for (when the config builds the component, or when a
    search first opens its store) and kept, so the state a component builds up while it
    searches (a strategy's counters after ``setup``) does not count as a changed option.
    """
    try:
        cached = _snapshots.get(component)
    except TypeError:
        cached = None
    if cached is not None:
        return dict(cached)
    out = _describe(component)
    try:
        _snapshots[component] = out
    except TypeError:
        pass
    return dict(out)


def _describe(component: Any) -> dict[str, Any]:
    cls = type(component)
    out: dict[str, Any] = {"class": f"{cls.__module__}.{cls.__qualname__}"}
    own = getattr(component, "fingerprint", None)
    if callable(own) and not isinstance(component, type):
        declared = own()
        if isinstance(declared, Mapping):
            out.update({str(k): _jsonable(v) for k, v in declared.items() if _plain(v)})
            return out
    attrs = getattr(component, "__dict__", {})
    out.update({k: _jsonable(v) for k, v in sorted(attrs.items()) if not k.startswith("_") and _plain(v)})
    out.update({k: _jsonable(v) if _plain(v) else repr(v) for k, v in sorted(_recorded.get(component, {}).items())})
    return out


def _space_source(exp: Any) -> Any:
    src = exp.space_source
    target = getattr(src, "target", None)
    if isinstance(target, str):
        return {"class": target, "kwargs": _jsonable(dict(getattr(src, "kwargs", {})))}
    return f"{type(exp.model).__module__}.{type(exp.model).__qualname__}"


def experiment_fingerprint(exp: Experiment) -> dict[str, Any]:
    """The fingerprint of an :class:`~nas_core.experiment.Experiment` (a flat dict of JSON values)."""
    shape = getattr(exp.dummy_input, "shape", None)
    fp: dict[str, Any] = {
        "format": FORMAT,
        "space": _space_source(exp),
        "labels": [[c.label, [repr(v) for v in c.domain]] for c in exp.space],
        "input_shape": None if shape is None else [int(d) for d in shape],
        "seed": exp.seed,
        "objectives": [[o.metric, o.direction] for o in exp.objectives],
        "constraints": [b.describe() for b in exp.bounds],
        "metric_if_rejected": exp.metric_if_rejected,
        "schedule": getattr(exp, "schedule", None),
        "profilers": sorted(exp.profilers),
        "trainer": component_fingerprint(exp.trainer),
        "strategy": component_fingerprint(exp.strategy),
    }
    for metric, prof in sorted(exp.profilers.items()):
        fp[f"profilers.{metric}"] = component_fingerprint(prof)
    return fp


def _flatten(fp: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fp.items():
        if isinstance(value, Mapping) and "class" in value:
            out[key] = value["class"]
            out.update({f"{key}.{k}": v for k, v in value.items() if k != "class"})
        else:
            out[key] = value
    return out


def _changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    if "format" not in old:  # written before option fingerprints: compare what it recorded
        keys = [k for k in _LEGACY_KEYS if k in old and k in new]
        return [f"{k} (was {old[k]!r}, now {new[k]!r})" for k in keys if old[k] != new[k]]
    a, b = _flatten(old), _flatten(new)
    out = []
    for key in list(b) + [k for k in a if k not in b]:
        if key == "format" or a.get(key, _MISSING) == b.get(key, _MISSING):
            continue
        was = "unset" if key not in a else repr(a[key])
        now = "unset" if key not in b else repr(b[key])
        out.append(f"{key} (was {was}, now {now})")
    return out


_MISSING = object()


def check_resume(old: Mapping[str, object] | None, new: Mapping[str, object], workdir: object) -> None:
    """Refuse to resume the trials stored in ``workdir`` (fingerprint ``old``) as experiment ``new``."""
    if old is None:
        return
    changes = _changes(old, new)
    if not changes:
        return
    shown = "; ".join(changes[:4]) + (f"; and {len(changes) - 4} more" if len(changes) > 4 else "")
    raise ConfigError(
        f"{workdir} holds a different experiment so it cannot resume: changed {shown}. Resume needs "
        "the same settings (only the budget, the executor and its workers may change). Restore them, start over "
        "with --overwrite (overwrite=True from Python; deletes the stored trials), or use another --workdir."
    )

