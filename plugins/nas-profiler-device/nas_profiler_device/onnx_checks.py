"""What the device agent checks in a client's ONNX model before ONNX Runtime sees it.

The agent runs models sent over the network. ONNX Runtime would follow a tensor's
``external_data`` location and read that file relative to its working directory (and a
model's latency can then leak the file's bytes), so any tensor stored outside the model is
refused, wherever it is: initializers, sparse initializers, ``Constant`` and other
attribute tensors, inside ``Loop``/``If``/``Scan`` subgraphs and local functions. A speed
reference must declare static input shapes (the agent feeds it at the shapes it declares).
"""
from __future__ import annotations

import math
from typing import Any, Iterator

from nas_profiler_device.errors import MeasurementError

__all__ = ["parse_onnx", "refuse_external_data", "static_input_shapes", "check_model"]


def parse_onnx(data: bytes, what: str) -> Any:
    """The ``onnx.ModelProto`` of ``data`` (parsed, not checked; external data is never loaded)."""
    import onnx
    from google.protobuf.message import DecodeError

    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, RecursionError, ValueError) as err:
        raise MeasurementError(f"the agent could not load the {what}: it is not a valid ONNX model ({err}).") from None
    if not model.HasField("graph"):
        raise MeasurementError(f"the agent could not load the {what}: it has no graph (not an ONNX model?).")
    return model


def _graph_tensors(graph: Any, where: str) -> Iterator[tuple[Any, str]]:
    for t in graph.initializer:
        yield t, f"{where} initializer {t.name!r}"
    for s in graph.sparse_initializer:
        yield s.values, f"{where} sparse initializer {s.values.name!r}"
        yield s.indices, f"{where} sparse initializer {s.values.name!r} (indices)"
    for node in graph.node:
        yield from _node_tensors(node, where)


def _node_tensors(node: Any, where: str) -> Iterator[tuple[Any, str]]:
    label = f"{where} node {node.name or node.op_type!r} ({node.op_type})"
    for attr in node.attribute:
        if attr.HasField("t"):
            yield attr.t, f"{label} attribute {attr.name!r}"
        for t in attr.tensors:
            yield t, f"{label} attribute {attr.name!r}"
        if attr.HasField("sparse_tensor"):
            yield attr.sparse_tensor.values, f"{label} attribute {attr.name!r}"
        for s in attr.sparse_tensors:
            yield s.values, f"{label} attribute {attr.name!r}"
        if attr.HasField("g"):
            yield from _graph_tensors(attr.g, f"{label} subgraph {attr.name!r}:")
        for g in attr.graphs:
            yield from _graph_tensors(g, f"{label} subgraph {attr.name!r}:")


def refuse_external_data(model: Any, what: str) -> None:
    """Raise when any tensor of ``model`` keeps its data outside the model (``external_data``)."""
    import onnx

    sources = [_graph_tensors(model.graph, "graph")]
    sources += [(t for node in f.node for t in _node_tensors(node, f"function {f.name!r}")) for f in model.functions]
    for source in sources:
        for tensor, where in source:
            if tensor.data_location == onnx.TensorProto.EXTERNAL or len(tensor.external_data):
                raise MeasurementError(
                    f"the {what} keeps tensor data outside the model ({where} has external_data); the agent "
                    "measures self-contained models only. Export without external data (models under 2 GB: "
                    "onnx.save(model, path, save_as_external_data=False)).")


def static_input_shapes(model: Any, what: str) -> list[list[int]]:
    """The declared shapes of the graph's real inputs; a dynamic or unknown dimension is an error."""
    initializers = {t.name for t in model.graph.initializer}
    shapes = []
    for inp in model.graph.input:
        if inp.name in initializers:
            continue
        dims = inp.type.tensor_type.shape.dim if inp.type.HasField("tensor_type") else None
        if dims is None or not inp.type.tensor_type.HasField("shape"):
            raise MeasurementError(f"the {what}'s input {inp.name!r} declares no shape; export it with static shapes.")
        shape = []
        for i, d in enumerate(dims):
            if not d.HasField("dim_value") or d.dim_value <= 0:
                name = d.dim_param or "unknown"
                raise MeasurementError(
                    f"the {what}'s input {inp.name!r} has a dynamic dimension {i} ({name!r}); the agent feeds it at "
                    "its declared shape, so export it with static shapes (no dynamic_axes).")
            shape.append(int(d.dim_value))
        shapes.append(shape)
    return shapes


def check_model(data: bytes, what: str, max_elements: int, static_inputs: bool = False) -> None:
    """Parse ``data``, refuse external data and, with ``static_inputs``, dynamic or oversized inputs."""
    model = parse_onnx(data, what)
    refuse_external_data(model, what)
    if static_inputs:
        shapes = static_input_shapes(model, what)
        total = sum(math.prod(s) for s in shapes)
        if total > max_elements:
            raise MeasurementError(
                f"the {what}'s inputs {shapes} hold {total} elements, over the agent's limit of {max_elements}; "
                "use a smaller reference network.")
