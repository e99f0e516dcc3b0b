"""The shared measurement protocol: interleaving, speed reference, outlier rejection, stability, calibration.

Every job here is scripted (no real timing), so the figures are exact."""
import warnings

import pytest
import torch

from devprof_testkit import FakeMeasurer, TinySpace
from nas_profiler_device import DeviceProfiler
from nas_profiler_device.errors import MeasurementError
from nas_profiler_device.protocol import (
    MeasurementProtocol,
    UnstableMeasurementError,
    check_stability,
    compare_builds,
    fit_calibration,
    measure_interleaved,
    robust_figure,
)


class ScriptedJob:
    """Returns scripted run times; logs every visit in ``log``."""

    def __init__(self, name, times, log, ref=None, reference_key=None):
        self.name, self.times, self.log, self.ref = name, list(times), log, ref
        self.reference_key = reference_key
        self.warmed = 0

    def warm(self, runs):
        self.warmed += runs

    def visit(self, runs):
        self.log.append(self.name)
        out, self.times = self.times[:runs], self.times[runs:]
        return out, (self.ref.pop(0) if self.ref else None)


def test_a_spike_injected_into_a_kernels_timings_is_rejected():
    times = [1.0, 1.02, 0.98, 1.01, 0.99, 1.0, 1.03, 0.97, 1.0, 1.0]
    spiked = times[:4] + [25.0] + times[5:]
    fig = robust_figure(spiked)
    assert fig.rejected == 1 and fig.kept == 9
    assert fig.ms == pytest.approx(sum(times[:4] + times[5:]) / 9)
    # through the protocol: the spike is in one round of one job; the job's figure ignores it
    log = []
    job = ScriptedJob("k", spiked, log)
    [out] = measure_interleaved([job], MeasurementProtocol(warmup=3, rounds=2, runs_per_round=5))
    assert out.figure.rejected == 1 and out.ms == pytest.approx(fig.ms) and job.warmed == 3
    assert out.ms < 1.05  # the plain mean would be 3.4


def test_jobs_are_visited_round_robin_not_one_type_after_another():
    log = []
    jobs = [ScriptedJob(n, [1.0] * 12, log) for n in "abc"]
    measure_interleaved(jobs, MeasurementProtocol(warmup=0, rounds=4, runs_per_round=3))
    assert len(log) == 12
    for r in range(4):  # every round visits every job once
        assert sorted(log[3 * r:3 * r + 3]) == ["a", "b", "c"]
    assert log[:3] != log[3:6] or log[3:6] != log[6:9]  # a fresh order per round


def test_speed_reference_is_applied_to_every_visit():
    # the machine runs at half speed in round 1: the job and the reference both take twice as long
    log = []
    job = ScriptedJob("k", [2.0, 2.0, 4.0, 4.0], log, ref=[10.0, 20.0], reference_key="r")
    baselines = {"r": 10.0}
    [out] = measure_interleaved([job], MeasurementProtocol(warmup=0, rounds=2, runs_per_round=2,
                                                           reference_window=0), baselines)
    assert out.times_ms == [2.0, 2.0, 2.0, 2.0] and out.halves == (2.0, 2.0)
    assert out.speed == pytest.approx(10.0 / 15.0)
    fresh: dict = {}
    measure_interleaved([ScriptedJob("k", [1.0] * 4, [], ref=[3.0, 5.0], reference_key="r")],
                        MeasurementProtocol(warmup=0, rounds=2, runs_per_round=2), fresh)
    assert fresh == {"r": 4.0}  # a new baseline is the median reference time of the pass


class Machine:
    """A simulated machine: its speed drifts with the visit count; jobs take ``ms`` at speed 1,
    and the reference timed after a visit of a job with ``heavy=True`` is ``slowdown`` slower
    (the machine clocks down after heavy work)."""

    def __init__(self, drift, slowdown=1.0):
        self.drift, self.slowdown, self.visits = drift, slowdown, 0

    def job(self, ms, heavy=False):
        machine = self

        class Job:
            reference_key = "r"

            def warm(self, runs):
                pass

            def visit(self, runs):
                factor = machine.drift(machine.visits)
                machine.visits += 1
                return [ms * factor] * runs, 2.0 * factor * (machine.slowdown if heavy else 1.0)

        return Job()


def test_the_speed_now_follows_a_drifting_machine_whatever_job_ran_last():
    # the machine's speed moves +-25 % in a slow wave; one heavy job makes the reference after
    # it 8 % slower. Every figure comes back at the baseline speed, the heavy job's included.
    import math

    machine = Machine(lambda v: 1.0 + 0.25 * math.sin(v / 40.0), slowdown=1.08)
    jobs = [machine.job(0.1 + 0.01 * i) for i in range(40)] + [machine.job(3.0, heavy=True)]
    figs = measure_interleaved(jobs, MeasurementProtocol(warmup=0, rounds=6, runs_per_round=2), {"r": 2.0})
    for job_ms, fig in zip([0.1 + 0.01 * i for i in range(40)] + [3.0], figs):
        assert fig.ms == pytest.approx(job_ms, rel=0.03)
    # paired with its own visit only (reference_window=0), the heavy job would look 8 % faster
    machine.visits = 0
    jobs = [machine.job(0.1 + 0.01 * i) for i in range(40)] + [machine.job(3.0, heavy=True)]
    paired = measure_interleaved(jobs, MeasurementProtocol(warmup=0, rounds=6, runs_per_round=2,
                                                           reference_window=0), {"r": 2.0})
    assert paired[-1].ms == pytest.approx(3.0 / 1.08, rel=0.001)


