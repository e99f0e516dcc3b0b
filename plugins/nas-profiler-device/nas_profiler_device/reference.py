"""Speed reference: a fixed network timed after every run of the measured model.

A device's speed drifts while a table is built and a search runs: a phone throttles when
it warms up, a cloud VM slows down when its neighbours get busy (on the 2-core VM this
plugin was developed on, one model's median over 2-second windows moved by 11 % within
40 s, the machine otherwise idle). Each run of the measured model is followed by a run of
the reference; the figure reported is ``run / reference run`` times the reference's
baseline (its median in the first measurement that used it). Speed changes slower than
one run cancel out, so figures taken minutes apart, and a table built before a search,
stay comparable. The reference should be like the models measured: DeviceProfiler uses
the space's default architecture (with a generic small network, the correction added as
much noise as it removed).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch
from torch import nn

from nas_profiler_device.errors import MeasurementError
from nas_profiler_device.onnx_backend import export_onnx, ort_feeds, ort_session

__all__ = ["SpeedReference"]


@dataclass
class SpeedReference:
    """A reference network (a module and its inputs, or an ONNX model) and its baselines.

    ``baselines``: the reference's median latency per :meth:`key` (backend, threads,
    clock), set by the first measurement that uses that key; a stored latency table keeps
    them, so later figures are at the same speed. A device agent gets the reference as
    ONNX from the client, so both sides time the same network.
    """

    module: nn.Module | None = None
    inputs: Sequence[torch.Tensor] = ()
    onnx: bytes | None = None
    baselines: dict[str, float] = field(default_factory=dict)
    _runners: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.module is None and self.onnx is None:
            raise MeasurementError("a SpeedReference needs a module (with its inputs) or an ONNX model.")

    @staticmethod
    def key(backend: str, threads: int, clock: str) -> str:
        return f"{backend}/{threads}/{clock}"

    def onnx_model(self) -> bytes:
        if self.onnx is None:
            self.onnx = export_onnx(self.module, list(self.inputs))
        return self.onnx

    def runner(self, backend: str, threads: int) -> Callable[[], Any]:
        """A no-argument callable running the reference once on ``backend`` (cached per backend and threads).

        Eager and TorchScript runners are called inside the measurement's
        ``torch_threads``/``inference_mode`` block, like the measured model.
        """
        key = (backend, threads)
        if key not in self._runners:
            if backend == "onnxruntime":
                session = ort_session(self.onnx_model(), threads)
                feeds = ort_feeds(session, [list(t.shape) for t in self.inputs] if self.module is not None
                                   else [[int(d) for d in i.shape] for i in session.get_inputs()])
                self._runners[key] = lambda: session.run(None, feeds)
            else:
                if self.module is None:
                    raise MeasurementError("an ONNX speed reference runs on backend='onnxruntime' only; pass the "
                                           "module (with its inputs) to time it on eager or torchscript.")
                net, xs = self.module.eval(), tuple(self.inputs)
                if backend == "torchscript":
                    net = torch.jit.optimize_for_inference(torch.jit.trace(net, xs))
                self._runners[key] = lambda: net(*xs)
        return self._runners[key]
