"""Per-block latency lookup tables: build, calibrate, store on disk, compile to a CostModel."""
from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

from nas_core.space.search_space import SearchSpace
from nas_core.shapes import CostModel, Sym, Term

from nas_profiler_device.protocol import fit_calibration
from nas_profiler_device.units import Unit, combo_key

__all__ = ["LUT_FORMAT", "LatencyTable", "space_fingerprint", "default_cache_dir", "lut_path", "load_table", "compile_cost_model", "Calibration", "measure_key", "Passthrough"]

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
        scale, offset = fit_calibration(lut_ms, measured_ms)
        return cls(scale, offset, samples, [float(v) for v in lut_ms], [float(v) for v in measured_ms])

    def apply(self, lut_sum_ms: float) -> float:
        return self.scale * lut_sum_ms + self.offset_ms


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


def measure_key(module: nn.Module, tensors: list[torch.Tensor]) -> str:
    text = json.dumps([type(module).__module__ + "." + type(module).__qualname__, repr(module),
                       [list(t.shape) for t in tensors], [str(t.dtype) for t in tensors]])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


class Passthrough(nn.Module):
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
