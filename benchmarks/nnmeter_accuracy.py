"""nn-Meter predictor built for this CPU vs measured end-to-end latency (and the device lookup table).

1. Lists every nn-Meter kernel the MobileNetV2-style space of the on-device profiler can
   contain (``space_kernels``), measures each as a tiny model on this CPU (ONNX Runtime,
   one thread), plus a random spread of extra kernels, and builds an nn-Meter predictor.
2. Predicts 100 random architectures with ``NnMeterProfiler`` and measures them end to end.
3. Prints the share within +-10 %, the RMSE and the worst case, beside the same figures for
   the on-device profiler's per-block lookup table (``nas_profiler_device.DeviceProfiler``)
   on the same architectures and measurements, when that plugin is installed.

    .venv/bin/python benchmarks/nnmeter_accuracy.py                 # 100 archs, 96x96, 1 thread
    .venv/bin/python benchmarks/nnmeter_accuracy.py --size 64 --archs 50 --clock wall
"""
from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from nas_core import search_space
from nas_profiler_device.example_space import MobileNetV2Space
from nas_profiler_device.measure import measure_latency
from nas_profiler_nnmeter import NnMeterProfiler, build_predictor
from nas_profiler_nnmeter.builder import default_kernel_configs, kernel_configs_from_kernels
from nas_profiler_nnmeter.profiler import space_kernels


def figures(pred: np.ndarray, meas: np.ndarray) -> str:
    rel = (pred - meas) / meas
    worst = rel[np.argmax(np.abs(rel))]
    rmse = math.sqrt(float(np.mean((pred - meas) ** 2)))
    return (f"within +-10%: {np.mean(np.abs(rel) <= 0.10):6.1%}   RMSE: {rmse:.3f} ms   worst: {worst:+.1%}   "
            f"mean predicted/measured: {np.mean(pred / meas):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=100)
    ap.add_argument("--size", type=int, default=96)
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--clock", default="cpu", choices=["wall", "cpu"])
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--extra-kernels", type=int, default=10, help="random extra configurations per kernel type")
    ap.add_argument("--no-lut", action="store_true", help="skip the device lookup-table comparison")
    ap.add_argument("--folder", default=None, help="where to write the predictor (default: a temporary folder)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    model = MobileNetV2Space(width=args.width)
    x = torch.zeros(1, 3, args.size, args.size)
    space = search_space(model)
    folder = Path(args.folder or tempfile.mkdtemp(prefix="nnmeter-cpu-")) / "this-cpu"

    t0 = time.perf_counter()
    configs = kernel_configs_from_kernels(space_kernels(model, x))
    configs += default_kernel_configs(n_per_kernel=args.extra_kernels, seed=args.seed)
    build_predictor(folder, configs, repeats=args.repeats, warmup=5, threads=args.threads, clock=args.clock)
    t1 = time.perf_counter()
    prof = NnMeterProfiler(model, x, predictor=folder)
    t2 = time.perf_counter()
    print(f"space: nas_profiler_device MobileNetV2Space(width={args.width}), {len(space.choices)} choices; "
          f"input 1x3x{args.size}x{args.size}; ONNX Runtime, {args.threads} thread(s), clock {args.clock}")
    print(f"predictor: {len(configs)} kernels measured and fitted in {t1 - t0:.1f} s -> {folder}")
    print(f"NnMeterProfiler built in {t2 - t1:.1f} s: {prof.cost_model.describe()}")

    lut = None
    if not args.no_lut:
        try:
            from nas_profiler_device import DeviceProfiler

            t3 = time.perf_counter()
            # raw figures, like the nn-Meter kernels and the end-to-end measurements it is compared on
            lut = DeviceProfiler(model, x, backend="onnxruntime", threads=args.threads, clock=args.clock,
                                 repeats=args.repeats, cache_dir=tempfile.mkdtemp(prefix="nas-lut-"), progress=False,
                                 speed_reference=False)
            print(f"device lookup table built in {time.perf_counter() - t3:.1f} s")
        except ImportError:
            print("nas_profiler_device.DeviceProfiler not installed: no lookup-table figure")

    samples = [space.random(seed=args.seed * 100_000 + i) for i in range(args.archs)]
    t4 = time.perf_counter()
    measured = np.array([measure_latency(space.freeze(s), x, backend="onnxruntime", repeats=args.repeats, warmup=5,
                                         threads=args.threads, clock=args.clock).median_ms for s in samples])
    t5 = time.perf_counter()
    start = time.perf_counter()
    nnm = np.array(prof.profile_batch(samples))
    per_profile_us = (time.perf_counter() - start) / len(samples) * 1e6
    print(f"{len(samples)} random architectures measured in {t5 - t4:.1f} s (mean {measured.mean():.3f} ms, "
          f"range {measured.min():.3f}-{measured.max():.3f} ms)")
    print(f"  nn-Meter predictor (this CPU): {figures(nnm, measured)}   ({per_profile_us:.1f} us/profile)")
    if lut is not None:
        print(f"  device lookup table          : {figures(np.array([lut.profile(s) for s in samples]), measured)}")


if __name__ == "__main__":
    main()
