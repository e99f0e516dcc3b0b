"""The dashboard's JSON API against the store: the same best trial and Pareto set as `nas results`."""
from __future__ import annotations

import hashlib
import shutil

import pytest
from starlette.testclient import TestClient

from nas_core.experiment.report import Report
from nas_core.experiment.store import TrialStore
from nas_dashboard import ExperimentView, create_app
from nas_dashboard.testing import generate_store


@pytest.fixture(scope="module")
def client(gen_store):
    with TestClient(create_app([gen_store]), base_url="http://127.0.0.1") as c:
        yield c


def _trials(workdir):
    store = TrialStore(workdir)
    try:
        return store.trials()
    finally:
        store.close()


def test_default_page_is_the_first_trials_in_order(client, gen_store):
    page = client.get("/api/exp/0/trials?limit=25").json()
    trials = _trials(gen_store)
    assert page["total"] == len(trials) == 240
    assert [r["id"] for r in page["rows"]] == [t.id for t in trials[:25]]
    first = page["rows"][0]
    assert first["sample"] == trials[0].sample and first["values"]["flops"] == trials[0].costs["flops"]


def test_sort_by_a_metric_descending_puts_missing_values_last(client, gen_store):
    trials = _trials(gen_store)
    rows = []
    for offset in range(0, 240, 100):
        rows += client.get(f"/api/exp/0/trials?sort=accuracy&order=desc&limit=100&offset={offset}").json()["rows"]
    with_acc = sorted((t for t in trials if "accuracy" in t.metrics), key=lambda t: (-t.metrics["accuracy"], t.id))  # ties in trial order
    assert [r["id"] for r in rows[:len(with_acc)]] == [t.id for t in with_acc]
    assert all("accuracy" not in r["values"] for r in rows[len(with_acc):]) and len(rows) == 240


def test_sort_by_cost_and_by_label(client, gen_store):
    trials = _trials(gen_store)
    rows = client.get("/api/exp/0/trials?sort=flops&order=asc&limit=1000").json()["rows"]
    assert [r["id"] for r in rows] == [t.id for t in sorted(trials, key=lambda t: (t.costs["flops"], t.id))]
    rows = client.get("/api/exp/0/trials?sort=op&limit=1000").json()["rows"]
    assert [r["sample"]["op"] for r in rows] == sorted(t.sample["op"] for t in trials)


def test_filter_by_status_and_search_by_label_value(client, gen_store):
    trials = _trials(gen_store)
    failed = client.get("/api/exp/0/trials?status=failed&limit=1000").json()
    assert failed["total"] == sum(t.status == "failed" for t in trials) > 0
    assert {r["status"] for r in failed["rows"]} == {"failed"}
    succeeded = client.get("/api/exp/0/trials?status=succeeded&limit=1000").json()["rows"]
    assert [(r["id"], r["feasible"]) for r in succeeded] == [(t.id, t.feasible) for t in trials
                                                            if t.status == "succeeded"]
    assert not all(r["feasible"] for r in succeeded)  # infeasible ones are succeeded trials, marked
    hits = client.get("/api/exp/0/trials?q=op=skip&limit=1000").json()
    assert [r["id"] for r in hits["rows"]] == [t.id for t in trials if t.sample["op"] == "skip"]
    hits = client.get("/api/exp/0/trials", params={"q": "inputs=[0, 1]", "limit": 1000}).json()
    assert [r["id"] for r in hits["rows"]] == [t.id for t in trials if t.sample["inputs"] == [0, 1]]
    hits = client.get("/api/exp/0/trials", params={"q": "width=64", "status": "succeeded", "limit": 1000}).json()
    assert [r["id"] for r in hits["rows"]] == [t.id for t in trials if t.sample["width"] == 64 and t.status ==
                                               "succeeded"]
    text = client.get("/api/exp/0/trials", params={"q": "SEP3", "limit": 1000}).json()
    assert text["total"] == sum(t.sample["op"] == "sep3x3" for t in trials)


