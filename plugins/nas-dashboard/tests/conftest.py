"""Fixtures of the dashboard tests: generated stores, a live server on a free port, a headless Chromium."""
from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import sys

import pytest

from nas_dashboard.testing import generate_store

HERE = str(Path(__file__).parent)
if HERE not in sys.path:  # dash_testkit, importable here and in the background search's process
    sys.path.insert(0, HERE)

CHROMIUM = os.environ.get("NAS_DASHBOARD_CHROMIUM", "/usr/bin/chromium")
INSTALL = ("the browser tests need Debian's Chromium and Playwright's Python API: "
           "`apt-get install -y chromium` and `pip install playwright` (no `playwright install`: the tests drive "
           f"{CHROMIUM}; another path via NAS_DASHBOARD_CHROMIUM)")


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "browser: drives the dashboard in a real headless Chromium (runs in CI)")


@pytest.fixture(scope="module")
def gen_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished, generated experiment of 240 trials."""
    return generate_store(tmp_path_factory.mktemp("gen") / "exp", 240, seed=1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def serve() -> Iterator[Callable[..., str]]:
    """``serve(workdirs, token=None)`` starts uvicorn in a thread and returns the base URL."""
    import uvicorn

    from nas_dashboard.app import create_app

    servers: list[tuple[Any, threading.Thread]] = []

    def start(workdirs: list[Path], token: str | None = None) -> str:
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(workdirs, token=token), host="127.0.0.1", port=port,
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the dashboard server did not start")
            time.sleep(0.05)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, driven by Playwright. In CI a missing piece fails (never skips)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing(INSTALL + " (playwright is not installed)")
    if not (os.path.isfile(CHROMIUM) or shutil.which(CHROMIUM)):
        _missing(INSTALL + f" ({CHROMIUM} is missing)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


def _missing(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1360, "height": 900}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(30_000)  # generous: CI machines and this shared one can be very busy
    page.set_default_navigation_timeout(60_000)
    yield page
    context.close()


@pytest.fixture
def shots() -> Path | None:
    """Where screenshots go: NAS_DASHBOARD_SCREENSHOTS (e.g. docs/images), else nowhere."""
    where = os.environ.get("NAS_DASHBOARD_SCREENSHOTS")
    if not where:
        return None
    path = Path(where)
    path.mkdir(parents=True, exist_ok=True)
    return path
