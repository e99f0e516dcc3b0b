"""Per-block latency lookup tables: build, calibrate, store on disk, compile to a CostModel."""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn

from nas_core.errors import ProfilerError
from nas_core.space.search_space import SearchSpace
from nas_core.shapes import CostModel, ShapeTrace, Sym, Term

from nas_profiler_device.errors import MeasurementError
from nas_profiler_device.measurer import Measurer
from nas_profiler_device.units import Unit, combo_key, iter_unit_samples, measurable

__all__ = ["LUT_FORMAT", "LatencyTable", "space_fingerprint", "default_cache_dir", "lut_path", "build_table",
           "load_table", "compile_cost_model", "Calibration"]

log = logging.getLogger("nas_profiler_device.lut")
LUT_FORMAT = 1


def default_cache_dir() -> Path:
    """``$NAS_CORE_CACHE/latency``, else ``~/.cache/nas-core/latency``."""
    root = os.environ.get("NAS_CORE_CACHE")
    return Path(root) / "latency" if root else Path.home() / ".cache" / "nas-core" / "latency"


def space_fingerprint(model: nn.Module, space: SearchSpace) -> str:
    """A hash of the space's structure (module tree with hyper-parameters, labels, domains)."""
    text = json.dumps({"model": type(model).__qualname__, "repr": repr(model),
                       "labels": [[c.label, [repr(v) for v in c.domain]] for c in space]})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Calibration:
    """``end_to_end ~= scale * lut_sum + offset_ms``, fit on a few measured architectures."""

    scale: float = 1.0
    offset_ms: float = 0.0
    samples: list[dict[str, Any]] = field(default_factory=list)
    lut_ms: list[float] = field(default_factory=list)
    measured_ms: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"scale": self.scale, "offset_ms": self.offset_ms, "samples": self.samples, "lut_ms": self.lut_ms,
                "measured_ms": self.measured_ms}

    @classmethod
    def fit(cls, samples: list[dict[str, Any]], lut_ms: Sequence[float], measured_ms: Sequence[float]) -> "Calibration":
        """Theil-Sen line (robust to a few disturbed measurements); an offset alone below 3 points."""
        from scipy.stats import theilslopes

        x, y = np.asarray(lut_ms, float), np.asarray(measured_ms, float)
        if len(x) >= 3 and np.ptp(x) > 1e-3 * max(float(np.mean(x)), 1e-9):
            scale = float(theilslopes(y, x)[0])
            offset = float(np.median(y - scale * x))
            if scale <= 0:  # a nonsense fit (too noisy): fall back to a ratio
                scale, offset = float(y.sum() / x.sum()), 0.0
        elif len(x):
            scale, offset = 1.0, float(np.mean(y - x))
        else:
            scale, offset = 1.0, 0.0
        return cls(float(scale), float(offset), samples, [float(v) for v in x], [float(v) for v in y])


@dataclass
class LatencyTable:
    """Measured latencies of every unit (per combination of its labels) plus the calibration."""

    meta: dict[str, Any]
    tables: dict[str, dict[str, float]]  # unit key -> combo key -> ms
    calibration: Calibration
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # measurement key -> Measurement dict

    def to_json(self) -> dict[str, Any]:
        return {"format": LUT_FORMAT, "meta": self.meta, "tables": self.tables,
                "calibration": self.calibration.to_dict(), "records": self.records}

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(self.to_json(), indent=1, default=str))
        os.replace(tmp, path)


def lut_path(cache_dir: Path, meta: dict[str, Any]) -> Path:
    """The table's file: keyed by space fingerprint, input shapes, device, backend, threads."""
    key = {k: meta.get(k) for k in ("space", "input_shapes", "device", "backend", "threads", "clock")}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return Path(cache_dir) / f"lut-{meta['space']}-{digest}.json"


def load_table(path: Path, meta: dict[str, Any], units: list[Unit]) -> tuple[LatencyTable | None, str]:
    """The stored table if it matches ``meta`` and covers ``units``; else None and why."""
    if not path.is_file():
        return None, "no table on disk"
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        return None, f"the file is unreadable ({err})"
    if raw.get("format") != LUT_FORMAT:
        return None, f"format {raw.get('format')!r} is not {LUT_FORMAT}"
    old = raw.get("meta", {})
    changed = [k for k in meta if k != "created" and old.get(k) != meta[k]]
    if changed:
        k = changed[0]
        return None, f"{', '.join(changed)} changed (was {old.get(k)!r}, now {meta[k]!r})"
    tables = raw.get("tables", {})
    missing = [u.key for u in units if u.key not in tables]
    if missing:
        return None, f"it lacks units {missing[:3]}"
    c = raw.get("calibration", {})
    cal = Calibration(c.get("scale", 1.0), c.get("offset_ms", 0.0), c.get("samples", []), c.get("lut_ms", []),
                      c.get("measured_ms", []))
    return LatencyTable(old, tables, cal, raw.get("records", {})), ""


