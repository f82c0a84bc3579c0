"""Browser tests: the real service (uvicorn, on loopback) backed by the fake Edge server, and
Debian's Chromium driven by Playwright. The tests start everything they need themselves."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from reader.api import create_app
from reader.config import Settings
from reader.pipeline import TextPipeline
from reader.testing.fake_edge import FakeEdgeServer
from tests.e2e.reader_page import TIMEOUT_MS, ReaderPage

CHROMIUM = Path("/usr/bin/chromium")
HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = HERE / "screenshots"
#: Start-up flags for Chromium as root in a container, with no network beyond loopback.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveService:
    """The app served by uvicorn in a thread; stoppable, to test the service going away."""

    def __init__(self, settings: Settings, pipeline: TextPipeline) -> None:
        self.port = settings.port
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings, pipeline=pipeline)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the service did not start")
            time.sleep(0.02)

    @property
    def running(self) -> bool:
        return self._server is not None

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=20)
            self._server = self._thread = None


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: scripts/setup-browser installs it")
        pytest.skip("Chromium is not installed (scripts/setup-browser installs it)")
    return CHROMIUM


@pytest.fixture(scope="session")
def fake_edge() -> Iterator[FakeEdgeServer]:
    server = FakeEdgeServer(first_byte_delay=0.05, speed=20.0)
    server.start_in_thread()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def service(fake_edge: FakeEdgeServer, pipeline: TextPipeline,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    settings = Settings.from_env({
        "READER_CACHE_DIR": str(tmp_path_factory.mktemp("e2e-cache")),
        "READER_PORT": str(free_port()),
        "READER_EDGE_URL": fake_edge.wss_url,
        "READER_EDGE_VOICE_LIST_URL": fake_edge.voice_list_url,
        "READER_RATE_BURST": "100000",
    })
    live = LiveService(settings, pipeline)
    live.start()
    try:
        yield live
    finally:
        live.stop()


# Package scope, not session: while Playwright's sync API is up, an asyncio loop runs on the
# main thread, and the rest of the suite's asyncio.run() would fail after these tests.
@pytest.fixture(scope="package")
def playwright_session() -> Iterator[Playwright]:
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="package")
def browser(chromium: Path, playwright_session: Playwright) -> Iterator[Browser]:
    browser = playwright_session.chromium.launch(executable_path=str(chromium),
                                                 args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


#: Each test's call-phase report, so the page fixture knows whether the test failed.
CALL_REPORT = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.stash[CALL_REPORT] = report
    return report


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest) -> Iterator[Page]:
    page = context.new_page()
    yield page
    report = request.node.stash.get(CALL_REPORT, None)
    if report is not None and report.failed and not page.is_closed():
        # What the page looked like when the test failed (git ignores this folder).
        (SCREENSHOTS / "failures").mkdir(parents=True, exist_ok=True)
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in request.node.name)
        page.screenshot(path=str(SCREENSHOTS / "failures" / f"{name}.png"))


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot under tests/e2e/screenshots/ (the README shows one)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


@pytest.fixture
def reader(page: Page, service: LiveService) -> ReaderPage:
    """The demo page at ``/``, loaded, its widget mounted and its <audio> events logged."""
    return ReaderPage(page, service.url + "/").open()
