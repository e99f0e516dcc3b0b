"""Client of the device agent: send an ONNX model, get a :class:`Measurement` back."""
from __future__ import annotations

import base64
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Sequence

from nas_profiler_device import agent_protocol as proto
from nas_profiler_device.errors import DeviceAgentError
from nas_profiler_device.measure import Measurement
from nas_profiler_device.reference import SpeedReference

__all__ = ["AgentClient"]


class AgentClient:
    """Talks to ``nas device-agent`` at ``url`` with ``token``.

    ``timeout`` (seconds) bounds each request, connection and measurement included; a
    dead, unreachable or slow agent raises :class:`DeviceAgentError` naming the URL, what
    happened and what to check.
    """

    def __init__(self, url: str, token: str, timeout: float = 120.0) -> None:
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise DeviceAgentError(f"agent url {url!r} must look like http://HOST:PORT (e.g. http://127.0.0.1:8765).")
        if not token:
            raise DeviceAgentError("an agent token is needed (the --token the agent was started with).")
        if not (isinstance(timeout, (int, float)) and timeout > 0):
            raise DeviceAgentError(f"timeout must be a positive number of seconds, got {timeout!r}.")
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = float(timeout)
        self._limit: int | None = None

    def __repr__(self) -> str:
        return f"AgentClient({self.url!r})"

    def _request(self, method: str, path: str, body: bytes | None = None) -> dict[str, Any]:
        full = self.url + path
        req = urllib.request.Request(full, data=body, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        hint = ("check that `nas device-agent` is running on the device, that the URL and port are right, and that "
                "the network (or SSH tunnel) between the two machines is up")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - http(s) only, checked above
                return json.loads(resp.read())
        except urllib.error.HTTPError as err:
            try:
                detail = json.loads(err.read()).get("error", "")
            except (ValueError, OSError, AttributeError):
                detail = ""
            what = {401: "rejected the token (check --token / NAS_DEVICE_TOKEN on both sides)",
                    408: "stopped the request (too slow to send, or the measurement ran too long)",
                    413: "rejected the request as too large",
                    503: "is busy"}.get(err.code, f"answered HTTP {err.code}")
            raise DeviceAgentError(f"device agent at {full} {what}: {detail or err.reason}") from err
        except (socket.timeout, TimeoutError) as err:
            raise DeviceAgentError(
                f"device agent at {full} did not answer within {self.timeout:.0f} s (timed out): the device is slow, "
                f"busy or hung. Raise timeout=, lower repeats, or {hint}.") from err
        except urllib.error.URLError as err:
            reason = err.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise DeviceAgentError(
                    f"device agent at {full} did not answer within {self.timeout:.0f} s (timed out); {hint}.") from err
            raise DeviceAgentError(f"cannot reach the device agent at {full} ({reason}); {hint}.") from err
        except (ConnectionError, OSError) as err:
            raise DeviceAgentError(f"the connection to the device agent at {full} failed ({err}); {hint}.") from err
        except ValueError as err:
            raise DeviceAgentError(f"device agent at {full} sent a reply that is not JSON ({err}).") from err

    def info(self) -> dict[str, Any]:
        """The agent's device description, library versions and limits."""
        return self._request("GET", proto.INFO_PATH)

    def measure(self, onnx_bytes: bytes, input_shapes: Sequence[Sequence[int]], *, repeats: int = 50,
                warmup: int = 10, threads: int = 1, clock: str = "wall",
                reference: SpeedReference | None = None) -> Measurement:
        """Latency of ``onnx_bytes`` on the device's ONNX Runtime for inputs of ``input_shapes``.

        With ``reference``, the agent also times the reference network after every run and
        reports figures at its baseline speed (the baseline is set by the first reply)."""
        if not isinstance(onnx_bytes, (bytes, bytearray)) or not onnx_bytes:
            raise DeviceAgentError("onnx_bytes must be a non-empty ONNX model as bytes (see measure.export_onnx).")
        shapes = [[int(d) for d in s] for s in input_shapes]
        request: dict[str, Any] = {"onnx": base64.b64encode(bytes(onnx_bytes)).decode(), "input_shapes": shapes,
                                   "repeats": repeats, "warmup": warmup, "threads": threads, "clock": clock}
        key = SpeedReference.key("onnxruntime", threads, clock)
        if reference is not None:
            request["reference_onnx"] = base64.b64encode(reference.onnx_model()).decode()
            if key in reference.baselines:
                request["reference_ms"] = reference.baselines[key]
        body = json.dumps(request).encode()
        if self._limit is None:
            self._limit = int(self.info().get("max_request_bytes", proto.DEFAULT_MAX_REQUEST_BYTES))
        if len(body) > self._limit:
            raise DeviceAgentError(
                f"the request ({len(body)} bytes: the base64 ONNX model) is over the limit of the device agent at "
                f"{self.url} ({self._limit} bytes); start the agent with a larger --max-request-mb.")
        reply = self._request("POST", proto.MEASURE_PATH, body)
        if "measurement" not in reply:
            raise DeviceAgentError(f"device agent at {self.url} sent no measurement: {reply!r}.")
        m = Measurement.from_dict(reply["measurement"])
        if reference is not None and m.reference_ms is not None:
            reference.baselines.setdefault(key, m.reference_ms)
        return m
