"""TrialQuery: SQL pages, best, Pareto set and best-so-far equal the same computed in Python on the records."""
from __future__ import annotations

import math
import random

import pytest

from nas_core.errors import ConfigError
from nas_core.experiment import TrialRecord, TrialStore
from nas_core.experiment.query import TrialQuery, best_trial
from nas_core.experiment.report import pareto_trials
from nas_core.experiment.spec import Objective

OPS = ["conv3x3", "conv5x5", "skip"]


def make_store(path, n=300, seed=0):
    """A store of ``n`` trials with every status, NaN metrics, infeasible trials and repeated values."""
    rng = random.Random(seed)
    store = TrialStore(path)
    store.set_meta("objectives", [["accuracy", "max"], ["flops", "min"]])
    store.set_meta("labels", ["width", "op"])
    store.set_meta("costs", ["flops"])
    store.set_meta("units", {"accuracy": "fraction", "flops": "MACs"})
    for i in range(1, n + 1):
        status = rng.choice(["succeeded"] * 6 + ["failed", "rejected", "pruned"])
        acc = rng.choice([round(rng.random(), 2), math.nan]) if status == "succeeded" else math.nan
        sample = {"width": rng.choice([4, 8, 16, 32]), "op": rng.choice(OPS)}
        flops = float(sample["width"] * (9 if sample["op"] == "conv3x3" else 25 if sample["op"] == "conv5x5" else 1))
        ok = status == "succeeded" and not math.isnan(acc)
        store.add_trial(TrialRecord(
            id=i, batch=i, sample=sample, status=status, score=acc if ok else None,
            metrics={"accuracy": acc, "loss": rng.random()} if status != "rejected" else {}, costs={"flops": flops},
            feasible=ok and rng.random() > 0.1, duration=rng.random(), worker="w", finished=1000.0 + i))
    return store


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    path = tmp_path_factory.mktemp("query") / "trials.db"
    records = make_store(path).trials()
    return TrialQuery(path), records


def python_order(records, key, descending):
    have = [t for t in records if isinstance(key(t), (int, float)) and not math.isnan(key(t))]
    missing = [t for t in records if t not in have]
    have.sort(key=lambda t: (-key(t) if descending else key(t), t.id))
    return have + sorted(missing, key=lambda t: t.id)


@pytest.mark.parametrize("sort, key", [("accuracy", lambda t: t.metrics.get("accuracy")),
                                       ("flops", lambda t: t.costs["flops"]),
                                       ("duration", lambda t: t.duration)])
@pytest.mark.parametrize("descending", [False, True])
def test_pages_sort_like_python_with_missing_values_last(stored, sort, key, descending):
    query, records = stored
    expected = [t.id for t in python_order(records, key, descending)]
    pages = [query.page(sort, descending=descending, offset=o, limit=70) for o in range(0, 300, 70)]
    assert [t.id for p in pages for t in p.trials] == expected
    assert {p.total for p in pages} == {300}


def test_filters_by_status_label_value_and_search(stored):
    query, records = stored
    page = query.page("label:width", status=["succeeded", "pruned"], limit=None)
    expected = sorted((t for t in records if t.status in ("succeeded", "pruned")), key=lambda t: (t.sample["width"], t.id))
    assert [t.id for t in page.trials] == [t.id for t in expected] and page.total == len(expected)
    page = query.page(label_values={"width": 16, "op": "skip"}, limit=5)
    matching = [t.id for t in records if t.sample == {"width": 16, "op": "skip"}]
    assert page.total == len(matching) and [t.id for t in page.trials] == matching[:5]
    page = query.page(search="CONV5", descending=True, limit=None)  # case-insensitive, in label values only
    assert [t.id for t in page.trials] == [t.id for t in reversed(records) if t.sample["op"] == "conv5x5"]
    assert query.page(search="width").total == 0  # label names are not values
    assert [t.id for t in query.last(3)] == [298, 299, 300]


def test_counts_best_pareto_and_best_so_far_equal_python(stored):
    query, records = stored
    counts = query.counts()
    assert counts == {s: sum(t.status == s for t in records) for s in ("succeeded", "failed", "rejected", "pruned",
                                                                          "timeout")}
    assert query.count("succeeded") == counts["succeeded"] and query.count() == 300
    best = query.best()
    assert best is not None and best.id == best_trial(records).id
    assert best_trial(query.store).id == best.id
    objectives = [Objective("accuracy", "max"), Objective("flops", "min")]
    assert [t.id for t in query.pareto()] == [t.id for t in pareto_trials(records, objectives)]
    three = {"accuracy": "max", "flops": "min", "loss": "min"}
    assert [t.id for t in query.pareto(three)] == [
        t.id for t in pareto_trials(records, [Objective(m, d) for m, d in three.items()])]
    steps, top = [], -math.inf
    for t in records:
        if t.status == "succeeded" and t.feasible and t.score is not None and t.score > top:
            top = t.score
            steps.append((t.id, t.score))
    series = query.best_so_far()
    assert [(p.trial_id, p.value) for p in series] == steps and series[-1].trial_id == best.id
    by_time = query.best_so_far("time")
    assert [p.trial_id for p in by_time] == [i for i, _ in steps] and by_time[0].x > 0


