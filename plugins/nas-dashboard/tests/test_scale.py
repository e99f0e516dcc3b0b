"""10,000 trials: every table page is right and answered in under 200 ms (server-side paging in SQLite)."""
from __future__ import annotations

import time

import pytest
from starlette.testclient import TestClient

from nas_core.experiment.store import TrialStore
from nas_dashboard import create_app
from nas_dashboard.testing import generate_store

N = 10_000


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    workdir = generate_store(tmp_path_factory.mktemp("scale") / "exp", N, seed=0)
    store = TrialStore(workdir)
    trials = store.trials()
    store.close()
    return workdir, trials


def _value(t, name):
    return t.values.get(name) if name in ("accuracy", "flops") else t.sample[name]


@pytest.mark.slow
@pytest.mark.parametrize("sort, order, status, q, offset", [
    ("id", "asc", None, None, 0),
    ("id", "desc", None, None, N - 50),
    ("accuracy", "desc", None, None, 0),
    ("flops", "asc", None, None, 5000),
    ("op", "asc", None, None, 2000),
    ("accuracy", "desc", "succeeded", None, 100),
    ("accuracy", "desc", None, "op=skip", 1000),
])
def test_pages_at_10000_trials_are_right_and_fast(big, sort, order, status, q, offset):
    workdir, trials = big
    params = {"sort": sort, "order": order, "offset": offset, "limit": 50, **({"status": status} if status else {}),
              **({"q": q} if q else {})}
    with TestClient(create_app([workdir]), base_url="http://127.0.0.1") as client:
        timings = []
        for _ in range(5):  # the best of five: the machine is shared, the query's own cost is the figure
            t0 = time.perf_counter()
            page = client.get("/api/exp/0/trials", params=params).json()
            timings.append(time.perf_counter() - t0)
    keep = [t for t in trials if (status is None or t.status == status) and (q is None or t.sample["op"] == "skip")]
    desc = order == "desc"
    if sort == "id":
        expected = sorted(keep, key=lambda t: t.id, reverse=desc)
    else:
        present = [t for t in keep if _value(t, sort) is not None]
        missing = [t for t in keep if _value(t, sort) is None]  # last, in both directions; ties in trial order
        expected = sorted(sorted(present, key=lambda t: t.id), key=lambda t: _value(t, sort), reverse=desc) + missing
    assert page["total"] == len(keep)
    assert [r["id"] for r in page["rows"]] == [t.id for t in expected[offset:offset + 50]]
    assert min(timings) < 0.2, f"{sort} {order} page at offset {offset}: {min(timings) * 1e3:.0f} ms"
