"""Latency lookup table vs measured end-to-end latency on this machine's CPU, build after build.

Builds a DeviceProfiler table ``--builds`` times (default 3) for a MobileNetV2-style space
(every block: kernel 3/5/7 x expansion 3/6, or skip) with the shared measurement protocol,
then measures ``--archs`` random architectures end to end (interleaved), raw and at each
build's reference speed (the speed reference's figure: what raw measurements average to
while the machine's speed drifts), and prints, per build and against both: the share within +-10 %, the RMSE, the worst case, mean
predicted/measured, Kendall's tau, the build's own split-half stability check; then the
build-to-build spread and the load average at the time.

    .venv/bin/python benchmarks/device_latency.py            # the acceptance run (quiet machine)
    nice -n 10 .venv/bin/python benchmarks/device_latency.py --quick   # does it work? (small, noisy figures)
    .venv/bin/python benchmarks/device_latency.py --no-speed-reference  # raw figures, for comparison
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings

import numpy as np
import torch

from latency_kit import accuracy, build_spread, compare, line, load_average, measure_truth, reference_units_spread
from nas_profiler_device import DeviceProfiler
from nas_profiler_device.example_space import MobileNetV2Space

QUICK = {"archs": 12, "builds": 2, "size": 48, "repeats": 6, "truth_repeats": 10, "calibration": 6}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=100)
    ap.add_argument("--builds", type=int, default=3)
    ap.add_argument("--size", type=int, default=96, help="input resolution (square)")
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--backend", default="onnxruntime", choices=["eager", "torchscript", "onnxruntime"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--clock", default="wall", choices=["wall", "cpu"],
                    help="cpu: thread CPU time (steady on a shared machine); wall: elapsed time")
    ap.add_argument("--repeats", type=int, default=30, help="timed runs per block (over 6 interleaved rounds)")
    ap.add_argument("--calibration", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--truth-repeats", type=int, default=None,
                    help="timed runs per architecture for the end-to-end measurements the predictions are checked "
                         "against (default: --repeats)")
    ap.add_argument("--no-speed-reference", action="store_true",
                    help="report raw figures (no correction for the machine's speed drifting)")
    ap.add_argument("--quick", action="store_true", help=f"a small smoke run: {QUICK}")
    args = ap.parse_args()
    if args.quick:
        for k, v in QUICK.items():
            setattr(args, k, v)
    args.truth_repeats = args.truth_repeats or args.repeats

    print(f"start: {load_average()}")
    model = MobileNetV2Space(width=args.width)
    x = torch.zeros(1, 3, args.size, args.size)
    preds, profs = [], []
    for b in range(args.builds):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prof = DeviceProfiler(model, x, backend=args.backend, threads=args.threads, clock=args.clock,
                                  repeats=args.repeats, calibration=args.calibration, seed=args.seed + b,
                                  cache_dir=tempfile.mkdtemp(prefix="nas-latency-"), progress=False,
                                  speed_reference=not args.no_speed_reference, on_unstable="warn")
        cal, st = prof.table.calibration, prof.table.meta["stability"]
        if b == 0:
            print(f"space: MobileNetV2Space(width={args.width}), {len(prof.space)} choices, {prof.space.count():.3g} "
                  f"archs; input 1x3x{args.size}x{args.size}; backend {args.backend}, {args.threads} thread(s), clock "
                  f"{args.clock}, {args.repeats} runs per block ({args.truth_repeats} per measured architecture), speed reference "
                  f"{'off' if args.no_speed_reference else 'on'}; device {prof.table.meta['device']}")
        print(f"build {b}: {len(prof.units)} units, {len(prof.table.records)} measurements, "
              f"{time.perf_counter() - t0:.0f} s; calibration {cal.scale:.3f} * table + {cal.offset_ms:.3f} ms on "
              f"{len(cal.measured_ms)} archs; stability {'OK' if st['stable'] else 'UNSTABLE'} (halves within 5 % on "
              f"{st['share_within']:.0%}, largest {st['max_diff']:.1%}); {load_average()}", flush=True)
        samples = [prof.space.random(seed=args.seed * 100_000 + i) for i in range(args.archs)]
        preds.append(prof.profile_batch(samples))
        profs.append(prof)
    t0 = time.perf_counter()
    raw = measure_truth(profs[0].space, samples, x, args.threads, args.clock, args.truth_repeats)
    print(f"{len(samples)} random architectures measured end to end, raw, in {time.perf_counter() - t0:.0f} s (mean "
          f"{np.mean(raw):.3f} ms, range {min(raw):.3f}-{max(raw):.3f} ms); {load_average()}")
    results: dict = {"speed_reference": not args.no_speed_reference}
    again = measure_truth(profs[0].space, samples, x, args.threads, args.clock, args.truth_repeats)
    results["raw_repeatability"] = accuracy(again, raw)
    print(line("raw measurement, taken again", results["raw_repeatability"]) + "   (the truth's own noise)")
    for b, (pred, prof) in enumerate(zip(preds, profs)):
        ref = prof.measurer.reference
        at_speed = None
        if ref is not None:  # the same architectures at the speed this build's table was measured at
            at_speed = measure_truth(prof.space, samples, x, args.threads, args.clock, args.truth_repeats, ref)
            if b == 0:
                at_speed_again = measure_truth(prof.space, samples, x, args.threads, args.clock, args.truth_repeats, ref)
                results["reference_speed_repeatability"] = accuracy(at_speed_again, at_speed)
                print(line("at reference speed, taken again", results["reference_speed_repeatability"])
                      + "   (the truth's own noise)")
        compare(results, "builds", f"lookup table, build {b}", pred, raw, at_speed)
    spread = results["build_spread"] = build_spread(preds)
    print(f"  build-to-build spread per arch: median {spread['median']:.1%}, largest {spread['max']:.1%}")
    if not args.no_speed_reference:
        rel = results["build_spread_reference_units"] = reference_units_spread(
            preds, [prof.measurer.reference for prof in profs])
        print(f"  the same in units of each build's reference time: median {rel['median']:.1%}, largest "
              f"{rel['max']:.1%}")
    n, smp = 10000, samples[:min(len(samples), 50)]
    t0 = time.perf_counter()
    for i in range(n):
        profs[0].profile(smp[i % len(smp)])
    results["lookup_us"] = (time.perf_counter() - t0) / n * 1e6
    print(f"  profile(sample) lookup: {results['lookup_us']:.1f} us")
    results["load_end"] = load_average()
    print(f"end: {load_average()}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