@pytest.mark.parametrize("query, fragment", [
    ("sort=accurcy", "cannot sort by 'accurcy': it is neither a column, a metric nor a label. Did you mean 'accuracy'"),
    ("status=done", "unknown status 'done'."),
    ("q=opp=skip", "no label 'opp' to search by; labels: op, width, depth, inputs"),
    ("limit=0", "page limit must be 1..1000"),
    ("offset=x", "query parameter 'offset' must be an integer"),
])
def test_bad_table_queries_say_what_to_use(client, query, fragment):
    r = client.get(f"/api/exp/0/trials?{query}")
    assert r.status_code == 400 and fragment in r.json()["error"]


def test_summary_best_and_pareto_equal_nas_results(client, gen_store):
    report = Report(gen_store)
    summary = client.get("/api/exp/0/summary").json()
    assert summary["best"]["id"] == report.best.id
    assert summary["trials"] == 240 and summary["max_trials"] == 240
    assert summary["done"] == sum(t.status != "rejected" for t in report.trials)
    assert summary["counts"]["failed"] == sum(t.status == "failed" for t in report.trials)
    assert summary["counts"]["infeasible"] == sum(t.status == "succeeded" and not t.feasible for t in report.trials)
    assert summary["time_used"] == 480.0
    pareto = client.get("/api/exp/0/pareto?x=flops&y=accuracy").json()
    assert sorted(pareto["front"]) == sorted(t.id for t in report.pareto)
    assert pareto["x_label"] == "FLOPs (MACs)" and pareto["dx"] == "min" and pareto["dy"] == "max"
    assert len(pareto["points"]) == sum(t.status == "succeeded" for t in report.trials)
    point = next(p for p in pareto["points"] if p["id"] == pareto["front"][0])
    assert point["sample"] == next(t.sample for t in report.trials if t.id == point["id"])


def test_pareto_for_any_two_values_and_bad_axis(client, gen_store):
    from nas_core.experiment.report import pareto_trials
    from nas_core.experiment.spec import Objective

    d = client.get("/api/exp/0/pareto?x=params&y=loss").json()
    expected = pareto_trials(Report(gen_store).trials, [Objective("params", "min"), Objective("loss", "max")])
    assert sorted(d["front"]) == sorted(t.id for t in expected)
    d = client.get("/api/exp/0/pareto?x=params&y=loss&dy=min").json()
    expected = pareto_trials(Report(gen_store).trials, [Objective("params", "min"), Objective("loss", "min")])
    assert sorted(d["front"]) == sorted(t.id for t in expected)
    r = client.get("/api/exp/0/pareto?x=latency&y=accuracy")
    assert r.status_code == 400 and "no objective, metric or cost named 'latency'" in r.json()["error"]


def test_best_so_far_by_trial_and_by_time(client, gen_store):
    d = client.get("/api/exp/0/best-so-far").json()
    trials = _trials(gen_store)
    best, steps = None, []
    for t in trials:
        if t.status == "succeeded" and t.feasible and (best is None or t.score > best.score):
            best = t
            steps.append((t.id, t.metrics["accuracy"], t.id))
    steps.append((trials[-1].id, best.metrics["accuracy"], best.id))  # the line runs on to the newest trial
    assert list(zip(d["by_trial"]["x"], d["by_trial"]["best"], d["by_trial"]["best_id"])) == steps
    assert d["by_time"]["best"][-1] == steps[-1][1] and d["by_time"]["x"] == sorted(d["by_time"]["x"])
    start = min(t.finished - t.duration for t in trials)
    assert d["by_time"]["x"][-1] == pytest.approx(max(t.finished for t in trials) - start, abs=1e-3)
    assert d["label"] == "Accuracy"


def test_label_effects_group_the_objective_by_value(client, gen_store):
    d = client.get("/api/exp/0/labels").json()
    trials = [t for t in _trials(gen_store) if t.status == "succeeded"]
    skip = next(g for g in d["labels"]["op"] if g["value"] == "skip")
    assert skip["ids"] == [t.id for t in trials if t.sample["op"] == "skip"]
    assert skip["y"] == [t.metrics["accuracy"] for t in trials if t.sample["op"] == "skip"]
    assert [g["value"] for g in d["labels"]["width"]] == ["8", "16", "32", "64"]  # numbers in numeric order


