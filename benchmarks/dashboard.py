"""`nas dashboard` at 10,000 trials: time to answer a table page, the summary and the Pareto view.

Generates a 10,000-trial store (nas_dashboard.testing.generate_store), then asks the
app (in-process, through Starlette's TestClient: the full HTTP stack minus the socket)
for pages sorted by each kind of column, filtered and searched. Peer measured in the
same run: reading every trial the way `nas results` does (TrialStore.trials()).

    nice -n 10 .venv/bin/python benchmarks/dashboard.py [--trials 10000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    from starlette.testclient import TestClient

    from nas_core.experiment.store import TrialStore
    from nas_dashboard import create_app
    from nas_dashboard.testing import generate_store

    print(f"load average before: {os.getloadavg()}, cpus: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        workdir = generate_store(Path(tmp) / "exp", args.trials, seed=0)
        print(f"generated {args.trials} trials in {time.perf_counter() - t0:.1f} s")

        peer = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            store = TrialStore(workdir)
            store.trials()
            store.close()
            peer.append(time.perf_counter() - t0)

        queries = {
            "first page (id)": "sort=id&limit=50",
            "last page (id desc)": f"sort=id&order=desc&limit=50&offset={args.trials - 50}",
            "by accuracy desc": "sort=accuracy&order=desc&limit=50",
            "by flops, page 100": "sort=flops&limit=50&offset=5000",
            "by label op": "sort=op&limit=50&offset=2000",
            "status=failed": "status=failed&limit=50",
            "search op=skip by accuracy": "q=op%3Dskip&sort=accuracy&order=desc&limit=50",
            "search text 'sep3'": "q=sep3&limit=50",
        }
        with TestClient(create_app([workdir]), base_url="http://127.0.0.1") as client:
            t0 = time.perf_counter()
            client.get("/api/exp/0/summary").raise_for_status()
            first_summary = time.perf_counter() - t0
            rows = []
            for name, q in queries.items():
                times = []
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    r = client.get(f"/api/exp/0/trials?{q}")
                    times.append(time.perf_counter() - t0)
                    r.raise_for_status()
                rows.append((name, statistics.median(times), max(times), r.json()["total"]))
            cached = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                client.get("/api/exp/0/summary").raise_for_status()
                cached.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            client.get("/api/exp/0/pareto?x=flops&y=accuracy").raise_for_status()
            pareto = time.perf_counter() - t0

    print(f"\n{'table page query':32s} {'median ms':>10s} {'max ms':>8s} {'matches':>8s}")
    for name, med, worst, total in rows:
        print(f"{name:32s} {med * 1e3:10.1f} {worst * 1e3:8.1f} {total:8d}")
    worst_page = max(r[2] for r in rows)
    print(f"\nworst page over all queries and repeats: {worst_page * 1e3:.1f} ms (target < 200 ms)")
    print(f"peer, every trial read as `nas results` does: median {statistics.median(peer) * 1e3:.1f} ms "
          f"-> a page costs {max(r[1] for r in rows) / statistics.median(peer):.2f}x of that at worst (median)")
    print(f"summary: first (counts, best trial by index) {first_summary * 1e3:.0f} ms, "
          f"then polled unchanged {statistics.median(cached) * 1e3:.1f} ms")
    print(f"Pareto view (flops x accuracy, first time): {pareto * 1e3:.0f} ms")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
