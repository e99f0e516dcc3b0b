"""Benchmark: FlopsProfiler construction and profile(sample) time, beside NNI 3.0's.

Spaces: a ProxylessNAS space and a MobileNetV3 (TuNAS) space, both written to mirror
NNI 3.0's hub spaces (``nni.nas.hub.pytorch.ProxylessNAS`` and ``MobileNetV3Space``:
same widths, strides, stage depths, per-block choices and labels) at 224x224.

NNI runs in a side environment (``.venv-nni`` beside this repository, with ``nni==3.0``
and ``torch==2.13.0``): this script writes a small script and runs it there as a
subprocess. Without that environment, only our figures are printed.

    .venv/bin/python benchmarks/profilers.py [--samples 2000] [--no-nni]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch
from torch import nn

import nas_core.nn as nnn
from nas_core import search_space
from nas_core.space import LayerChoice, ModelSpace, Repeat, ValueChoice
from nas_profiler_flops import FlopsProfiler
from nas_profiler_params import NumParamsProfiler
from nas_shapes_mobile import ConvBNAct, InvertedResidual, make_divisible

ROOT = Path(__file__).resolve().parent.parent
NNI_PYTHON = ROOT / ".venv-nni" / "bin" / "python"


class ProxylessNAS(ModelSpace):
    """Mirror of NNI 3.0's ProxylessNAS: stages 2-6 Repeat (1, 4) of a 6-way LayerChoice k{3,5,7} x e{3,6}."""

    def __init__(self, num_labels: int = 1000, base_widths=(32, 16, 32, 40, 80, 96, 192, 320, 1280)):
        super().__init__()
        widths = [make_divisible(w, 8) for w in base_widths]
        downsamples = [True, False, True, True, True, False, True, False]
        self.stem = ConvBNAct(3, widths[0], 3, stride=2, activation=nn.ReLU6)
        blocks: list[nn.Module] = [InvertedResidual(widths[0], widths[1], 1, expand_ratio=1, kernel_size=3)]
        for stage in range(2, 8):
            def builder(idx, stage=stage):
                stride = 2 if (idx == 0 and downsamples[stage]) else 1
                inp = widths[stage - 1] if idx == 0 else widths[stage]
                ops = {f"k{k}e{e}": InvertedResidual(inp, widths[stage], stride, expand_ratio=e, kernel_size=k)
                       for e in (3, 6) for k in (3, 5, 7)}
                return LayerChoice(ops, label=f"s{stage}_i{idx}")
            blocks.append(Repeat(builder, (1, 4), label=f"s{stage}_depth") if stage < 7 else builder(0))
        self.blocks = nn.Sequential(*blocks)
        self.feature_mix_layer = ConvBNAct(widths[7], widths[8], 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(widths[8], num_labels)

    def forward(self, x):
        x = self.pool(self.feature_mix_layer(self.blocks(self.stem(x))))
        return self.classifier(x.view(x.size(0), -1))


class MobileNetV3Space(ModelSpace):
    """Mirror of NNI 3.0's MobileNetV3Space (TuNAS): width multipliers per stage, stem kernel, per-block
    kernel {3,5,7} x expansion {1..6}, optional squeeze-excite in stages 2, 4, 5, depth (1, 4) per stage."""

    def __init__(self, num_labels: int = 1000, base_widths=(16, 16, 16, 32, 64, 128, 256, 512, 1024),
                 width_multipliers=(0.5, 0.625, 0.75, 1.0, 1.25, 1.5, 2.0), expand_ratios=(1, 2, 3, 4, 5, 6),
                 squeeze_excite=("none", "none", "optional", "none", "optional", "optional"),
                 stride=(2, 1, 2, 2, 2, 1, 2, 1, 1),
                 activation=("hswish", "relu", "relu", "relu", "hswish", "hswish", "hswish", "hswish", "hswish")):
        super().__init__()
        act = {"hswish": nn.Hardswish, "relu": nn.ReLU}
        mults = {}

        def width(i):
            label = f"s{max(i - 1, 0)}_width_mult"
            if label not in mults:
                mults[label] = ValueChoice(list(width_multipliers), label=label)
            return (mults[label] * base_widths[i]).map(lambda v: make_divisible(v, 8))

        widths = [width(i) for i in range(len(base_widths))]
        self.stem = ConvBNAct(3, widths[0], ValueChoice([3, 5], label="stem_ks"), stride=stride[0],
                              activation=act[activation[0]])
        blocks: list[nn.Module] = [InvertedResidual(widths[0], widths[1], stride[1], expand_ratio=1,
                                                    kernel_size=ValueChoice([3, 5, 7], label="s0_i0_ks"),
                                                    activation=act[activation[1]], residual=True)]
        n = len(base_widths) - 1
        for i in range(1, n - 2):
            def builder(idx, i=i):
                se = squeeze_excite[i]
                return InvertedResidual(
                    widths[i] if idx == 0 else widths[i + 1], widths[i + 1], stride[i + 1] if idx == 0 else 1,
                    expand_ratio=ValueChoice(list(expand_ratios), label=f"s{i}_i{idx}_exp"),
                    kernel_size=ValueChoice([3, 5, 7], label=f"s{i}_i{idx}_ks"), divisor=8,
                    se_ratio=0.25 if se != "none" else None, se_label=f"s{i}_i{idx}_se" if se == "optional" else None,
                    activation=act[activation[i + 1]], residual=(idx > 0))
            blocks.append(Repeat(builder, (1, 4), label=f"s{i}_depth"))
        blocks += [ConvBNAct(widths[n - 2], widths[n - 1], 1, activation=act[activation[n - 1]]),
                   nn.AdaptiveAvgPool2d(1),
                   nn.Sequential(nnn.Conv2d(widths[n - 1], widths[n], 1), act[activation[n]]())]
        self.blocks = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nnn.Linear(widths[n], num_labels))

    def forward(self, x):
        return self.classifier(torch.flatten(self.blocks(self.stem(x)), 1))


