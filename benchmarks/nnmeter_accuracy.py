"""nn-Meter predictors built for this CPU, three builds, vs measured end-to-end latency (and the lookup table).

1. Lists every nn-Meter kernel the MobileNetV2-style space of the on-device profiler can
   contain (``space_kernels``) plus a random spread of extra kernels, and builds an nn-Meter
   predictor ``--builds`` times (default 3) with the shared measurement protocol (interleaved
   rounds, speed reference, outliers rejected), calibrated on whole architectures of the
   space, each build checked for stability (split halves).
2. Measures ``--archs`` random architectures end to end (interleaved), raw and at each
   build's reference speed (what raw measurements average to while the machine's speed
   drifts; on the development VM it moved +-25 % from one second to the next).
3. Prints, per build and for the device lookup table with and without its speed reference:
   the share within +-10 %, the RMSE, the worst case, mean predicted/measured and Kendall's
   tau; the build-to-build spread; and the load average at the time.

    .venv/bin/python benchmarks/nnmeter_accuracy.py            # the acceptance run (quiet machine, ~30-60 min)
    nice -n 10 .venv/bin/python benchmarks/nnmeter_accuracy.py --quick   # does it work? (small, noisy figures)
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from latency_kit import build_spread, compare, load_average, measure_truth, reference_units_spread
from nas_core import search_space
from nas_profiler_device.example_space import MobileNetV2Space
from nas_profiler_device.reference import SpeedReference
from nas_profiler_nnmeter import NnMeterProfiler, build_predictor
from nas_profiler_nnmeter.builder import default_kernel_configs, kernel_configs_from_kernels
from nas_profiler_nnmeter.profiler import space_kernels

QUICK = {"archs": 12, "builds": 2, "size": 48, "repeats": 6, "truth_repeats": 10, "extra_kernels": 2, "calibration_archs": 6,
         "lut_calibration": 6}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=100)
    ap.add_argument("--builds", type=int, default=3)
    ap.add_argument("--size", type=int, default=96)
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--clock", default="wall", choices=["wall", "cpu"])
    ap.add_argument("--repeats", type=int, default=30, help="timed runs per kernel/model (over 6 interleaved rounds)")
    ap.add_argument("--extra-kernels", type=int, default=10, help="random extra configurations per kernel type")
    ap.add_argument("--calibration-archs", type=int, default=20, help="whole architectures the predictor is calibrated on")
    ap.add_argument("--lut-calibration", type=int, default=30)
    ap.add_argument("--no-lut", action="store_true", help="skip the device lookup-table comparison")
    ap.add_argument("--folder", default=None, help="where to write the predictors (default: a temporary folder)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--truth-repeats", type=int, default=None,
                    help="timed runs per architecture for the end-to-end measurements the predictions are checked "
                         "against (default: --repeats)")
    ap.add_argument("--quick", action="store_true", help=f"a small smoke run: {QUICK}")
    args = ap.parse_args()
    if args.quick:
        for k, v in QUICK.items():
            setattr(args, k, v)
    args.truth_repeats = args.truth_repeats or args.repeats

    print(f"start: {load_average()}")
    model = MobileNetV2Space(width=args.width)
    x = torch.zeros(1, 3, args.size, args.size)
    space = search_space(model)
    root = Path(args.folder or tempfile.mkdtemp(prefix="nnmeter-cpu-"))
    configs = kernel_configs_from_kernels(space_kernels(model, x))
    configs += default_kernel_configs(n_per_kernel=args.extra_kernels, seed=args.seed)
    print(f"space: MobileNetV2Space(width={args.width}), {len(space.choices)} choices; input 1x3x{args.size}x{args.size}; "
          f"ONNX Runtime, {args.threads} thread(s), clock {args.clock}, {args.repeats} runs per kernel; "
          f"{len(configs)} kernels, {args.calibration_archs} calibration archs")
    samples = [space.random(seed=args.seed * 100_000 + i) for i in range(args.archs)]

    builds = []
    for b in range(args.builds):
        t0 = time.perf_counter()
        folder = root / f"build{b}"
        reference = SpeedReference(space.freeze(space.default()).eval(), [x])  # the builder's default, kept
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            build_predictor(folder, configs, repeats=args.repeats, warmup=5, threads=args.threads, clock=args.clock,
                            calibrate_on=(model, x), calibration_archs=args.calibration_archs, on_unstable="warn",
                            seed=args.seed + b, reference=reference)
        meta = json.loads((folder / "metadata.json").read_text())
        prof = NnMeterProfiler(model, x, predictor=folder)
        builds.append({"pred": prof.profile_batch(samples), "build_s": time.perf_counter() - t0,
                       "stability": meta["stability"], "calibration": meta["calibration"],
                       "load": meta["environment"]["load_average"], "reference": reference})
        print(f"build {b}: {builds[-1]['build_s']:.0f} s, load {builds[-1]['load']}, calibration "
              f"{meta['calibration']['scale']:.3f} * sum + {meta['calibration']['offset_ms']:.3f} ms; stability: "
              f"{'OK' if meta['stability']['stable'] else 'UNSTABLE'}, halves within 5 % on "
              f"{meta['stability']['share_within']:.0%} (largest {meta['stability']['max_diff']:.1%})", flush=True)

    luts = {}
    if not args.no_lut:
        from nas_profiler_device import DeviceProfiler

        for ref in (True, False):
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                lut = DeviceProfiler(model, x, backend="onnxruntime", threads=args.threads, clock=args.clock,
                                     repeats=args.repeats, calibration=args.lut_calibration, progress=False,
                                     cache_dir=tempfile.mkdtemp(prefix="nas-lut-"), speed_reference=ref,
                                     on_unstable="warn")
            luts[ref] = (lut.profile_batch(samples), lut.table.meta["stability"], lut.measurer.reference)
            print(f"lookup table (speed reference {'on' if ref else 'off'}) built in {time.perf_counter() - t0:.0f} s; "
                  f"stability {'OK' if luts[ref][1]['stable'] else 'UNSTABLE'}", flush=True)

    t0 = time.perf_counter()
    raw = measure_truth(space, samples, x, args.threads, args.clock, args.truth_repeats)
    print(f"{len(samples)} random architectures measured end to end, raw, in {time.perf_counter() - t0:.0f} s (mean "
          f"{np.mean(raw):.3f} ms, range {min(raw):.3f}-{max(raw):.3f} ms); {load_average()}")
    results: dict = {}

    def at_speed(reference: SpeedReference | None) -> list[float] | None:  # at the speed the predictor was built at
        return None if reference is None else measure_truth(space, samples, x, args.threads, args.clock, args.truth_repeats,
                                                            reference)

    for b, build in enumerate(builds):
        compare(results, "builds", f"nn-Meter predictor, build {b}", build["pred"], raw, at_speed(build["reference"]))
    spread = results["build_spread"] = build_spread([b["pred"] for b in builds])
    print(f"  nn-Meter build-to-build spread per arch: median {spread['median']:.1%}, largest {spread['max']:.1%}")
    rel = results["build_spread_reference_units"] = reference_units_spread([b["pred"] for b in builds],
                                                                           [b["reference"] for b in builds])
    print(f"  the same in units of each build's reference time: median {rel['median']:.1%}, largest {rel['max']:.1%}")
    for ref, (pred, _, reference) in luts.items():
        compare(results, f"lut_reference_{'on' if ref else 'off'}", f"lookup table, speed reference {'on' if ref else 'off'}",
                pred, raw, at_speed(reference))
    results["load_end"] = load_average()
    print(f"end: {load_average()}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
