"""The ONNX side of a measurement: inputs as tensors, export to ONNX, and ONNX Runtime sessions.

:mod:`nas_profiler_device.measure` times what these build; :mod:`nas_profiler_device.reference`
runs its speed reference on them. Neither imports the other for these.
"""
from __future__ import annotations

import contextlib
import io
from typing import Any, Iterator

import numpy as np
import torch
from torch import nn

from nas_profiler_device.errors import MeasurementError

__all__ = ["Inputs", "as_tensors", "export_onnx", "ort_session", "ort_feeds", "warnings_quiet"]

Inputs = Any  # a Tensor, a shape (tuple of ints), or a sequence of them


def _is_shape(x: Any) -> bool:
    return isinstance(x, (tuple, list, torch.Size)) and len(x) > 0 and all(
        isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in x)


def as_tensors(inputs: Inputs, seed: int = 0) -> list[torch.Tensor]:
    """Inputs as a list of tensors: tensors pass through, shapes become seeded random tensors."""
    if isinstance(inputs, torch.Tensor) or _is_shape(inputs):
        inputs = [inputs]
    if isinstance(inputs, np.ndarray):
        inputs = [torch.from_numpy(inputs)]
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise MeasurementError(
            f"inputs must be a tensor, a shape such as (1, 3, 64, 64), or a list of them; got {type(inputs).__name__}: "
            f"{inputs!r}.")
    gen = torch.Generator().manual_seed(seed)
    out = []
    for x in inputs:
        if isinstance(x, torch.Tensor):
            out.append(x.detach())
        elif isinstance(x, np.ndarray):
            out.append(torch.from_numpy(x))
        elif _is_shape(x):
            if any(int(d) <= 0 for d in x):
                raise MeasurementError(f"input shape {list(x)} has a non-positive dimension; every size must be >= 1.")
            out.append(torch.randn(*[int(d) for d in x], generator=gen))
        else:
            raise MeasurementError(f"each input must be a tensor or a shape (tuple of ints), got {x!r}.")
    return out


def export_onnx(module: nn.Module, inputs: Inputs, opset: int = 17) -> bytes:
    """The ONNX model of ``module`` on ``inputs`` (TorchScript-based exporter, static shapes)."""
    tensors = as_tensors(inputs)
    buf = io.BytesIO()
    module = module.eval()
    try:
        with torch.no_grad(), warnings_quiet():
            torch.onnx.export(module, tuple(tensors), buf, input_names=[f"input{i}" for i in range(len(tensors))],
                              opset_version=opset, dynamo=False, do_constant_folding=True)
    except Exception as err:  # noqa: BLE001 - any exporter failure is reported with the module
        raise MeasurementError(
            f"exporting {type(module).__name__} to ONNX failed ({type(err).__name__}: {err}). Use backend='eager' or "
            "'torchscript' for modules the ONNX exporter does not support.") from err
    return buf.getvalue()


@contextlib.contextmanager
def warnings_quiet() -> Iterator[None]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# -- ONNX Runtime -----------------------------------------------------------------------------
def ort_session(onnx_model: bytes, threads: int) -> Any:
    """An ONNX Runtime CPU session for ``onnx_model``: ``threads`` intra-op threads, sequential, all graph optimisations."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(onnx_model, sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001
        raise MeasurementError(f"ONNX Runtime could not load the model ({type(err).__name__}: {err}).") from err


def ort_feeds(session: Any, inputs: Inputs) -> dict[str, np.ndarray]:
    """The session's input feeds from ``inputs`` (tensors, shapes, or a dict by input name), checked against its inputs."""
    specs = session.get_inputs()
    if isinstance(inputs, dict):
        items = [inputs.get(s.name) for s in specs]
        if any(v is None for v in items):
            raise MeasurementError(f"the ONNX model's inputs are {[s.name for s in specs]}; got {sorted(inputs)}.")
        inputs = items
    tensors = as_tensors(inputs)
    if len(tensors) != len(specs):
        raise MeasurementError(
            f"the ONNX model takes {len(specs)} input(s) {[(s.name, s.shape) for s in specs]}, got {len(tensors)}.")
    feeds = {}
    for spec, t in zip(specs, tensors):
        static = [d for d in spec.shape]
        if all(isinstance(d, int) for d in static) and list(t.shape) != static:
            raise MeasurementError(f"ONNX input {spec.name!r} has shape {static}, got {list(t.shape)}.")
        dtype = np.int64 if "int64" in spec.type else np.float32
        feeds[spec.name] = t.numpy().astype(dtype, copy=False)
    return feeds
