"""The wire format shared by the device agent and its client (JSON over HTTP).

``GET /v1/info`` -> ``{"agent": VERSION, "device": str, "versions": {...}, "backends": [...], "max_request_bytes": int}``
``POST /v1/measure`` with JSON ``{"onnx": base64, "input_shapes": [[...]], "repeats": int, "warmup": int,
"threads": int, "clock": "wall"|"cpu"}`` -> ``{"measurement": Measurement.to_dict()}``; optionally
``"reference_onnx": base64`` (a speed reference timed after every run, its inputs at the
shapes the ONNX model declares) and ``"reference_ms"`` (its baseline; without it the
agent sets the baseline and returns it as ``measurement.reference_ms``).
Both need ``Authorization: Bearer <token>``. Errors are ``{"error": message}`` with status
400 (bad request), 401 (wrong or missing token), 404, 411 (no length), 413 (too large),
408 (the request was not received within the agent's --timeout, or the measurement ran past
--max-measure-s and was stopped), 422 (the model could not be measured or is refused: external
data, a speed reference with dynamic input dimensions), 500 or 503 (busy for too long).
"""
from __future__ import annotations

AGENT_VERSION = "1"
INFO_PATH = "/v1/info"
MEASURE_PATH = "/v1/measure"
#: default request size limit of the agent (the base64 ONNX model and its options)
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024
#: upper bounds the agent enforces on what a client may ask for
MAX_REPEATS = 10_000
MAX_WARMUP = 1_000
#: default limit on the elements of a request's inputs together (2^27 floats: 512 MiB)
DEFAULT_MAX_INPUT_ELEMENTS = 1 << 27