def test_columns_and_mistakes_are_named(stored):
    query, _ = stored
    assert query.columns()[:3] == ["id", "batch", "status"]
    assert {"accuracy", "flops", "loss", "label:width", "label:op"} <= set(query.columns())
    with pytest.raises(ConfigError, match=r"cannot sort by 'acuracy'.*Did you mean 'accuracy'"):
        query.page("acuracy")
    with pytest.raises(ConfigError, match=r"unknown status 'succeded'. Did you mean 'succeeded'"):
        query.page(status="succeded")
    with pytest.raises(ConfigError, match=r"unknown label 'widht'. Did you mean 'width'"):
        query.page(label_values={"widht": 4})
    with pytest.raises(ConfigError, match="offset must be an integer >= 0"):
        query.page(offset=-1)
    with pytest.raises(ConfigError, match="by must be 'trial' or 'time'"):
        query.best_so_far("clock")


def test_reader_never_writes_the_store(tmp_path):
    make_store(tmp_path / "trials.db", n=20).close()
    before = (tmp_path / "trials.db").read_bytes()
    query = TrialQuery(tmp_path)
    query.page("accuracy", limit=5), query.best(), query.pareto(), query.counts(), query.best_so_far()
    with pytest.raises(Exception, match="cannot write .*read-only"):
        query.store.connection().execute("DELETE FROM trials")
    query.store.close()
    assert (tmp_path / "trials.db").read_bytes() == before


def test_reader_sees_a_running_search(tmp_path):
    store = make_store(tmp_path / "trials.db", n=20)
    query = TrialQuery(tmp_path)
    writer = store.connection()
    writer.execute("BEGIN IMMEDIATE")  # a search in the middle of writing a trial
    writer.execute("UPDATE trials SET status = 'timeout' WHERE id <= 10")
    assert store.count("timeout") == 10  # the writer sees its own change ...
    assert query.count() == 20 and query.count("timeout") == 0  # ... the reader only what is committed
    writer.execute("ROLLBACK")
    store.add_trial(TrialRecord(id=21, batch=21, sample={"width": 4, "op": "skip"}, status="failed"))
    assert query.count() == 21 and query.last(1)[0].id == 21  # each committed trial is seen


def test_nas_results_prints_a_large_pareto_set_in_part_and_lists_it_whole_in_json(tmp_path):
    import json

    from click.testing import CliRunner

    from nas_core.cli.main import cli

    store = TrialStore(tmp_path)
    store.set_meta("objectives", [["accuracy", "max"], ["flops", "min"]])
    for i in range(1, 41):  # 40 trials with equal values: all on the Pareto set
        store.add_trial(TrialRecord(id=i, batch=i, sample={"width": 8}, status="succeeded", score=0.5,
                                    metrics={"accuracy": 0.5}, costs={"flops": 100.0}))
    store.close()
    assert TrialQuery(tmp_path).pareto_ids() == list(range(1, 41))
    out = CliRunner().invoke(cli, ["results", str(tmp_path)]).output
    pareto_line = "".join(out[out.index("Pareto set ("):].splitlines())  # the console wraps long lines
    assert pareto_line.count("#") == 30 and pareto_line.endswith("... (40 trials; --json lists every one)")
    data = json.loads(CliRunner().invoke(cli, ["results", str(tmp_path), "--json"]).output)
    assert data["pareto"] == list(range(1, 41)) and data["total"] == 40


def test_pareto_plot_labels_each_distinct_point_once_and_at_most_thirty(tmp_path):
    from nas_core.experiment.report import MAX_LABELS, plot_pareto

    trials = [TrialRecord(id=i, batch=i, sample={"width": i}, status="succeeded", score=i / 100,
                          metrics={"accuracy": (i // 2) / 100}, costs={"flops": float(i // 2)}) for i in range(200)]
    fig = plot_pareto(trials, [Objective("accuracy", "max"), Objective("flops", "min")], {}, tmp_path / "p.png")
    labels = [t.get_text() for t in fig.axes[0].texts]  # 100 distinct points, each reached by two trials
    assert len(labels) == MAX_LABELS == len(set(labels)) and all(int(x[1:]) % 2 == 0 for x in labels)
    assert labels[0] == "#0" and labels[-1] == "#198"
