"""Latency lookup table vs measured end-to-end latency on this machine's CPU.

Builds a DeviceProfiler table for a MobileNetV2-style space (every block: kernel 3/5/7 x
expansion 3/6, or skip), then predicts and measures random architectures and prints the
share within +-10 %, the RMSE, the worst case, and the repeatability of the measurement
(the same architecture measured twice).

    .venv/bin/python benchmarks/device_latency.py                     # 100 archs, 96x96, ONNX Runtime, 1 thread
    .venv/bin/python benchmarks/device_latency.py --backend eager --clock cpu   # CPU time: steadier on a loaded machine
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time

import torch

from nas_profiler_device import DeviceProfiler
from nas_profiler_device.example_space import MobileNetV2Space
from nas_profiler_device.validate import validate_table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=100)
    ap.add_argument("--size", type=int, default=96, help="input resolution (square)")
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--backend", default="onnxruntime", choices=["eager", "torchscript", "onnxruntime"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--clock", default="wall", choices=["wall", "cpu"],
                    help="cpu: thread CPU time (steady on a shared machine); wall: elapsed time")
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--calibration", type=int, default=30)
    ap.add_argument("--repeat-check", type=int, default=20, help="architectures measured twice")
    ap.add_argument("--cache-dir", default=None, help="default: a fresh temporary folder (the table is rebuilt)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-speed-reference", action="store_true",
                    help="report raw figures (no correction for the machine's speed drifting)")
    args = ap.parse_args()

    space = MobileNetV2Space(width=args.width)
    cache = args.cache_dir or tempfile.mkdtemp(prefix="nas-latency-")
    t0 = time.perf_counter()
    prof = DeviceProfiler(space, torch.zeros(1, 3, args.size, args.size), backend=args.backend, threads=args.threads,
                          clock=args.clock, repeats=args.repeats, calibration=args.calibration, cache_dir=cache,
                          speed_reference=not args.no_speed_reference)
    build_s = time.perf_counter() - t0
    cal = prof.table.calibration
    print(f"space: MobileNetV2Space(width={args.width}), {len(prof.space)} choices, {prof.space.count():.3g} archs; "
          f"input 1x3x{args.size}x{args.size}")
    print(f"backend {args.backend}, {args.threads} thread(s), clock {args.clock}, {args.repeats} repeats, speed "
          f"reference {'off' if args.no_speed_reference else 'on'}; device {prof.table.meta['device']}")
    print(f"table: {len(prof.units)} units, {len(prof.table.records)} measurements, built in {build_s:.1f} s; "
          f"calibration on {len(cal.measured_ms)} archs: latency = {cal.scale:.3f} * table + {cal.offset_ms:.3f} ms")
    t1 = time.perf_counter()
    acc = validate_table(prof, archs=args.archs, seed=args.seed, repeat=args.repeat_check)
    s = acc.summary()
    t2 = time.perf_counter()
    print(f"{s['archs']} random archs (mean {s['mean_measured_ms']:.3f} ms), measured in {t2 - t1:.1f} s:")
    print(f"  within +-10%: {s['within_10pct']:.1%}   RMSE: {s['rmse_ms']:.3f} ms   worst: {s['worst_rel_error']:+.1%}")
    print(f"  repeatability ({s['repeat_pairs']} archs measured twice): median diff {s['repeat_median_diff']:.1%}, "
          f"max {s['repeat_max_diff']:.1%}, within 5%: {s['repeat_within_5pct']:.0%}")
    t3 = time.perf_counter()
    for smp in prof.space.random(0), prof.space.random(1):
        prof.profile(smp)
    n = 10000
    samples = [prof.space.random(i) for i in range(200)]
    t3 = time.perf_counter()
    for i in range(n):
        prof.profile(samples[i % 200])
    print(f"  profile(sample) lookup: {(time.perf_counter() - t3) / n * 1e6:.1f} us")
    print(json.dumps({**s, "build_s": round(build_s, 1), "scale": cal.scale, "offset_ms": cal.offset_ms}))


if __name__ == "__main__":
    main()
