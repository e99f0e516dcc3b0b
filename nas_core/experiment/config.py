"""Experiment configuration files (TOML or YAML): load, validate, and build an :class:`Experiment`.

Validation happens before any training: an unknown section or key, a missing field, a
wrong type, an unknown component name, an unknown label or metric: each is a
:class:`~nas_core.errors.ConfigError` naming the field and the fix.
"""
from __future__ import annotations

import difflib
import inspect
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from nas_core.errors import ConfigError, RegistryError
from nas_core.files import read_text_file
from nas_core.registry import get_registry
from nas_core.experiment.factories import check_built, check_factory
from nas_core.experiment.fingerprint import record_options
from nas_core.experiment.trial import SpaceSpec, import_object
from nas_core.interfaces import Trainer

__all__ = ["ExperimentConfig", "load_config", "parse_duration"]

SECTIONS = ("experiment", "space", "strategy", "trainer", "profilers", "constraints", "objectives", "executor",
            "pruner")
REQUIRED = ("space", "trainer")
#: the strategy used when the config has no [strategy]: the best on benchmarks/search_suite.py
DEFAULT_STRATEGY = {"name": "guided-evolution"}
EXPERIMENT_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "name": (str, "a name for the experiment"),
    "workdir": (str, "a folder path, relative to the config file"),
    "seed": (int, "an integer >= 0"),
    "max_trials": (int, "a positive integer"),
    "max_duration": ((int, float, str), "seconds, or a duration such as \"90s\", \"3m\", \"1h30m\""),
    "retries": (int, "an integer >= 0 (retries of a trial whose worker died)"),
    "schedule": (str, "\"async\" (default: every worker busy) or \"sync\" (batches, reproducible)"),
    "batch_size": (int, "a positive integer: trials per synchronous batch (default: the executor's max_workers)"),
    "trial_timeout": ((int, float, str), "seconds, or a duration such as \"90s\", \"3m\" (a trial past it is stopped)"),
    "trial_threads": (int, "a positive integer (torch threads per trial)"),
    "metric_if_rejected": ((int, float), "a number told to the strategy for rejected samples"),
    "keep_weights": (bool, "true or false"),
}
SPACE_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "class": (str, "an import path 'module:Class' of the model space"),
    "kwargs": (dict, "a table of constructor arguments"),
    "input_shape": (list, "a list of ints, e.g. [1, 1, 8, 8] (the profilers' dummy input)"),
}


def _type_name(t: type | tuple[type, ...]) -> str:
    ts = t if isinstance(t, tuple) else (t,)
    return " or ".join({int: "an integer", float: "a number", str: "a string", bool: "a boolean", list: "a list",
                        dict: "a table"}.get(x, x.__name__) for x in ts)


def _check_type(fieldname: str, value: Any, expected: type | tuple[type, ...], what: str) -> None:
    ts = expected if isinstance(expected, tuple) else (expected,)
    ok = isinstance(value, ts) and not (isinstance(value, bool) and bool not in ts)
    if not ok:
        raise ConfigError(
            f"{fieldname} must be {_type_name(expected)} ({what}), got {type(value).__name__} {value!r}."
        )


def _check_keys(fieldname: str, table: Mapping[str, Any], known: Mapping[str, Any] | tuple[str, ...]) -> None:
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(str(key), list(known), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"{fieldname}: unknown key {key!r}.{hint} Allowed keys: {', '.join(known)}."
            )


