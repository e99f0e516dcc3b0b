import base64
import http.client
import json
import socket
import threading

import pytest
import torch
from click.testing import CliRunner
from torch import nn

from devprof_testkit import TOKEN, running_agent
from nas_profiler_device import AgentClient, DeviceAgentError, export_onnx
from nas_profiler_device.agent_server import check_host, make_server


@pytest.fixture(scope="module")
def onnx_model() -> bytes:
    return export_onnx(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()), (1, 3, 8, 8))


def raw(server, method, path, body=b"", headers=None):
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    out = resp.status, json.loads(resp.read() or b"{}")
    conn.close()
    return out


def test_measure_on_loopback(onnx_model):
    with running_agent() as server:
        client = AgentClient(server.url, TOKEN, timeout=30)
        info = client.info()
        assert info["backends"] == ["onnxruntime"] and "onnxruntime" in info["versions"]
        m = client.measure(onnx_model, [(1, 3, 8, 8)], repeats=5, warmup=1, threads=1)
        assert m.backend == "onnxruntime" and m.repeats == 5 and m.input_shapes == [[1, 3, 8, 8]] and m.median_ms > 0


def test_wrong_or_missing_token_is_401(onnx_model):
    with running_agent() as server:
        status, body = raw(server, "GET", "/v1/info", headers={"Authorization": "Bearer nope"})
        assert status == 401 and "token" in body["error"]
        status, _ = raw(server, "POST", "/v1/measure", body=b"{}")
        assert status == 401
        with pytest.raises(DeviceAgentError, match="rejected the token"):
            AgentClient(server.url, "wrong-token").measure(onnx_model, [(1, 3, 8, 8)])


def test_oversized_request_is_413(onnx_model):
    with running_agent(max_request_bytes=2000) as server:
        body = json.dumps({"onnx": "A" * 4000, "input_shapes": [[1]]}).encode()
        status, reply = raw(server, "POST", "/v1/measure", body=body, headers={"Authorization": f"Bearer {TOKEN}"})
        assert status == 413 and "limit of 2000 bytes" in reply["error"]
        big = onnx_model * 4
        with pytest.raises(DeviceAgentError, match="over the limit"):
            AgentClient(server.url, TOKEN).measure(big, [(1, 3, 8, 8)])


@pytest.mark.parametrize("payload, status, match", [
    (b"not json", 400, "not valid JSON"),
    (json.dumps({"onnx": "!!", "input_shapes": [[1, 3, 8, 8]]}).encode(), 400, "base64"),
    (json.dumps({"onnx": "AAAA", "input_shapes": [[0]]}).encode(), 400, "input_shapes"),
    (json.dumps({"onnx": "AAAA", "input_shapes": [[1, 3, 8, 8]], "repeats": -1}).encode(), 400, "repeats"),
    (json.dumps({"onnx": base64.b64encode(b"garbage").decode(), "input_shapes": [[1, 3, 8, 8]]}).encode(), 422,
     "could not load"),
])
def test_bad_requests_are_explained(payload, status, match):
    with running_agent() as server:
        got, reply = raw(server, "POST", "/v1/measure", body=payload, headers={"Authorization": f"Bearer {TOKEN}"})
        assert got == status and match in reply["error"]


def test_killed_agent_gives_a_clear_error(onnx_model):
    with running_agent() as server:
        client = AgentClient(server.url, TOKEN, timeout=5)
        client.info()
        url = server.url
    with pytest.raises(DeviceAgentError) as err:
        client.measure(onnx_model, [(1, 3, 8, 8)])
    assert url in str(err.value) and "nas device-agent` is running" in str(err.value)


def test_slow_agent_times_out(onnx_model):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)  # accepts connections but never answers
    try:
        client = AgentClient(f"http://127.0.0.1:{sock.getsockname()[1]}", TOKEN, timeout=0.5)
        with pytest.raises(DeviceAgentError, match="did not answer within 0 s|did not answer within 1 s"):
            client.info()
    finally:
        sock.close()


def test_loopback_only_unless_allowed():
    with pytest.raises(DeviceAgentError, match="refusing to listen on '0.0.0.0'.*--allow-remote"):
        check_host("0.0.0.0", allow_remote=False)
    check_host("0.0.0.0", allow_remote=True)
    check_host("127.0.0.1", allow_remote=False)
    check_host("::1", allow_remote=False)
    with pytest.raises(DeviceAgentError, match="at least 8 characters"):
        make_server("127.0.0.1", 0, "short")


def test_client_arguments_are_checked():
    with pytest.raises(DeviceAgentError, match="must look like http"):
        AgentClient("127.0.0.1:8765", TOKEN)
    with pytest.raises(DeviceAgentError, match="token is needed"):
        AgentClient("http://127.0.0.1:8765", "")


def test_cli_refuses_remote_without_flag():
    from nas_core.cli.main import _load_plugin_commands, cli

    _load_plugin_commands()
    result = CliRunner().invoke(cli, ["device-agent", "--host", "0.0.0.0", "--token", TOKEN])
    assert result.exit_code == 2 and "--allow-remote" in result.output
    result = CliRunner().invoke(cli, ["device-agent"], env={"NAS_DEVICE_TOKEN": ""})
    assert result.exit_code == 2 and "--token is required" in result.output
