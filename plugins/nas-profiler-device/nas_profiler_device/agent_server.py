"""The device agent: an HTTP server on the target device that measures ONNX models it is sent.

Run it with ``nas device-agent --token TOKEN`` (loopback only unless ``--allow-remote``).
Measurements are serialised (one at a time) so they do not disturb each other.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import io
import ipaddress
import json
import logging
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from nas_profiler_device import agent_protocol as proto
from nas_profiler_device.deadline import DeadlineReader
from nas_profiler_device.errors import DeviceAgentError, MeasurementError
from nas_profiler_device.measure import DEFAULT_MAX_TIME_S, device_description, library_versions
from nas_profiler_device.measure_worker import MeasurementTimeout, MeasureWorker
from nas_profiler_device.onnx_checks import check_model
from nas_profiler_device.reference import SpeedReference

__all__ = ["AgentServer", "make_server", "check_host"]

log = logging.getLogger("nas_profiler_device.agent")


def check_host(host: str, allow_remote: bool) -> None:
    """Refuse to listen beyond loopback unless ``allow_remote``: the agent runs code-free but heavy jobs."""
    if allow_remote:
        return
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise DeviceAgentError(
            f"refusing to listen on {host!r}: the agent listens on loopback (127.0.0.1) by default. To accept "
            "measurements from other machines pass --allow-remote (and keep the token secret; use a firewall or an "
            "SSH tunnel where you can).")


class _Handler(BaseHTTPRequestHandler):
    server: "AgentServer"
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        self.timeout = self.server.socket_timeout
        super().setup()
        # a whole-request deadline (not one per read): a client trickling bytes cannot hold the connection
        self.rfile.close()
        self._reader = DeadlineReader(self.connection, self.server.socket_timeout)
        self.rfile = io.BufferedReader(self._reader)

    def handle_one_request(self) -> None:
        self._reader.restart()  # each request on a kept-alive connection gets the whole --timeout
        super().handle_one_request()

    def log_message(self, fmt: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), fmt % args)

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if status >= 400:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _authorized(self) -> bool:
        given = self.headers.get("Authorization", "")
        expected = f"Bearer {self.server.token}"
        if hmac.compare_digest(given.encode(), expected.encode()):
            return True
        self._send(401, {"error": "missing or wrong token: send the header 'Authorization: Bearer <token>' with the "
                                  "token the agent was started with (--token)."})
        return False

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        if not self._authorized():
            return
        if self.path != proto.INFO_PATH:
            self._send(404, {"error": f"unknown path {self.path!r}; use GET {proto.INFO_PATH} or POST {proto.MEASURE_PATH}."})
            return
        self._send(200, self.server.info())

    def do_POST(self) -> None:  # noqa: N802
        if not self._authorized():
            return
        if self.path != proto.MEASURE_PATH:
            self._send(404, {"error": f"unknown path {self.path!r}; use POST {proto.MEASURE_PATH}."})
            return
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._send(411, {"error": "a Content-Length header is required."})
            return
        if int(length) > self.server.max_request_bytes:
            self._send(413, {"error": f"request of {int(length)} bytes is over the agent's limit of "
                                      f"{self.server.max_request_bytes} bytes; start the agent with a larger "
                                      "--max-request-mb or send a smaller model."})
            return
        try:
            body = self.rfile.read(int(length))
        except (TimeoutError, OSError) as err:
            self._send(408, {"error": f"the request was not received within the agent's --timeout of "
                                      f"{self.server.socket_timeout:g} s ({err})."})
            return
        try:
            req = json.loads(body)
        except ValueError as err:
            self._send(400, {"error": f"the request body is not valid JSON ({err})."})
            return
        except RecursionError:
            self._send(400, {"error": "the request body is JSON nested too deeply; send a flat JSON object with "
                                      "'onnx' and 'input_shapes'."})
            return
        try:
            measurement = self.server.measure(req)
        except _BadRequest as err:
            self._send(400, {"error": str(err)})
            return
        except _Busy as err:
            self._send(503, {"error": str(err)})
            return
        except MeasurementTimeout as err:
            self._send(408, {"error": str(err)})
            return
        except MeasurementError as err:
            self._send(422, {"error": str(err)})
            return
        except Exception as err:  # noqa: BLE001 - answer, never drop the connection
            log.exception("measurement request failed")
            self._send(500, {"error": f"the agent failed on this request ({type(err).__name__}: {err})."})
            return
        self._send(200, {"measurement": measurement})


class _BadRequest(Exception):
    pass


class _Busy(Exception):
    pass


def _int_field(req: dict[str, Any], name: str, default: int, lo: int, hi: int) -> int:
    v = req.get(name, default)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise _BadRequest(f"{name!r} must be an integer in [{lo}, {hi}], got {v!r}.")
    return v


class AgentServer(ThreadingHTTPServer):
    """The agent's HTTP server (``serve_forever()`` to run, ``shutdown()`` to stop)."""

    daemon_threads = True

    def __init__(self, host: str, port: int, token: str, *, allow_remote: bool = False,
                 max_request_bytes: int = proto.DEFAULT_MAX_REQUEST_BYTES, socket_timeout: float = 30.0,
                 max_time_s: float = DEFAULT_MAX_TIME_S, queue_timeout_s: float = 300.0,
                 max_input_elements: int = proto.DEFAULT_MAX_INPUT_ELEMENTS) -> None:
        if not isinstance(token, str) or len(token) < 8:
            raise DeviceAgentError("the agent needs a token of at least 8 characters (--token, or the "
                                   "NAS_DEVICE_TOKEN environment variable); generate one with "
                                   "`python -c 'import secrets; print(secrets.token_urlsafe(24))'`.")
        check_host(host, allow_remote)
        self.token = token
        self.max_request_bytes = int(max_request_bytes)
        self.socket_timeout = float(socket_timeout)
        self.max_time_s = float(max_time_s)
        self.queue_timeout_s = float(queue_timeout_s)
        self.max_input_elements = int(max_input_elements)
        self._lock = threading.Lock()
        self._ref_onnx: bytes | None = None  # the speed reference the agent keeps, and its baselines
        self._ref_baselines: dict[str, float] = {}
        self._device = device_description("cpu")
        self.worker = MeasureWorker()
        super().__init__((host, port), _Handler)

    def server_close(self) -> None:
        super().server_close()
        self.worker.close()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def info(self) -> dict[str, Any]:
        return {"agent": proto.AGENT_VERSION, "device": self._device, "versions": library_versions(),
                "backends": ["onnxruntime"], "max_request_bytes": self.max_request_bytes,
                "max_measure_s": self.max_time_s, "max_input_elements": self.max_input_elements}

    def measure(self, req: Any) -> dict[str, Any]:
        if not isinstance(req, dict):
            raise _BadRequest("the request must be a JSON object with 'onnx' and 'input_shapes'.")
        try:
            onnx_bytes = base64.b64decode(req.get("onnx", ""), validate=True)
        except (binascii.Error, TypeError) as err:
            raise _BadRequest(f"'onnx' must be the base64 of an ONNX model ({err}).") from None
        if not onnx_bytes:
            raise _BadRequest("'onnx' is missing or empty: send the base64 of an ONNX model.")
        shapes = req.get("input_shapes")
        if not (isinstance(shapes, list) and shapes and all(
                isinstance(s, list) and s and all(isinstance(d, int) and not isinstance(d, bool) and 0 < d < 1 << 20
                                                  for d in s) for s in shapes)):
            raise _BadRequest(f"'input_shapes' must be a list of shapes (lists of positive ints), got {shapes!r}.")
        elements = sum(math.prod(s) for s in shapes)
        if elements > self.max_input_elements:
            raise _BadRequest(f"'input_shapes' {shapes} ask for {elements} input elements, over the agent's limit of "
                              f"{self.max_input_elements}; measure with a smaller input (latency scales with it).")
        repeats = _int_field(req, "repeats", 50, 1, proto.MAX_REPEATS)
        warmup = _int_field(req, "warmup", 10, 0, proto.MAX_WARMUP)
        threads = _int_field(req, "threads", 1, 1, 256)
        clock = req.get("clock", "wall")
        if clock not in ("wall", "cpu"):
            raise _BadRequest(f"'clock' must be 'wall' or 'cpu', got {clock!r}.")
        if not self._lock.acquire(timeout=self.queue_timeout_s):
            raise _Busy(f"the agent was busy with other measurements for {self.queue_timeout_s:.0f} s; retry later.")
        try:
            check_model(onnx_bytes, "model", self.max_input_elements)
            reference = self._reference(req, threads, clock)  # under the lock: the agent keeps one reference
            job = {"onnx": onnx_bytes, "input_shapes": shapes, "repeats": repeats, "warmup": warmup,
                   "threads": threads, "clock": clock, "max_time_s": self.max_time_s / 2,
                   "reference_onnx": self._ref_onnx if reference else None, "baselines": dict(self._ref_baselines)}
            reply = self.worker.run(job, self.max_time_s)
            if reference:
                self._ref_baselines.update(reply.get("baselines", {}))
        finally:
            self._lock.release()
        return reply["measurement"]

    def _reference(self, req: dict[str, Any], threads: int, clock: str) -> bool:
        """Keep the request's speed reference and its baseline; False when it sends none.

        The same network is kept from one request to the next (its ONNX Runtime session
        lives in the measurement process); a different one starts with no baselines.
        """
        if "reference_onnx" not in req:
            return False
        try:
            data = base64.b64decode(req["reference_onnx"], validate=True)
        except (binascii.Error, TypeError) as err:
            raise _BadRequest(f"'reference_onnx' must be the base64 of an ONNX model ({err}).") from None
        baseline = req.get("reference_ms")
        if baseline is not None and not (isinstance(baseline, (int, float)) and not isinstance(baseline, bool)
                                         and baseline > 0):
            raise _BadRequest(f"'reference_ms' must be a positive number of milliseconds, got {baseline!r}.")
        check_model(data, "speed reference model", self.max_input_elements, static_inputs=True)
        if self._ref_onnx != data:
            self._ref_onnx, self._ref_baselines = data, {}
        key = SpeedReference.key("onnxruntime", threads, clock)
        if baseline is None:
            self._ref_baselines.pop(key, None)
        else:
            self._ref_baselines[key] = float(baseline)
        return True


def make_server(host: str = "127.0.0.1", port: int = 8765, token: str = "", **options: Any) -> AgentServer:
    """Build (not start) an agent server; ``port=0`` picks a free port (see ``server.url``)."""
    return AgentServer(host, port, token, **options)