def test_trial_page_has_costs_with_units_and_the_error(client, gen_store):
    trials = _trials(gen_store)
    failed = next(t for t in trials if t.status == "failed")
    d = client.get(f"/api/exp/0/trials/{failed.id}").json()
    assert d["error"] == failed.error and d["status"] == "failed"
    assert {c["name"]: (c["value"], c["unit"]) for c in d["costs"]} == {
        "flops": (failed.costs["flops"], "MACs"), "params": (failed.costs["params"], "parameters")}
    best = client.get("/api/exp/0/summary").json()["best"]["id"]
    assert client.get(f"/api/exp/0/trials/{best}").json()["is_best"] is True
    r = client.get("/api/exp/0/trials/99999")
    assert r.status_code == 404 and "no trial #99999" in r.json()["error"]
    assert client.get("/api/exp/7/summary").status_code == 404


def test_oneshot_probabilities_per_candidate_and_epoch(tmp_path):
    workdir = generate_store(tmp_path / "os", 3, oneshot_epochs=4)
    with TestClient(create_app([workdir]), base_url="http://127.0.0.1") as c:
        d = c.get("/api/exp/0/oneshot").json()
        assert c.get("/api/exp/0/summary").json()["oneshot"] is True
    assert [s["candidate"] for s in d["labels"]["op"]] == ["conv3x3", "conv5x5", "sep3x3", "skip"]
    assert d["labels"]["op"][0]["epoch"] == [1, 2, 3, 4]
    for e in range(4):
        assert sum(s["p"][e] for s in d["labels"]["width"]) == pytest.approx(1.0, abs=1e-3)
    assert [e["weight_loss"] for e in d["epochs"]] == [1.0, 0.5, 1 / 3, 0.25]


def test_requests_cannot_write_and_the_store_is_unchanged(gen_store):
    before = hashlib.sha256((gen_store / "trials.db").read_bytes()).hexdigest()
    with TestClient(create_app([gen_store]), base_url="http://127.0.0.1") as c:
        for method in ("post", "put", "delete", "patch"):
            r = getattr(c, method)("/api/exp/0/trials")
            assert r.status_code == 405 and "read-only" in r.text
        c.get("/api/exp/0/summary")
    assert hashlib.sha256((gen_store / "trials.db").read_bytes()).hexdigest() == before
    con = ExperimentView(gen_store).store.connection()
    with pytest.raises(Exception, match="readonly|read-only"):
        con.execute("DELETE FROM trials")
    assert hashlib.sha256((gen_store / "trials.db").read_bytes()).hexdigest() == before


def test_a_copied_store_file_is_served(gen_store, tmp_path):
    (tmp_path / "copy").mkdir()
    shutil.copy(gen_store / "trials.db", tmp_path / "copy" / "trials.db")
    with TestClient(create_app([tmp_path / "copy", gen_store]), base_url="http://127.0.0.1") as c:
        exps = c.get("/api/experiments").json()
    assert [e["trials"] for e in exps] == [240, 240]
    assert [e["name"] for e in exps] == ["copy", "exp"]


