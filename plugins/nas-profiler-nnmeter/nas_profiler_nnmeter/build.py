"""``build_predictor``: measure kernels (and whole models) under the shared protocol, fit, calibrate, check.

Every kernel configuration is built as a tiny PyTorch model and measured with the on-device
profiler's measurement protocol (:mod:`nas_profiler_device.protocol`: warm-up, interleaved
rounds, a speed reference, outliers rejected), locally or on a device agent. One
RandomForestRegressor per kernel type is fitted on nn-Meter's own kernel features. With
``calibrate_on=(model_space, dummy_input)``, whole random architectures of the space are
measured in the same pass and fit the map from kernel sum to model latency
(``calibration.json``). The even and the odd rounds give two half-builds; when their
predictions of random architectures disagree by more than 5 %, nothing is written and
:class:`~nas_profiler_device.protocol.UnstableMeasurementError` says what to do.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import random
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import torch
from torch import nn

from nas_profiler_device.measurer import CallableMeasurer, LocalMeasurer, Measurer, RemoteMeasurer
from nas_profiler_device.protocol import MeasurementProtocol, check_stability
from nas_profiler_device.reference import SpeedReference

from nas_profiler_nnmeter.builder import (
    _RF_DEFAULTS, DEFAULT_FUSION_RULES, KernelConfig, Tiny, default_kernel_configs, fit_predictor, fit_regressors,
    versions, write_csv, write_nnmeter_meta,
)
from nas_profiler_nnmeter.calibration import (
    environment, kernel_sum, random_kernel_mixes, split_half_report, write_calibration,
)
from nas_profiler_nnmeter.errors import PredictorBuildError
from nas_profiler_nnmeter.predictors import FUSION_RULES_FILE, METADATA_FILE, TRAINING_DATA_DIR

__all__ = ["build_predictor", "reference_network"]


def reference_network() -> tuple[nn.Module, list[torch.Tensor]]:
    """The default speed reference without a space: a small MobileNet-like stack at 32x32."""
    torch.manual_seed(0)

    def block(cin: int, cout: int, stride: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU6(),
                nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU6()]

    net = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(), *block(16, 32, 1),
                        *block(32, 64, 2), *block(64, 96, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(96, 10))
    return net.eval(), [torch.randn(1, 3, 32, 32)]


def _measurer(backend: str, repeats: int, warmup: int, threads: int, clock: str, agent: Any,
              measure: Callable[[nn.Module, list], Mapping[str, Any]] | None) -> tuple[Measurer, str]:
    if measure is not None:
        return CallableMeasurer(measure, repeats=max(2, repeats), warmup=warmup), "custom measure function"
    if agent is not None:
        return RemoteMeasurer(agent, threads, repeats, warmup, clock), f"device agent {getattr(agent, 'url', agent)}"
    return LocalMeasurer(backend, threads, repeats, warmup, "cpu", clock), "local"


def _stage(folder: Path) -> Path:
    stage = folder.parent / f".{folder.name}.building-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    (stage / TRAINING_DATA_DIR).mkdir(parents=True)
    return stage


def _publish(stage: Path, folder: Path) -> None:
    """Move the staged files into ``folder`` (replacing same-named files; a stale calibration goes)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / TRAINING_DATA_DIR).mkdir(exist_ok=True)
    if not (stage / "calibration.json").exists():
        (folder / "calibration.json").unlink(missing_ok=True)
    for p in stage.rglob("*"):
        if p.is_file():
            os.replace(p, folder / p.relative_to(stage))
    shutil.rmtree(stage, ignore_errors=True)