def parse_duration(value: object, fieldname: str = "experiment.max_duration") -> float:
    """Seconds from a number or a string such as ``"90s"``, ``"3m"``, ``"1h30m"``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value <= 0:
            raise ConfigError(f"{fieldname} must be positive, got {value!r}.")
        return float(value)
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*", value)
        if m and any(m.groups()):
            h, mi, s = (float(g) if g else 0.0 for g in m.groups())
            total = h * 3600 + mi * 60 + s
            if total > 0:
                return total
    raise ConfigError(f"{fieldname}: {value!r} is not a duration; write seconds (170) or \"90s\", \"3m\", \"1h30m\".")


@dataclass
class ExperimentConfig:
    """A validated configuration; :meth:`build` makes the :class:`Experiment`."""

    raw: dict[str, Any]
    path: Path | None = None
    overrides: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    # -- structure ------------------------------------------------------------------------
    def validate(self) -> None:
        """Check the structure and every registry name (no component is built yet)."""
        raw = self.raw
        if not isinstance(raw, Mapping):
            raise ConfigError(f"the configuration must be a table of sections ({', '.join(SECTIONS)}), got {raw!r}.")
        _check_keys("config", raw, SECTIONS)
        for sec in REQUIRED:
            if sec not in raw:
                example = {"space": 'class = "my_module:MySpace"', "strategy": 'name = "regularized-evolution"',
                           "trainer": 'name = "classification"'}[sec]
                raise ConfigError(f"missing section [{sec}]; add it, e.g.\n[{sec}]\n{example}")
        for sec in SECTIONS:
            if sec in raw and not isinstance(raw[sec], Mapping):
                raise ConfigError(f"[{sec}] must be a table, got {type(raw[sec]).__name__} {raw[sec]!r}.")
        exp = raw.get("experiment", {})
        _check_keys("experiment", exp, EXPERIMENT_KEYS)
        for key, value in exp.items():
            _check_type(f"experiment.{key}", value, *EXPERIMENT_KEYS[key])
        if "max_duration" in exp:
            parse_duration(exp["max_duration"])
        if "trial_timeout" in exp:
            parse_duration(exp["trial_timeout"], "experiment.trial_timeout")
        space = raw["space"]
        _check_keys("space", space, SPACE_KEYS)
        if "class" not in space:
            raise ConfigError('space.class is missing; name the model space as an import path: class = "module:Class".')
        for key, value in space.items():
            _check_type(f"space.{key}", value, *SPACE_KEYS[key])
        if "input_shape" in space and not all(isinstance(d, int) and d > 0 for d in space["input_shape"]):
            raise ConfigError(f"space.input_shape must be a list of positive ints, got {space['input_shape']!r}.")
        self._check_component("strategy", "strategy", raw.get("strategy", DEFAULT_STRATEGY))
        self._check_component("trainer", "trainer", raw["trainer"])
        if "executor" in raw:
            self._check_component("executor", "executor", raw["executor"])
        if "pruner" in raw:
            self._check_component("pruner", "pruner", raw["pruner"])
        for metric, table in raw.get("profilers", {}).items():
            if not isinstance(table, Mapping):
                raise ConfigError(f"profilers.{metric} must be a table (e.g. [profilers.{metric}] name = \"flops\"), "
                                  f"got {table!r}.")
            self._check_component("profiler", f"profilers.{metric}", {"name": metric, **table})
        if raw.get("profilers") and "input_shape" not in space:
            raise ConfigError("space.input_shape is missing: profilers need a dummy input shape, e.g. "
                              "input_shape = [1, 1, 8, 8].")
        for metric, direction in raw.get("objectives", {}).items():
            _check_type(f"objectives.{metric}", direction, str, '"max" or "min"')

    def _check_component(self, kind: str, fieldname: str, table: Mapping[str, Any]) -> None:
        if "factory" in table:
            _check_type(f"{fieldname}.factory", table["factory"], str, "an import path 'module:callable'")
            return
        if "name" not in table:
            names = ", ".join(get_registry().names(kind)) or "none installed"
            raise ConfigError(f"{fieldname}.name is missing; name a registered {kind} ({names}), or give "
                              f"factory = \"module:callable\".")
        _check_type(f"{fieldname}.name", table["name"], str, f"a registered {kind} name")
        try:
            get_registry().get(kind, table["name"])
        except RegistryError as err:
            raise ConfigError(f"{fieldname}.name: {err}") from None

    # -- building -------------------------------------------------------------------------
    @property
    def base(self) -> Path:
        return self.path.parent if self.path is not None else Path.cwd()

    def workdir(self, override: str | os.PathLike | None = None) -> Path:
        """The experiment folder: ``override`` (``--workdir``), else the config's, else ``runs/<name>``."""
        exp = self.raw.get("experiment", {})
        override = override or self.overrides.get("workdir")
        if override:
            return Path(override)
        if "workdir" in exp:
            wd = Path(exp["workdir"])
            return wd if wd.is_absolute() else self.base / wd
        stem = exp.get("name") or (self.path.stem if self.path else "experiment")
        return self.base / "runs" / stem

    def _create(self, kind: str, fieldname: str, table: Mapping[str, Any], *args: Any) -> Any:
        options = {k: v for k, v in table.items() if k not in ("name", "factory")}
        if "factory" in table:
            factory = import_object(table["factory"], f"{fieldname}.factory")
            label = table["factory"]
            check_factory(kind, f"{fieldname}.factory", label, factory, Trainer if kind == "trainer" else None)
        else:
            factory = get_registry().get(kind, table["name"]).factory
            label = table["name"]
        try:
            built = factory(*args, **options)
        except ConfigError as err:
            raise ConfigError(f"{fieldname}: {err}") from None
        except TypeError as err:
            try:
                sig = str(inspect.signature(factory))
            except (TypeError, ValueError):
                sig = "(see its documentation)"
            raise ConfigError(
                f"{fieldname}: {kind} {label!r} does not accept the options {sorted(options)} ({err}). Its "
                f"options: {sig}."
            ) from None
        if kind == "trainer" and "factory" in table:
            check_built(kind, f"{fieldname}.factory", label, built, Trainer)
        record_options(built, options)
        return built

    def build(self, **overrides: Any) -> Any:
        """Build the space, components and :class:`Experiment` (validating names, labels and metrics)."""
        import torch
        from torch import nn

        from nas_core.experiment.dry_run import check_input_fits
        from nas_core.experiment.runner import Experiment
        from nas_core.experiment.trial import build_space

        overrides = {**self.overrides, **{k: v for k, v in overrides.items() if v is not None}}
        base = str(self.base.resolve())
        if base not in sys.path:
            sys.path.insert(0, base)
            os.environ["PYTHONPATH"] = os.pathsep.join([base] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
        raw = self.raw
        exp = dict(raw.get("experiment", {}))
        space_t = raw["space"]
        source = SpaceSpec(space_t["class"], dict(space_t.get("kwargs", {})))
        check_factory("model space", "space.class", space_t["class"], import_object(space_t["class"], "space.class"),
                      nn.Module)
        try:
            model = build_space(source)
        except ConfigError as err:
            raise ConfigError(f"space.class: {err}") from None
        except Exception as err:  # noqa: BLE001 - the user's constructor failed: say where
            raise ConfigError(f"space: building {space_t['class']}(**{dict(space_t.get('kwargs', {}))}) failed: "
                              f"{type(err).__name__}: {err}") from None
        dummy = torch.zeros(*space_t["input_shape"]) if "input_shape" in space_t else None
        if dummy is not None:
            check_input_fits(model, dummy)
        profilers = {m: self._create("profiler", f"profilers.{m}", {"name": m, **t}, model, dummy)
                     for m, t in raw.get("profilers", {}).items()}
        trainer = self._create("trainer", "trainer", raw["trainer"])
        strategy = self._create("strategy", "strategy", raw.get("strategy", DEFAULT_STRATEGY))
        ex_table = dict(raw.get("executor", {"name": "in-process"}))
        if overrides.get("executor") and overrides["executor"] != ex_table.get("name"):
            ex_table = {"name": overrides["executor"]}  # another executor: the config's options were for its own
        if overrides.get("workers"):
            ex_table["max_workers"] = overrides["workers"]
        executor = self._create("executor", "executor", ex_table)
        if "pruner" in raw:
            exp["pruner"] = self._create("pruner", "pruner", raw["pruner"])
        for key in ("max_trials", "seed"):
            if overrides.get(key) is not None:
                exp[key] = overrides[key]
        if overrides.get("max_duration") is not None:
            exp["max_duration"] = overrides["max_duration"]
        exp.pop("name", None)
        exp.pop("workdir", None)
        if "max_duration" in exp:
            exp["max_duration"] = parse_duration(exp["max_duration"])
        if "trial_timeout" in exp:
            exp["trial_timeout"] = parse_duration(exp["trial_timeout"], "experiment.trial_timeout")
        experiment = Experiment(
            model, trainer, strategy, profilers=profilers, constraints=raw.get("constraints"),
            objectives=raw.get("objectives"), executor=executor, workdir=self.workdir(overrides.get("workdir")),
            dummy_input=dummy,
            progress=overrides.get("progress", True), overwrite=bool(overrides.get("overwrite")),
            space_source=source, **exp,
        )
        experiment.owns_executor = True
        return experiment


def load_config(path: str | os.PathLike, **overrides: Any) -> ExperimentConfig:
    """Read and validate a ``.toml``, ``.yaml`` or ``.yml`` experiment configuration."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file {str(path)!r} does not exist.")
    text = read_text_file(path, "config file", "a TOML or YAML experiment configuration")
    suffix = path.suffix.lower()
    if suffix == ".toml":
        import tomllib

        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path} is not valid TOML: {err}.") from None
    elif suffix in (".yaml", ".yml"):
        import yaml

        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise ConfigError(f"{path} is not valid YAML: {err}.") from None
    else:
        raise ConfigError(f"config file {path.name!r}: use a .toml, .yaml or .yml file.")
    if raw is None:
        raise ConfigError(f"{path} is empty; it needs at least [space] and [trainer] (and usually [strategy]).")
    return ExperimentConfig(raw, path, overrides)
