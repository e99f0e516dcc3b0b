"""What the NNI-compatibility features cost, each against its peer measured in the same run.

1. Second-order DARTS (``unrolled=True``) against first-order: seconds per search epoch on
   the digits one-shot space (same data, same seed), and the ratio.
2. The penalty estimator on a profiler without ``expectation``: profile calls and seconds to
   build it (probing + exact table), seconds per ``expectation`` call against the exact
   FLOPs expectation, and the score-function estimate's relative error (mean and spread over
   repeats, 16 samples per call).
3. The ``script`` trainer: seconds per trial of a script that imports nas_core, against the
   same work done in-process (the subprocess start is the overhead).

Run: ``nice python benchmarks/migration_costs.py [darts] [estimator] [script]``. Figures depend on the machine's load,
printed first.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from nas_core import Profiler
from nas_core.oneshot import Supernet
from nas_core.oneshot.estimator import EstimatedExpectationProfiler
from nas_core.oneshot.testing import DigitsOneShotSpace, MacsProfiler
from nas_core.threads import torch_threads
from nas_strategy_darts import DARTS
from nas_trainer_classification import ClassificationTrainer
from nas_trainer_script import ScriptTrainer


class ProfileOnly(Profiler):
    unit = "MACs"

    def __init__(self, exact):
        self.exact, self.calls = exact, 0

    def profile(self, sample):
        self.calls += 1
        return self.exact.profile(sample)


def darts_epochs(repeats: int = 3) -> None:
    trainer = ClassificationTrainer(dataset="digits", batch_size=64, lr=0.005, seed=0)
    times = {False: [], True: []}
    for _ in range(repeats):
        for unrolled in (False, True):
            strategy = DARTS(epochs=1, unrolled=unrolled, seed=0, arch_fraction=0.5)
            t0 = time.perf_counter()
            strategy.fit(DigitsOneShotSpace(), trainer)
            times[unrolled].append(time.perf_counter() - t0)
    first, second = statistics.median(times[False]), statistics.median(times[True])
    print(f"DARTS epoch on digits (median of {repeats}): first-order {first:.2f} s "
          f"[{min(times[False]):.2f}..{max(times[False]):.2f}], second-order {second:.2f} s "
          f"[{min(times[True]):.2f}..{max(times[True]):.2f}], ratio {second / first:.2f}x")


def estimator(repeats: int = 50) -> None:
    space = DigitsOneShotSpace()
    macs = MacsProfiler(space, torch.zeros(1, 1, 8, 8))
    lookup = ProfileOnly(macs)
    t0 = time.perf_counter()
    est = EstimatedExpectationProfiler(lookup, space)
    build = time.perf_counter() - t0
    sn = Supernet(space)
    with torch.no_grad():
        for p in sn.arch_parameters():
            p.copy_(torch.randn(len(p), generator=torch.Generator().manual_seed(0)))
    probs = {k: v.detach() for k, v in sn.arch.probs().items()}

    def per_call(fn, n=200):
        t0 = time.perf_counter()
        for _ in range(n):
            fn(probs)
        return (time.perf_counter() - t0) / n

    exact_s, table_s = per_call(macs.expectation), per_call(est.expectation)
    sf = EstimatedExpectationProfiler(lookup, space, max_enumerate=1, num_samples=16, seed=1)
    sf_s = per_call(sf.expectation, 50)
    truth = float(macs.expectation(probs))
    errors = [(float(sf.expectation(probs)) - truth) / truth for _ in range(repeats)]
    print(f"estimator build on digits space: {lookup.calls} profile calls, {build:.3f} s, labels {est.labels}, "
          f"{est.combinations} combinations (exact)")
    print(f"expectation per call: exact FLOPs {exact_s * 1e3:.3f} ms, enumerated table {table_s * 1e3:.3f} ms "
          f"({table_s / exact_s:.2f}x), score-function x16 {sf_s * 1e3:.3f} ms")
    print(f"score-function estimate (16 samples) relative error over {repeats} calls: mean {statistics.mean(errors):+.3f}, "
          f"sd {statistics.stdev(errors):.3f}")


SCRIPT = """
import nas_core.trial as nni
nni.report_final_result(0.5)
"""


def script_trainer(repeats: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "t.py").write_text(SCRIPT)
        trainer = ScriptTrainer("python t.py", cwd=tmp)
        times, bare = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            trainer.run({"width": 4})
            times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import nas_core.trial"], check=True)
            bare.append(time.perf_counter() - t0)
    t, b = statistics.median(times), statistics.median(bare)
    print(f"script trainer: {t:.2f} s per trial [{min(times):.2f}..{max(times):.2f}] for a script that imports "
          f"nas_core and reports; a bare `python -c 'import nas_core.trial'` takes {b:.2f} s "
          f"[{min(bare):.2f}..{max(bare):.2f}]: ratio {t / b:.2f}x (the rest is the trainer's own work)")


if __name__ == "__main__":
    parts = sys.argv[1:] or ["darts", "estimator", "script"]
    print(f"load average: {os.getloadavg()}  (2 CPU cores shared with other work)")
    with torch_threads(1):
        if "darts" in parts:
            darts_epochs()
        if "estimator" in parts:
            estimator()
    if "script" in parts:
        script_trainer()
    sys.exit(0)
