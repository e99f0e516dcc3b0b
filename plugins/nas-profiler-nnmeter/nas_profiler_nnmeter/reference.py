"""nn-Meter's own whole-model prediction of a frozen model (for checks and comparisons).

The model is exported to ONNX (TorchScript exporter, static shapes), made readable for
nn-Meter 2.0, and run through nn-Meter's ``nnMeterPredictor.predict`` (its ONNX converter,
kernel detector and per-kernel regressors) with the predictor's own files.

Why the clean-up: nn-Meter 2.0's ONNX converter expects every node to have shaped inputs
(it was written for onnx 1.9 exports run through onnx-simplifier). Current torch exports
``Constant`` nodes (e.g. Clip's min/max for ReLU6 at opset >= 11) and ``Identity`` nodes
over shared initializers; nn-Meter's converter then fails with ``KeyError: 'type'`` in
``convert_nodes``. :func:`export_for_nn_meter` turns both into initializers, which is what
onnx-simplifier did for nn-Meter (onnx-simplifier ships no wheel for this platform).
"""
from __future__ import annotations

import io
import os
import warnings
from typing import Any

import torch
from torch import nn

from nas_core.threads import torch_threads

from nas_profiler_nnmeter._nnmeter import nn_meter_module
from nas_profiler_nnmeter.predictors import LoadedPredictor, load_predictor

__all__ = ["export_for_nn_meter", "nn_meter_predict", "nn_meter_kernels"]


def _args(dummy_input: Any) -> tuple:
    return dummy_input if isinstance(dummy_input, tuple) else (dummy_input,)


def export_for_nn_meter(module: nn.Module, dummy_input: Any, opset: int = 17) -> Any:
    """The ONNX ``ModelProto`` of ``module`` with Constant/Identity-of-initializer nodes folded away."""
    import onnx
    from onnx import numpy_helper

    buf = io.BytesIO()
    module = module.eval()
    # the export runs the model once; one thread avoids spinning on a busy machine
    with torch_threads(1), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, _args(dummy_input), buf, opset_version=opset, dynamo=False,
                          do_constant_folding=True)
    model = onnx.load_from_string(buf.getvalue())
    graph = model.graph
    inits = {t.name for t in graph.initializer}
    keep = []
    for node in graph.node:
        if node.op_type == "Constant" and len(node.output) == 1:
            value = next((a for a in node.attribute if a.name == "value"), None)
            if value is not None:
                t = onnx.TensorProto()
                t.CopyFrom(value.t)
                t.name = node.output[0]
                graph.initializer.append(t)
                inits.add(t.name)
                continue
        if node.op_type == "Identity" and node.input and node.input[0] in inits:
            src = next(t for t in graph.initializer if t.name == node.input[0])
            t = numpy_helper.from_array(numpy_helper.to_array(src), node.output[0])
            graph.initializer.append(t)
            inits.add(t.name)
            continue
        keep.append(node)
    del graph.node[:]
    graph.node.extend(keep)
    return model


def _predictor(predictor: str | os.PathLike | LoadedPredictor) -> Any:
    loaded = predictor if isinstance(predictor, LoadedPredictor) else load_predictor(predictor)
    mod = nn_meter_module("nn_meter.predictor.nn_meter_predictor")
    return mod.nnMeterPredictor(loaded.regressors, str(loaded.fusion_rules_path))


def nn_meter_predict(predictor: str | os.PathLike | LoadedPredictor, module: nn.Module, dummy_input: Any) -> float:
    """nn-Meter's own ``predict`` (ms) of ``module`` on ``dummy_input`` with ``predictor``'s files."""
    return float(_predictor(predictor).predict(export_for_nn_meter(module, dummy_input), model_type="onnx"))


def nn_meter_kernels(predictor: str | os.PathLike | LoadedPredictor, module: nn.Module, dummy_input: Any) -> list[dict]:
    """The kernels nn-Meter's kernel detector finds in ``module`` (for inspection)."""
    p = _predictor(predictor)
    conv = nn_meter_module("nn_meter.ir_converter")
    p.kd.load_graph(conv.model_to_graph(export_for_nn_meter(module, dummy_input), "onnx"))
    return p.kd.get_kernels()