def test_calibration_maps_a_synthetic_kernel_sum_back_exactly():
    sums = [3.0, 5.5, 7.25, 9.0, 12.0, 4.2]
    measured = [1.37 * s + 0.42 for s in sums]
    scale, offset = fit_calibration(sums, measured)
    assert scale == pytest.approx(1.37, rel=1e-12) and offset == pytest.approx(0.42, rel=1e-12)
    # one disturbed architecture does not move the robust fit
    scale2, offset2 = fit_calibration(sums + [8.0], measured + [1.37 * 8.0 + 5.0])
    assert scale2 == pytest.approx(1.37, rel=1e-9) and offset2 == pytest.approx(0.42, rel=1e-9)
    # a line that would predict negative latencies for smaller models is nonsense: a ratio instead
    assert fit_calibration([4.0, 4.5, 5.0], [1.0, 4.0, 7.0]) == (pytest.approx(12.0 / 13.5), 0.0)
    with pytest.raises(MeasurementError, match="one measured latency per kernel sum"):
        fit_calibration([1.0, 2.0], [1.0])


def test_stability_check_refuses_two_builds_made_to_disagree():
    a = [1.0 + 0.1 * i for i in range(40)]
    agree = compare_builds(a, [v * 1.01 for v in a])
    assert agree.stable and agree.max_diff == pytest.approx(0.00995, rel=1e-3)
    check_stability(agree, "x")  # nothing raised
    disagree = compare_builds(a, [v * (1.12 if i % 2 else 0.97) for i, v in enumerate(a)])
    assert not disagree.stable and disagree.share_within == pytest.approx(0.5)
    with pytest.raises(UnstableMeasurementError, match="not reproducible.*Stop other work.*more rounds"):
        check_stability(disagree, "the predictor")
    with pytest.warns(RuntimeWarning, match="not reproducible"):
        check_stability(disagree, "the predictor", on_unstable="warn")
    with pytest.raises(MeasurementError, match="on_unstable must be"):
        check_stability(disagree, "x", on_unstable="maybe")


def test_protocol_options_are_checked():
    with pytest.raises(MeasurementError, match="rounds must be an integer >= 2"):
        MeasurementProtocol(rounds=1)
    with pytest.raises(MeasurementError, match="runs_per_round"):
        MeasurementProtocol(runs_per_round=0)
    with pytest.raises(MeasurementError, match="repeats must be an integer >= 2"):
        MeasurementProtocol.for_repeats(1)
    p = MeasurementProtocol.for_repeats(30, warmup=2)
    assert (p.rounds, p.runs_per_round, p.warmup) == (6, 5, 2)


class DriftingMeasurer(FakeMeasurer):
    """FakeMeasurer on a machine slowing down by 2 % per measurement (and no speed reference)."""

    def measure(self, module, inputs):
        m = super().measure(module, inputs)
        m.median_ms *= 1.0 + 0.02 * self.calls
        return m


def test_device_profiler_refuses_an_unstable_table(tmp_path):
    x = torch.zeros(1, 3, 8, 8)
    with pytest.raises(UnstableMeasurementError, match="the latency table is not reproducible"):
        DeviceProfiler(TinySpace(), x, cache_dir=tmp_path, progress=False, measurer=DriftingMeasurer(), calibration=4)
    assert not list(tmp_path.glob("lut-*.json"))  # nothing silently-off was written
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prof = DeviceProfiler(TinySpace(), x, cache_dir=tmp_path, progress=False, measurer=DriftingMeasurer(),
                              calibration=4, on_unstable="warn")
    assert any("not reproducible" in str(w.message) for w in caught)
    assert prof.table.meta["stability"]["stable"] is False
    stable = DeviceProfiler(TinySpace(), x, cache_dir=tmp_path / "ok", progress=False, measurer=FakeMeasurer(),
                            calibration=4)
    assert stable.table.meta["stability"]["stable"] is True and stable.table.meta["stability"]["max_diff"] == 0.0


def test_local_jobs_run_the_reference_after_every_visit():
    from nas_profiler_device.jobs import LocalJob
    from nas_profiler_device.reference import SpeedReference

    ref = SpeedReference(torch.nn.Linear(8, 8), [torch.zeros(1, 8)])
    jobs = [LocalJob(torch.nn.Linear(8, n), [torch.zeros(1, 8)], backend=backend, reference=ref)
            for n, backend in ((4, "eager"), (16, "onnxruntime"))]
    assert jobs[0].reference_key == "eager/1/wall" and jobs[1].reference_key == "onnxruntime/1/wall"
    figs = measure_interleaved(jobs, MeasurementProtocol(warmup=1, rounds=2, runs_per_round=3), ref.baselines)
    assert set(ref.baselines) == {"eager/1/wall", "onnxruntime/1/wall"}
    assert all(f.ms > 0 and f.speed is not None and len(f.times_ms) == 6 for f in figs)
    with pytest.raises(MeasurementError, match="failed to run"):
        LocalJob(torch.nn.Linear(8, 4), [torch.zeros(1, 5)], backend="eager")