NNI_SCRIPT = r'''
import json, statistics, sys, time, warnings, logging
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
import torch
from nni.nas.profiler.pytorch.flops import FlopsProfiler
from nni.nas.hub.pytorch import ProxylessNAS, MobileNetV3Space
n = int(sys.argv[1])
out = {}
for name, cls, reps in (("proxyless", ProxylessNAS, n), ("mobilenetv3", MobileNetV3Space, max(5, n // 100))):
    torch.manual_seed(0)
    model = cls()
    x = torch.randn(1, 3, 224, 224)
    t = time.perf_counter(); prof = FlopsProfiler(model, x); build = time.perf_counter() - t
    leaves = model.simplify()  # label -> leaf mutable (a Categorical); its random() draws a value
    rng = __import__("numpy").random.RandomState(0)
    samples = [{k: m.random(random_state=rng) for k, m in leaves.items()} for _ in range(reps)]
    times = []
    for s in samples:
        t = time.perf_counter_ns(); prof.profile(s); times.append(time.perf_counter_ns() - t)
    out[name] = {"construct_s": build, "profile_us": statistics.median(times) / 1e3, "samples": reps}
print(json.dumps(out))
'''


def _median_profile_us(profiler, samples) -> float:
    for s in samples[:50]:
        profiler.profile(s)
    times = []
    for s in samples:
        t = time.perf_counter_ns()
        profiler.profile(s)
        times.append(time.perf_counter_ns() - t)
    return statistics.median(times) / 1e3


def ours(n: int) -> dict:
    out = {}
    x = torch.randn(1, 3, 224, 224)
    for name, cls in (("proxyless", ProxylessNAS), ("mobilenetv3", MobileNetV3Space)):
        torch.manual_seed(0)
        model = cls()
        space = search_space(model)
        t = time.perf_counter()
        flops = FlopsProfiler(model, x)
        build = time.perf_counter() - t
        t = time.perf_counter()
        params = NumParamsProfiler(model)
        build_params = time.perf_counter() - t
        samples = [space.random(i) for i in range(n)]
        t = time.perf_counter()
        flops.profile_batch(samples)
        batch_us = (time.perf_counter() - t) / n * 1e6
        out[name] = {"construct_s": build, "profile_us": _median_profile_us(flops, samples),
                     "params_construct_s": build_params, "params_profile_us": _median_profile_us(params, samples),
                     "batch_us_per_sample": batch_us, "choices": len(space.choices), "tables": len(flops.cost_model.groups),
                     "example_macs": flops.profile(samples[0])}
    return out


def nni(n: int) -> dict | None:
    if not NNI_PYTHON.exists():
        print(f"(NNI side environment {NNI_PYTHON} not found: create it with "
              "`python3 -m venv .venv-nni && .venv-nni/bin/pip install torch==2.13.0 nni==3.0 pytorch_lightning`)")
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(NNI_SCRIPT)
    try:
        proc = subprocess.run([str(NNI_PYTHON), f.name, str(n)], capture_output=True, text=True, timeout=1800)
    finally:
        os.unlink(f.name)
    if proc.returncode != 0:
        print("NNI run failed:\n" + proc.stderr[-3000:])
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--no-nni", action="store_true")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
          f"{args.samples} random samples per space, input 1x3x224x224")
    mine = ours(args.samples)
    theirs = None if args.no_nni else nni(args.samples)
    for name, r in mine.items():
        print(f"\n{name}: {r['choices']} choices, {r['tables']} cost tables, e.g. {r['example_macs'] / 1e6:.1f}M MACs")
        print(f"  nas-core FlopsProfiler:  construct {r['construct_s']:.2f} s, profile median {r['profile_us']:.2f} us, "
              f"profile_batch {r['batch_us_per_sample']:.2f} us/sample")
        print(f"  nas-core NumParams:      construct {r['params_construct_s']:.2f} s, profile median "
              f"{r['params_profile_us']:.2f} us")
        if theirs and name in theirs:
            t = theirs[name]
            print(f"  NNI 3.0 FlopsProfiler:   construct {t['construct_s']:.2f} s, profile median {t['profile_us']:.2f} us "
                  f"(median of {t['samples']})")
            print(f"  ratio (NNI / nas-core):  profile {t['profile_us'] / r['profile_us']:.1f}x, "
                  f"construct {t['construct_s'] / r['construct_s']:.1f}x")


if __name__ == "__main__":
    sys.exit(main())