def test_token_is_required_when_set(gen_store):
    token = "s3cret-token-of-some-length"
    with TestClient(create_app([gen_store], token=token), base_url="http://127.0.0.1") as c:
        r = c.get("/api/experiments")
        assert r.status_code == 401 and "needs its token" in r.text
        assert c.get("/api/experiments", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/api/experiments", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        r = c.get(f"/?token={token}")
        assert r.status_code == 200 and "nas_dashboard_token" in r.headers["set-cookie"]
        assert c.get("/api/experiments").status_code == 200  # the cookie now carries it


def test_without_a_token_only_loopback_host_names_are_answered(gen_store):
    """A page elsewhere that rebinds its name to 127.0.0.1 (DNS rebinding) cannot read the API."""
    with TestClient(create_app([gen_store]), base_url="http://attacker.example") as c:
        r = c.get("/api/experiments")
        assert r.status_code == 400 and "Invalid host header" in r.text
    for base in ("http://localhost:8080", "http://127.0.0.1:8080", "http://[::1]:8080"):
        with TestClient(create_app([gen_store]), base_url=base) as c:
            assert c.get("/api/experiments").status_code == 200, base
    with TestClient(create_app([gen_store], token="x" * 20), base_url="http://nas-box.lan") as c:
        assert c.get("/api/experiments", headers={"Authorization": "Bearer " + "x" * 20}).status_code == 200


def test_page_and_local_plotly(client):
    html = client.get("/").text
    assert '<script src="/plotly.min.js">' in html and "http" not in html.split("<body>")[0].replace(
        'name="viewport"', "")
    js = client.get("/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000 and b"plotly" in js.content[:2000].lower()
    assert client.get("/static/app.js").status_code == 200


def test_architecture_download_is_seed_json_that_apply_fixed_architecture_reads(tmp_path):
    import torch

    from nas_core.experiment import Experiment
    from nas_core.space import apply_fixed_architecture
    from dash_testkit import CheapTrainer, ToySpace, params_profiler

    space = ToySpace()
    exp = Experiment(space, CheapTrainer(), "random", profilers={"params": params_profiler(space)},
                     objectives={"accuracy": "max", "params": "min"}, max_trials=3, workdir=tmp_path / "run",
                     seed=0, progress=False)
    exp.run()
    with TestClient(create_app([tmp_path / "run"]), base_url="http://127.0.0.1") as c:
        r = c.get("/api/exp/0/trials/2/architecture.json")
        summary = c.get("/api/exp/0/summary").json()
    assert summary["max_trials"] == 3 and summary["done"] == 3 and summary["objectives"] == [["accuracy", "max"],
                                                                                             ["params", "min"]]
    assert 0 < summary["time_used"] < 120 and summary["axis_labels"]["params"] == "Parameters (parameters)"
    assert r.headers["content-disposition"] == 'attachment; filename="run_trial2_architecture.json"'
    model = apply_fixed_architecture(ToySpace(), r.json())
    assert model(torch.zeros(2, 8)).shape == (2, 3)
    assert r.json() == TrialStore(tmp_path / "run").trial(2).sample


def test_a_copy_taken_while_a_search_writes_is_read_with_its_wal(tmp_path):
    from nas_core.experiment.store import TrialRecord

    store = TrialStore(tmp_path / "live")  # open: the last trials are still in trials.db-wal
    for i in range(1, 6):
        store.add_trial(TrialRecord(id=i, batch=i, sample={"op": "a"}, status="succeeded", score=i / 10,
                                    metrics={"accuracy": i / 10}))
    assert (tmp_path / "live" / "trials.db-wal").exists()
    (tmp_path / "copy").mkdir()
    for name in ("trials.db", "trials.db-wal"):
        shutil.copy(tmp_path / "live" / name, tmp_path / "copy" / name)
    with TestClient(create_app([tmp_path / "copy", tmp_path / "live"]), base_url="http://127.0.0.1") as c:
        exps = c.get("/api/experiments").json()
        store.add_trial(TrialRecord(id=6, batch=6, sample={"op": "b"}, status="failed", error="boom"))
        live = c.get("/api/exp/1/summary").json()
    store.close()
    assert [e["trials"] for e in exps] == [5, 5] and [e["best"]["id"] for e in exps] == [5, 5]
    assert live["trials"] == 6 and live["counts"]["failed"] == 1  # the running store is read live


def test_trial_page_has_the_learning_curve(tmp_path):
    from nas_core.pruning import CurveStore

    workdir = generate_store(tmp_path / "curves", 4)
    with CurveStore(workdir) as curves:  # what a trainer's per-epoch reports write
        curves.start(2)
        for step, acc in [(1, 0.5), (2, 0.7), (3, float("nan"))]:
            curves.add(2, step, acc, {"accuracy": acc, "loss": 1 - acc})
        curves.end(2, "completed")
    with TestClient(create_app([workdir]), base_url="http://127.0.0.1") as c:
        curve = c.get("/api/exp/0/trials/2").json()["learning_curve"]
        assert c.get("/api/exp/0/trials/1").json()["learning_curve"] == []
    assert [p["step"] for p in curve] == [1, 2, 3] and [p["value"] for p in curve] == [0.5, 0.7, None]
    assert curve[1]["metrics"] == {"accuracy": 0.7, "loss": pytest.approx(0.3)}
    assert curve[2]["metrics"] == {"accuracy": None, "loss": None}