def build_predictor(folder: str | os.PathLike, configs: Sequence[KernelConfig] | None = None, *,
                    name: str | None = None, backend: str = "onnxruntime", repeats: int = 30, warmup: int = 5,
                    threads: int = 1, clock: str = "wall", agent: Any = None,
                    measure: Callable[[nn.Module, list], Mapping[str, Any]] | None = None,
                    fusion_rules: Mapping[str, Any] | None = None, regressor_params: Mapping[str, Any] | None = None,
                    seed: int = 0, subtract_overhead: bool = True, progress: bool = False,
                    protocol: MeasurementProtocol | None = None, reference: SpeedReference | bool = True,
                    calibrate_on: tuple[nn.Module, Any] | None = None, calibration_archs: int = 20,
                    stability_archs: int = 50, on_unstable: str = "raise") -> Path:
    """Measure ``configs`` (default: :func:`default_kernel_configs`) and write an nn-Meter predictor to ``folder``.

    Measurements run locally (``backend`` onnxruntime, torchscript or eager; ``threads``;
    ``clock``), on a device agent (``agent``, an ``AgentClient``), or with your own
    ``measure(module, input_shapes) -> {"median_ms": ...}``, all under ``protocol`` (default
    ``MeasurementProtocol.for_repeats(repeats, warmup)``). ``reference``: the speed reference
    applied to every run (True: the space's default architecture with ``calibrate_on``, else
    :func:`reference_network`; False: none). ``subtract_overhead``: the latency of an empty
    model (the runtime's per-call cost, which a whole model pays once) is subtracted from
    every kernel. ``calibrate_on=(model_space, dummy_input)``: ``calibration_archs`` random
    architectures are measured end to end and the kernel sum is calibrated on them.
    ``on_unstable``: "raise" (default: nothing is written), "warn" or "ignore" when the two
    half-builds disagree on ``stability_archs`` random architectures. Returns the folder.
    """
    configs = list(configs) if configs is not None else default_kernel_configs()
    if not configs:
        raise PredictorBuildError("no kernel configurations to measure; pass configs=[KernelConfig(...), ...].")
    bad = [c for c in configs if not isinstance(c, KernelConfig)]
    if bad:
        raise PredictorBuildError(f"configs must be KernelConfig objects; got {type(bad[0]).__name__} {bad[0]!r}.")
    if calibrate_on is not None and (not isinstance(calibrate_on, tuple) or len(calibrate_on) != 2):
        raise PredictorBuildError("calibrate_on must be (model_space, dummy_input), e.g. (MySpace(), "
                                  f"torch.zeros(1, 3, 96, 96)); got {calibrate_on!r}.")
    folder = Path(folder).expanduser().resolve()
    measurer, where = _measurer(backend, repeats, warmup, threads, clock, agent, measure)
    protocol = protocol or measurer.protocol()
    space = cal_samples = None
    items: list[tuple[nn.Module, list[Any]]] = []
    if calibrate_on is not None:
        from nas_core.space.model_space import search_space

        space = search_space(calibrate_on[0])
        x = calibrate_on[1] if isinstance(calibrate_on[1], torch.Tensor) else torch.zeros(*calibrate_on[1])
        rng = random.Random(seed)
        cal_samples = [space.random(rng) for _ in range(calibration_archs)]
        items += [(space.freeze(s).eval(), [x]) for s in cal_samples]
    if reference is True and measure is None:
        ref_module, ref_inputs = ((space.freeze(space.default()).eval(), [x]) if space is not None
                                  else reference_network())
        measurer.reference = SpeedReference(ref_module, ref_inputs)
    elif isinstance(reference, SpeedReference):
        measurer.reference = reference
    n_cal = len(items)
    if subtract_overhead:
        items.append((Tiny(), [torch.zeros(1, 1, 1, 1)]))
    torch.manual_seed(0)
    for cfg in configs:
        module, shapes = cfg.module()
        items.append((module.eval(), [torch.randn(*s) for s in shapes]))
    if progress:
        print(f"measuring {len(items)} models ({len(configs)} kernels, {n_cal} whole architectures) in "
              f"{protocol.rounds} interleaved rounds of {protocol.runs_per_round} runs...", flush=True)
    figures = measurer.measure_interleaved(items, protocol)
    overhead = [figures[n_cal].ms, *figures[n_cal].halves] if subtract_overhead else [0.0, 0.0, 0.0]
    kernel_figs = figures[n_cal + (1 if subtract_overhead else 0):]
    variants: list[dict[str, list[dict[str, Any]]]] = [{}, {}, {}]  # all rounds, even, odd
    for cfg, fig in zip(configs, kernel_figs):
        feats = cfg.features()
        for v, rows in enumerate(variants):
            med = fig.ms if v == 0 else fig.halves[v - 1]
            rows.setdefault(cfg.kernel, []).append({
                "config": asdict(cfg), "features": feats, "latency_ms": max(med - overhead[v], 0.05 * med),
                "median_ms": med, "spread": fig.figure.spread})
    stage = _stage(folder)
    try:
        for kernel, krows in variants[0].items():
            write_csv(stage / TRAINING_DATA_DIR / f"{kernel}.csv", krows)
        params = {**_RF_DEFAULTS, **(regressor_params or {})}
        stats = fit_predictor(stage, variants[0], params, seed)
        rules = dict(fusion_rules) if fusion_rules is not None else dict(DEFAULT_FUSION_RULES)
        (stage / FUSION_RULES_FILE).write_text(json.dumps(rules, indent=2))
        halves = [fit_regressors(variants[v], params, seed) for v in (1, 2)]
        env = environment(measurer.identity())
        calibration = None
        if space is not None:
            from nas_profiler_nnmeter.profiler import NnMeterProfiler

            prof = NnMeterProfiler(calibrate_on[0], x, predictor=stage, calibrated=False)
            cal_kernels = [prof.kernel_features(s) for s in cal_samples]
            check_rng = random.Random(seed + 1)
            archs = [prof.kernel_features(space.random(check_rng)) for _ in range(stability_archs)]
            measured = [[f.ms for f in figures[:n_cal]], [f.halves[0] for f in figures[:n_cal]],
                        [f.halves[1] for f in figures[:n_cal]]]
            report = split_half_report(halves, archs, protocol, (cal_kernels, measured[1:]))
            full_regs = prof.predictor.regressors
            calibration = write_calibration(stage, cal_samples, [kernel_sum(full_regs, k) for k in cal_kernels],
                                            measured[0], env, f"{type(calibrate_on[0]).__qualname__} on input "
                                            f"{list(x.shape)}")
        else:
            flat = [(c.kernel, c.features()) for c in configs]
            report = split_half_report(halves, random_kernel_mixes(flat, stability_archs, seed=seed), protocol,
                                       overheads=overhead[1:])
        name = name or folder.name
        meta = {
            "name": name, "version": "1.0", "category": "cpu",
            "format": "nn-meter-2.0 kernel predictors (sklearn RandomForestRegressor pickles) + fusion_rules.json",
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "device": env.get("device"), "measured_on": where,
            "backend": backend if measure is None else "custom", "threads": threads, "clock": clock,
            "repeats": protocol.repeats, "warmup": protocol.warmup, "protocol": asdict(protocol),
            "speed_reference": measurer.reference is not None, "overhead_ms": overhead[0],
            # what the reference took while this predictor was measured: its figures are at that speed
            "reference_baselines": dict(measurer.reference.baselines) if measurer.reference is not None else {},
            "environment": env, "versions": versions(),
            "regressor": {"class": "sklearn.ensemble.RandomForestRegressor", "params": params, "seed": seed},
            "kernels": stats, "stability": report.to_dict(),
            "calibration": None if calibration is None else {k: calibration[k] for k in ("scale", "offset_ms", "space")},
            "training_data": {k: f"{TRAINING_DATA_DIR}/{k}.csv" for k in variants[0]},
        }
        (stage / METADATA_FILE).write_text(json.dumps(meta, indent=2, default=str))
        check_stability(report, f"the nn-Meter predictor {name!r}", on_unstable)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    _publish(stage, folder)
    write_nnmeter_meta(folder, name, meta)
    return folder
