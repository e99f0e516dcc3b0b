"""The device agent's sandbox, against a real agent on 127.0.0.1: no external data, measurements stopped at
--max-measure-s, hostile requests answered (never a dropped connection), a whole-request deadline."""
from __future__ import annotations

import base64
import http.client
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time

import onnx
import pytest
from onnx import TensorProto, helper
from torch import nn

from devprof_testkit import TOKEN, running_agent
from nas_profiler_device import AgentClient, DeviceAgentError, export_onnx

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def post(server, payload, timeout=60):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    conn.request("POST", "/v1/measure", body=body, headers=AUTH)
    resp = conn.getresponse()
    out = resp.status, json.loads(resp.read() or b"{}")
    conn.close()
    return out


def request(model: bytes, shapes, **extra):
    return {"onnx": base64.b64encode(model).decode(), "input_shapes": shapes, "repeats": 3, "warmup": 0, **extra}


def _external(tensor: TensorProto, location: str) -> TensorProto:
    tensor.ClearField("float_data")
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", location
    return tensor


def add_model(external: str | None = None, in_loop: bool = False) -> bytes:
    """y = x + w (w an initializer, stored externally with ``external``; inside a Loop body with ``in_loop``)."""
    w = helper.make_tensor("w", TensorProto.FLOAT, [4], [1.0, 2.0, 3.0, 4.0])
    if external:
        _external(w, external)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    if not in_loop:
        graph = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "add", [x], [y], [w])
    else:
        graph = loop_graph(loop_body(w), trips=2, x=x, y=y)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def loop_body(addend: TensorProto):
    """A Loop body carrying v -> v + addend (the addend an initializer of the body)."""
    return helper.make_graph(
        [helper.make_node("Identity", ["c"], ["c_out"]), helper.make_node("Add", ["v", addend.name], ["v_out"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("c", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("c_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [4])], [addend])


def loop_graph(body, trips: int, x, y):
    consts = [helper.make_node("Constant", [], ["m"], value=helper.make_tensor("m_v", TensorProto.INT64, [], [trips])),
              helper.make_node("Constant", [], ["t"], value=helper.make_tensor("t_v", TensorProto.BOOL, [], [True]))]
    return helper.make_graph(consts + [helper.make_node("Loop", ["m", "t", "x"], ["y"], body=body)], "loop", [x], [y])


def endless_loop_model() -> bytes:
    """A Loop of 10^12 iterations adding 1: runs for days unless stopped."""
    one = helper.make_tensor("one", TensorProto.FLOAT, [4], [1.0] * 4)
    graph = loop_graph(loop_body(one), 10**12, helper.make_tensor_value_info("x", TensorProto.FLOAT, [4]),
                       helper.make_tensor_value_info("y", TensorProto.FLOAT, [4]))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


@pytest.fixture(scope="module")
def small_onnx() -> bytes:
    return export_onnx(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()), (1, 3, 8, 8))


def test_external_data_is_refused_before_onnx_runtime_sees_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "secret.bin").write_bytes(b"\x00\x00\x80\x3f" * 4)  # a file ONNX Runtime would read
    with running_agent() as server:
        for model in (add_model(external="secret.bin"), add_model(external="missing.bin"),
                      add_model(external="secret.bin", in_loop=True)):
            status, reply = post(server, request(model, [[4]]))
            assert status == 422 and "external_data" in reply["error"] and "self-contained" in reply["error"]
        assert server.worker.pid is None  # refused in the server: no measurement process was even started
        status, reply = post(server, request(add_model(in_loop=True), [[4]]))  # the same model, data inside
        assert status == 200 and reply["measurement"]["repeats"] == 3


@pytest.mark.slow
def test_a_measurement_past_max_measure_s_is_stopped_with_408_and_the_agent_goes_on(small_onnx):
    with running_agent(max_time_s=3.0) as server:
        server.worker.start()  # the child's start-up is not the measurement's time
        t0 = time.monotonic()
        status, reply = post(server, request(endless_loop_model(), [[4]]))
        took = time.monotonic() - t0
        assert status == 408 and "--max-measure-s" in reply["error"] and 2.5 < took < 15
        client = AgentClient(server.url, TOKEN, timeout=120)
        m = client.measure(small_onnx, [(1, 3, 8, 8)], repeats=3, warmup=0)  # a fresh process measures on
        assert m.repeats == 3 and m.median_ms > 0


def test_hostile_requests_are_answered_not_dropped(small_onnx):
    with running_agent() as server:
        status, reply = post(server, b"[" * 200_000 + b"]" * 200_000)
        assert status == 400 and "nested too deeply" in reply["error"]
        status, reply = post(server, request(small_onnx, [[(1 << 20) - 1, (1 << 20) - 1]]))
        assert status == 400 and "input elements, over the agent's limit" in reply["error"]
        dynamic = onnx.load_from_string(small_onnx)
        dynamic.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"
        ref = base64.b64encode(dynamic.SerializeToString()).decode()
        status, reply = post(server, request(small_onnx, [[1, 3, 8, 8]], reference_onnx=ref))
        assert status == 422 and "dynamic dimension 0 ('batch')" in reply["error"]
        status, reply = post(server, request(b"\x0a" * 64, [[1, 3, 8, 8]]))  # truncated protobuf
        assert status == 422 and "could not load" in reply["error"]


def test_slow_client_trickling_headers_is_cut_at_the_whole_request_deadline():
    with running_agent(socket_timeout=1.0) as server:
        sock = socket.create_connection(server.server_address[:2])
        sock.sendall(b"GET /v1/info HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        t0, closed = time.monotonic(), None
        while time.monotonic() - t0 < 8:
            readable, _, _ = select.select([sock], [], [], 0.2)
            if readable and sock.recv(4096) == b"":
                closed = time.monotonic() - t0
                break
            try:
                sock.send(b"a")  # one byte every 0.2 s: a per-read timeout of 1 s would never fire
            except OSError:
                closed = time.monotonic() - t0
                break
        sock.close()
        assert closed is not None and 0.8 < closed < 3.0


def test_client_reports_a_refused_model(small_onnx):
    with running_agent(max_request_bytes=1 << 20) as server:
        client = AgentClient(server.url, TOKEN, timeout=60)
        with pytest.raises(DeviceAgentError, match="answered HTTP 422.*external_data"):
            client.measure(add_model(external="secret.bin"), [(4,)])


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _cpu_s(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


AGENT = ("import sys\n"
         "from nas_profiler_device.agent_server import make_server\n"
         "server = make_server('127.0.0.1', 0, sys.argv[1], max_time_s=600)\n"
         "print(server.url, flush=True)\n"
         "server.serve_forever()\n")


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_measurement_process_does_not_outlive_a_killed_agent():
    agent = subprocess.Popen([sys.executable, "-c", AGENT, TOKEN], stdout=subprocess.PIPE, text=True)
    child = None
    try:
        url = agent.stdout.readline().strip()
        client = AgentClient(url, TOKEN, timeout=600)
        client.measure(add_model(), [(4,)], repeats=3, warmup=0)  # the measurement process is up
        (child,) = [p for p in _children(agent.pid) if "spawn_main" in open(f"/proc/{p}/cmdline").read()]
        threading.Thread(target=lambda: pytest.raises(DeviceAgentError, client.measure, endless_loop_model(), [(4,)]),
                         daemon=True).start()
        time.sleep(3)
        before = _cpu_s(child)
        time.sleep(1)
        assert _cpu_s(child) > before, "the measurement process is not running the endless Loop"
        agent.kill()  # SIGKILL: the agent cannot clean up
        agent.wait(10)
        gone = time.monotonic() + 10
        while _alive(child):
            assert time.monotonic() < gone, "the measurement process outlived the agent"
            time.sleep(0.1)
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait(10)
        if child is not None and _alive(child):
            os.kill(child, signal.SIGKILL)
