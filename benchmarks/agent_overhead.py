"""What the device agent's sandbox costs: a measurement in a child process vs in the agent's own process.

Measures the same small ONNX models (a) with ``measure_latency`` in this process, as the
agent did before measurements ran in a killable child, and (b) through a real agent on
127.0.0.1 (HTTP, base64, checks for external data, the child process and its pipe). Prints
the child's start-up time, the wall time per request of each way, their ratio, and the
measured medians (which must agree: the child times the same ONNX Runtime runs).

    .venv/bin/python benchmarks/agent_overhead.py            # 20 requests, 30 repeats each
"""
from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

from torch import nn

from nas_profiler_device import AgentClient, export_onnx
from nas_profiler_device.agent_server import make_server
from nas_profiler_device.measure import measure_latency

TOKEN = "benchmark-token-0001"


def _iqr_ms(seconds: list[float]) -> float:
    q1, _, q3 = statistics.quantiles(seconds, n=4)
    return (q3 - q1) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args()
    model = export_onnx(nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1)),
                        (1, 3, 32, 32))
    shapes = [(1, 3, 32, 32)]
    print(f"load average before: {os.getloadavg()}")
    server = make_server("127.0.0.1", 0, TOKEN)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        t0 = time.perf_counter()
        server.worker.start()
        startup = time.perf_counter() - t0
        client = AgentClient(server.url, TOKEN, timeout=300)
        local_s, agent_s, local_ms, agent_ms = [], [], [], []
        for _ in range(args.requests):  # interleaved, so a change in the machine's load hits both alike
            t0 = time.perf_counter()
            local_ms.append(measure_latency(model, shapes, repeats=args.repeats, warmup=2).median_ms)
            local_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            agent_ms.append(client.measure(model, shapes, repeats=args.repeats, warmup=2).median_ms)
            agent_s.append(time.perf_counter() - t0)
    finally:
        server.shutdown()
        server.server_close()
    med = statistics.median
    print(f"child process start-up: {startup:.2f} s (once per agent, and after a stopped measurement)")
    print(f"wall time per request: in-process {med(local_s) * 1e3:.1f} ms (IQR {_iqr_ms(local_s):.1f}), agent+child "
          f"{med(agent_s) * 1e3:.1f} ms (IQR {_iqr_ms(agent_s):.1f}); ratio {med(agent_s) / med(local_s):.2f}")
    print(f"measured median latency: in-process {med(local_ms):.3f} ms, in the child {med(agent_ms):.3f} ms "
          f"(ratio {med(agent_ms) / med(local_ms):.2f})")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
