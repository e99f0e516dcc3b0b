"""The dashboard in a real headless Chromium (Debian's), driven by Playwright.

Set NAS_DASHBOARD_SCREENSHOTS=docs/images to refresh the screenshots the docs show.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
import urllib.request

import pytest

from nas_core.experiment.store import TrialStore

pytestmark = pytest.mark.browser

ROWS = "#trial-table tbody tr[data-id]"


def _api(base: str, path: str):
    with urllib.request.urlopen(base + path, timeout=10) as r:
        return json.loads(r.read())


def _capture(errors: list, fn, *args) -> None:
    try:
        fn(*args)
    except BaseException as err:  # noqa: BLE001 - reported by the test
        errors.append(err)


def _row_ids(page) -> list[int]:
    return page.eval_on_selector_all(ROWS, "rows => rows.map(r => Number(r.dataset.id))")


def test_overview_table_rows_match_the_store(serve, page, gen_store, shots):
    base = serve([gen_store])
    page.goto(base + "/")
    page.wait_for_selector(ROWS)
    assert page.url.endswith("#/exp/0")  # one experiment: the first page is its overview with the table
    trials = TrialStore(gen_store).trials()
    newest = sorted(trials, key=lambda t: -t.id)[:50]
    assert _row_ids(page) == [t.id for t in newest]
    cells = page.eval_on_selector_all(ROWS, """rows => rows.map(r => ({
        status: r.children[1].innerText, flops: r.querySelector('td[data-col="flops"]').innerText,
        accuracy: r.querySelector('td[data-col="accuracy"]').innerText, sample: r.querySelector('td.sample').innerText}))""")
    for t, c in zip(newest, cells):
        assert c["status"] == (t.status if t.feasible or t.status != "succeeded" else "infeasible")
        assert float(c["flops"]) == t.costs["flops"]
        assert (c["accuracy"] == "") if "accuracy" not in t.metrics else float(c["accuracy"]) == pytest.approx(
            t.metrics["accuracy"], rel=1e-3)
        assert f"op={t.sample['op']}" in c["sample"] and f"width={t.sample['width']}" in c["sample"]
    assert page.inner_text("#pager-info") == "1–50 of 240"
    assert page.inner_text("#progress-done") == f"{sum(t.status != 'rejected' for t in trials)} / 240"
    best = _api(base, "/api/exp/0/summary")["best"]["id"]
    assert page.inner_text("#progress-best").startswith(f"#{best}")
    page.wait_for_selector("#overview-best .scatterlayer .trace")  # the best-so-far curve beside the cards
    if shots:
        page.screenshot(path=str(shots / "dashboard-overview.png"))

    page.click('th[data-key="accuracy"]')  # ascending, missing values last
    by_acc = sorted((t for t in trials if "accuracy" in t.metrics), key=lambda t: (t.metrics["accuracy"], t.id))
    page.wait_for_function(f"document.querySelector('{ROWS}').dataset.id == '{by_acc[0].id}'")
    assert _row_ids(page) == [t.id for t in by_acc[:50]]

    page.select_option("#status-filter", "failed")
    failed = [t.id for t in sorted(trials, key=lambda t: t.id) if t.status == "failed"]
    page.wait_for_function(f"document.querySelector('#pager-info').innerText.endsWith('of {len(failed)}')")
    assert sorted(_row_ids(page)) == failed[:50]

    page.select_option("#status-filter", "")
    page.fill("#search", "opp=skip")  # a mistyped label: the page says what to type
    page.wait_for_function("document.querySelector('#table-error').innerText.includes(\"no label 'opp'\")")
    page.fill("#search", "op=skip")
    skip = [t for t in trials if t.sample["op"] == "skip"]
    page.wait_for_function(f"document.querySelector('#pager-info').innerText.endsWith('of {len(skip)}')")
    assert page.inner_text("#table-error") == ""
    page.click(f"{ROWS} >> nth=0")
    page.wait_for_selector("#trial-title")
    assert page.inner_text("#trial-sample").count("skip") == 1


def test_click_a_pareto_point_opens_its_trial(serve, page, gen_store, shots):
    base = serve([gen_store])
    d = _api(base, "/api/exp/0/pareto?x=flops&y=accuracy")
    page.goto(base + "/#/exp/0/pareto")
    page.wait_for_selector("#pareto-plot .scatterlayer .trace path.point")
    page.check("#pareto-logx")  # costs span decades: the log axis is what a user picks
    page.wait_for_function("document.getElementById('pareto-plot').layout.xaxis.type === 'log'")
    traces = page.locator("#pareto-plot .scatterlayer .trace")
    assert traces.count() == 3  # trials, infeasible, Pareto set
    front = traces.nth(2).locator("path.point")
    assert front.count() == len(d["front"]) > 1
    k = len(d["front"]) // 2
    box = front.nth(k).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    hover = page.wait_for_selector(".hoverlayer .hovertext")
    assert f"trial #{d['front'][k]}" in hover.text_content()
    if shots:
        page.screenshot(path=str(shots / "dashboard-pareto.png"))
    page.mouse.click(x, y)
    page.wait_for_selector("#trial-title")
    assert page.url.endswith(f"#/exp/0/trial/{d['front'][k]}")
    assert page.inner_text("#trial-title").startswith(f"Trial #{d['front'][k]}")
    assert "Pareto set" in page.inner_text("#trial-title")
    costs = page.inner_text("#trial-costs")
    assert "MACs" in costs and "parameters" in costs
    href = page.get_attribute("#download-arch", "href")
    assert href == f"/api/exp/0/trials/{d['front'][k]}/architecture.json"


@pytest.mark.slow
def test_a_new_trial_appears_without_reloading(serve, page, tmp_path):
    from dash_testkit import run_search

    workdir = tmp_path / "live"
    run_search(str(workdir), 2, 0.6)  # the store exists with two trials when the dashboard starts
    base = serve([workdir])
    page.goto(base + "/")
    page.wait_for_selector(ROWS)
    assert _row_ids(page) == [2, 1]
    page.evaluate("window.__not_reloaded = true")
    # the same search resumed to 5 trials, in a background thread with its own store connection
    errors: list[BaseException] = []
    search = threading.Thread(target=lambda: _capture(errors, run_search, str(workdir), 5, 0.6), daemon=True)
    search.start()
    lags = []
    con = sqlite3.connect(f"{(workdir / 'trials.db').resolve().as_uri()}?mode=ro", uri=True)
    seen, deadline = 2, time.monotonic() + 90
    while seen < 5 and time.monotonic() < deadline and not errors:
        stored = con.execute("SELECT count(*) FROM trials WHERE status != 'running'").fetchone()[0]
        if stored > seen:  # a trial landed (finished): its row must show it, finished, within 2 s
            landed = time.monotonic()
            page.wait_for_function(f"[...document.querySelectorAll('{ROWS}')].filter(r => r.children[1].innerText"
                                   f" != 'running').length >= {stored}", timeout=10_000)
            lags.append(time.monotonic() - landed)
            seen = stored
        time.sleep(0.05)
    search.join(timeout=60)
    assert not errors, errors
    assert seen == 5 and _row_ids(page) == [5, 4, 3, 2, 1]
    assert max(lags) < 2.0, lags
    assert page.evaluate("window.__not_reloaded") is True
    page.wait_for_function("document.querySelector('#progress-done').innerText == '5 / 5'")


@pytest.mark.slow
def test_oneshot_probability_view(serve, page, tmp_path, shots):
    from oneshot_run import run_darts

    workdir = run_darts(tmp_path / "darts")
    base = serve([workdir])
    page.goto(base + "/#/exp/0")
    page.wait_for_selector("#tab-oneshot")
    page.click("#tab-oneshot")
    page.wait_for_selector("#oneshot-plots .plot .scatterlayer")
    d = _api(base, "/api/exp/0/oneshot")
    assert page.locator("#oneshot-plots .plot").count() == len(d["labels"]) >= 2
    first = next(iter(d["labels"]))
    legend = page.eval_on_selector_all("#oneshot-plot-0 .legendtext", "els => els.map(e => e.textContent)")
    assert legend == [c["candidate"] for c in d["labels"][first]]
    if shots:
        page.screenshot(path=str(shots / "dashboard-oneshot.png"), full_page=True)


def test_experiments_side_by_side(serve, page, gen_store, tmp_path):
    from nas_dashboard.testing import generate_store

    other = generate_store(tmp_path / "other", 80, seed=5)
    base = serve([gen_store, other])
    page.goto(base + "/#/compare")
    page.wait_for_selector("#compare-front .scatterlayer .trace")
    names = page.eval_on_selector_all("#compare-best .legendtext", "els => els.map(e => e.textContent)")
    assert names == ["exp", "other"]
    assert page.locator("#experiments a").all_inner_texts() == ["exp", "other"]