def _measure_key(module: nn.Module, tensors: list[torch.Tensor]) -> str:
    text = json.dumps([type(module).__module__ + "." + type(module).__qualname__, repr(module),
                       [list(t.shape) for t in tensors], [str(t.dtype) for t in tensors]])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


class _Passthrough(nn.Module):
    """Returns its first input: measures the fixed cost of one call (runtime overhead, output copy)."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return xs[0] * 1.0 if xs[0].is_floating_point() else xs[0]


def _unit_terms(units: list[Unit], tables: dict[str, dict[str, float]], scale: float) -> list[Term]:
    terms = []
    for u in units:
        table = {k: v * scale for k, v in tables[u.key].items()}
        if not u.labels:
            value: Any = next(iter(table.values()))
        else:
            labels = u.labels

            def lookup(s: Any, table: dict[str, float] = table, labels: tuple[str, ...] = labels) -> float:
                return table.get(combo_key(tuple(s[l] for l in labels)), math.nan)

            value = Sym(labels, lookup, f"latency({u.path})")
        terms.append(Term(value, u.call.cond, f"{u.key}:latency"))
    return terms


def compile_cost_model(space: SearchSpace, units: list[Unit], table: LatencyTable, calibrated: bool = True) -> CostModel:
    """A CostModel whose ``evaluate(sample)`` is the (calibrated) predicted latency in ms."""
    scale = table.calibration.scale if calibrated else 1.0
    terms = _unit_terms(units, table.tables, scale)
    if calibrated and table.calibration.offset_ms:
        terms.append(Term(table.calibration.offset_ms, True, "calibration:offset"))
    return CostModel(space, terms, unit="ms")


def build_table(
    model: nn.Module,
    space: SearchSpace,
    units: list[Unit],
    measurer: Measurer,
    meta: dict[str, Any],
    end_to_end: Callable[[dict[str, Any]], float],
    calibration: int = 10,
    seed: int = 0,
    progress: bool = True,
) -> LatencyTable:
    """Measure every unit in every input-shape context, then calibrate on ``calibration`` random samples.

    A unit's figure is its median latency less the latency of a pass-through call on the
    same input (the runtime's fixed cost per call, which the whole network pays once).
    """
    jobs = [(u, values, s) for u in units for values, s in iter_unit_samples(u, space)]
    tables: dict[str, dict[str, float]] = {u.key: {} for u in units}
    records: dict[str, dict[str, Any]] = {}
    rng = random.Random(seed)
    cal_samples = [space.random(rng) for _ in range(calibration)]
    with _progress(progress, len(jobs) + len(cal_samples)) as advance:
        for unit, values, sample in jobs:
            try:
                module, tensors = measurable(unit, sample, seed)
                mkey = _measure_key(module, tensors)
                if mkey not in records:
                    records[mkey] = measurer.measure(module, tensors).to_dict()
                okey = "overhead:" + json.dumps([list(t.shape) for t in tensors])
                if okey not in records:
                    records[okey] = measurer.measure(_Passthrough(), tensors[:1]).to_dict()
                ms = max(0.0, float(records[mkey]["median_ms"]) - float(records[okey]["median_ms"]))
            except MeasurementError as err:
                if not unit.labels:  # a fixed part that cannot run: nothing can be profiled
                    raise ProfilerError(f"measuring {unit.path!r} failed: {err}") from err
                log.debug("unit %s under %s cannot run (%s): NaN", unit.path, values, err)
                ms = math.nan
            tables[unit.key][combo_key(values)] = ms
            advance(f"{unit.path}")
        table = LatencyTable(meta, tables, Calibration())
        raw = compile_cost_model(space, units, table, calibrated=False)
        lut_ms, measured = [], []
        for s in cal_samples:
            lut_ms.append(raw.evaluate(s))
            measured.append(end_to_end(s))
            advance("calibration")
    table.calibration = Calibration.fit(cal_samples, lut_ms, measured)
    table.records = records
    return table


class _progress:
    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled, self.total = enabled, total
        self._p: Any = None

    def __enter__(self) -> Callable[[str], None]:
        if not self.enabled:
            return lambda what: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._p = Progress(TextColumn("[bold]latency table"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                           TextColumn("{task.description}"), transient=False)
        self._p.__enter__()
        task = self._p.add_task("", total=self.total)
        return lambda what: self._p.update(task, advance=1, description=what)

    def __exit__(self, *exc: Any) -> None:
        if self._p is not None:
            self._p.__exit__(*exc)
