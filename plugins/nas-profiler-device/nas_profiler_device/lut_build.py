"""Building a latency table under the shared measurement protocol, checked for stability."""
from __future__ import annotations

import json
from dataclasses import asdict
import logging
import math
import random
from typing import Any, Callable

import torch
from torch import nn

from nas_core.errors import ProfilerError
from nas_core.space.search_space import SearchSpace

from nas_profiler_device.errors import MeasurementError
from nas_profiler_device.lut import Calibration, LatencyTable, Passthrough, compile_cost_model, measure_key
from nas_profiler_device.measurer import Measurer
from nas_profiler_device.protocol import MeasurementProtocol, check_stability, compare_builds, measure_interleaved
from nas_profiler_device.units import Unit, combo_key, iter_unit_samples, measurable

__all__ = ["build_table"]

log = logging.getLogger("nas_profiler_device.lut")


def _jobs(measurer: Measurer, items: dict[str, tuple[nn.Module, list[torch.Tensor]]], protocol: MeasurementProtocol
          ) -> tuple[dict[str, Any], dict[str, MeasurementError]]:
    """A warmed-up protocol job per item; items that cannot run are returned with their error."""
    jobs, failed = {}, {}
    for key, (module, tensors) in items.items():
        try:
            job = measurer.jobs([(module, tensors)])[0]
            job.warm(protocol.warmup)
            jobs[key] = job
        except MeasurementError as err:
            failed[key] = err
    return jobs, failed


def _measure(measurer: Measurer, items: dict[str, tuple[nn.Module, list[torch.Tensor]]],
             protocol: MeasurementProtocol, advance: Callable[[str], None]) -> tuple[dict[str, Any], dict]:
    jobs, failed = _jobs(measurer, items, protocol)
    keys = list(jobs)
    baselines = measurer.reference.baselines if measurer.reference is not None else None
    figures = measure_interleaved([jobs[k] for k in keys], protocol, baselines, warm=False,
                                  progress=lambda: advance("measuring (interleaved rounds)"))
    return dict(zip(keys, figures)), failed


def build_table(
    model: nn.Module,
    space: SearchSpace,
    units: list[Unit],
    measurer: Measurer,
    meta: dict[str, Any],
    freeze: Callable[[dict[str, Any]], nn.Module],
    inputs: list[torch.Tensor],
    calibration: int = 10,
    seed: int = 0,
    progress: bool = True,
    protocol: MeasurementProtocol | None = None,
    on_unstable: str = "raise",
    stability_archs: int = 50,
) -> LatencyTable:
    """Measure every unit in every input-shape context and ``calibration`` random whole
    architectures, all interleaved under ``protocol`` (default: the measurer's); then check
    that the even and the odd rounds would give the same table (within the protocol's
    tolerance on ``stability_archs`` random architectures): :func:`check_stability` with
    ``on_unstable`` ("raise", "warn" or "ignore").

    A unit's figure is its latency less the latency of a pass-through call on the same input
    (the runtime's fixed cost per call, which the whole network pays once).
    """
    protocol = protocol or measurer.protocol()
    rng = random.Random(seed)
    cal_samples = [space.random(rng) for _ in range(calibration)]
    items: dict[str, tuple[nn.Module, list[torch.Tensor]]] = {}
    cells: list[tuple[Unit, tuple, str | None, str | None, MeasurementError | None]] = []
    for unit in units:
        for values, sample in iter_unit_samples(unit, space):
            try:
                module, tensors = measurable(unit, sample, seed)
            except MeasurementError as err:
                cells.append((unit, values, None, None, err))
                continue
            mkey = measure_key(module, tensors)
            okey = "overhead:" + json.dumps([list(t.shape) for t in tensors])
            items.setdefault(mkey, (module, tensors))
            items.setdefault(okey, (Passthrough(), tensors[:1]))
            cells.append((unit, values, mkey, okey, None))
    for i, s in enumerate(cal_samples):
        items[f"calibration:{i}"] = (freeze(s).eval(), list(inputs))
    with _progress(progress, len(items) * protocol.rounds) as advance:
        figures, failed = _measure(measurer, items, protocol, advance)
    bad_cal = [k for k in failed if k.startswith("calibration:")]
    if bad_cal:
        raise ProfilerError(f"measuring calibration architecture {cal_samples[int(bad_cal[0].split(':')[1])]} "
                            f"failed: {failed[bad_cal[0]]}")
    variants: list[dict[str, dict[str, float]]] = [{u.key: {} for u in units} for _ in range(3)]  # all, even, odd
    for unit, values, mkey, okey, err in cells:
        err = err or failed.get(mkey) or failed.get(okey)
        if err is not None:
            if not unit.labels:  # a fixed part that cannot run: nothing can be profiled
                raise ProfilerError(f"measuring {unit.path!r} failed: {err}") from err
            log.debug("unit %s under %s cannot run (%s): NaN", unit.path, values, err)
        for v, tables in enumerate(variants):
            ms = math.nan
            if err is None:
                m, o = figures[mkey], figures[okey]
                ms = max(0.0, (m.ms - o.ms) if v == 0 else (m.halves[v - 1] - o.halves[v - 1]))
            tables[unit.key][combo_key(values)] = ms
    measured = [[figures[f"calibration:{i}"].ms if v == 0 else figures[f"calibration:{i}"].halves[v - 1]
                 for i in range(len(cal_samples))] for v in range(3)]
    built = []
    for v, tables in enumerate(variants):
        raw = compile_cost_model(space, units, LatencyTable(meta, tables, Calibration()), calibrated=False)
        lut_ms = [raw.evaluate(s) for s in cal_samples]
        cal = Calibration.fit(cal_samples, lut_ms, measured[v])
        built.append((raw, cal))
    check_rng = random.Random(seed + 1)
    archs = [space.random(check_rng) for _ in range(stability_archs)]
    report = compare_builds([built[1][1].apply(built[1][0].evaluate(s)) for s in archs],
                            [built[2][1].apply(built[2][0].evaluate(s)) for s in archs], protocol)
    table = LatencyTable({**meta, "protocol": asdict(protocol), "stability": report.to_dict()}, variants[0],
                         built[0][1])
    table.records = {k: {"median_ms": f.ms, "raw_median_ms": f.figure.median_ms, "halves_ms": list(f.halves),
                         "kept": f.figure.kept, "rejected": f.figure.rejected, "spread": f.figure.spread,
                         "speed": f.speed} for k, f in figures.items()}
    check_stability(report, "the latency table", on_unstable)
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
