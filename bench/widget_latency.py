"""The widget in Chromium: time from the click to the first sound, and silence between sentences.

The service runs on loopback backed by the fake Edge server (300 ms before the first audio byte,
then 20x real time), as in the browser tests (tests/e2e/conftest.py); the demo page at ``/``
embeds the widget. Debian's Chromium is driven by Playwright.

(a) Click to first audio: from the pointer's arrival on the mascot (Playwright moves the mouse
    there and presses at once, so there is no hover to prefetch on) to the current clip's
    ``playing`` event. "cold": a new cache folder for every run, the article and its clips new
    to the service; "cached": the service has read the article before (the first clip is in
    its cache) but the browser is new (no HTTP cache, no saved position).
    Targets: <= 400 ms cold, <= 100 ms cached (median).
(b) Silence between sentences: for each pair of consecutive sentences, the time from the
    ``ended`` of one to the ``playing`` of the next, minus the pause the text calls for (the
    widget's PAUSE_MS: 900 ms after the title, 700 ms between paragraphs, 250 ms between
    sentences, divided by the speed), over the first sentences of a cold article.
    Target: <= 150 ms at most. Stalls inside a clip (``waiting`` after ``playing``) are counted.
    By default each clip plays through at 1x (about 90 s for ten sentences); ``--skip`` jumps
    to the last half second of each clip once all of it has arrived (quick, but the next clips
    then have less time to load than a listener gives them).

Run: .venv/bin/python bench/widget_latency.py [--runs N] [--sentences N] [--skip]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.e2e.conftest: the browser tests' LiveService

from reader.config import Settings  # noqa: E402
from reader.pipeline import TextPipeline  # noqa: E402
from reader.testing.fake_edge import FakeEdgeServer  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, LiveService, free_port  # noqa: E402

FIRST_BYTE = 0.300
SPEED = 20.0
TARGET_COLD_MS = 400.0
TARGET_CACHED_MS = 100.0
TARGET_SILENCE_MS = 150.0
#: The widget's pauses at 1x (web/widget.js PAUSE_MS, docs/widget.md "How the article is read").
PAUSE_MS = {"sentence": 250.0, "paragraph": 700.0, "title": 900.0}
TIMEOUT_MS = 30_000

#: Before any page script: when the pointer reached the page's elements and when it pressed.
POINTER_CLOCK = """
window.__pointer = {};
for (const type of ["pointerover", "pointerdown"]) {
  window.addEventListener(type, (event) => { window.__pointer[type] ??= event.timeStamp; },
                          { capture: true });
}
"""

#: Once the widget is in the page: its <audio> elements' events, on the page's clock.
RECORD_MEDIA = """() => {
  const w = document.querySelector("reader-widget");
  window.__media = [];
  for (const audio of w.shadowRoot.querySelectorAll("audio")) {
    for (const type of ["playing", "ended", "waiting", "seeking"]) {
      audio.addEventListener(type, () => window.__media.push(
        { type, index: Number(audio.dataset.index ?? -1), t: performance.now() }));
    }
  }
}"""


class Bench:
    """One fake Edge server, one loaded text pipeline, Chromium; services made on demand."""

    def __init__(self, browser: Browser, edge: FakeEdgeServer, pipeline: TextPipeline,
                 scratch: Path) -> None:
        self.browser = browser
        self.edge = edge
        self.pipeline = pipeline
        self.scratch = scratch
        self._caches = 0

    @contextmanager
    def service(self) -> Iterator[LiveService]:
        """The app on a new port with a new, empty cache folder."""
        self._caches += 1
        settings = Settings.from_env({
            "READER_CACHE_DIR": str(self.scratch / f"cache-{self._caches}"),
            "READER_PORT": str(free_port()),
            "READER_EDGE_URL": self.edge.wss_url,
            "READER_EDGE_VOICE_LIST_URL": self.edge.voice_list_url,
            "READER_RATE_BURST": "100000",
        })
        live = LiveService(settings, self.pipeline)
        live.start()
        try:
            yield live
        finally:
            live.stop()

    @contextmanager
    def page(self, live: LiveService) -> Iterator[Page]:
        """The demo page in a new browser context (no HTTP cache, no localStorage)."""
        context = self.browser.new_context(viewport={"width": 1280, "height": 900},
                                           locale="zh-CN")
        context.set_default_timeout(TIMEOUT_MS)
        try:
            page = context.new_page()
            page.add_init_script(POINTER_CLOCK)
            page.goto(live.url + "/")
            page.wait_for_function('document.querySelector("reader-widget")?.shadowRoot')
            page.evaluate(RECORD_MEDIA)
            # A reader clicks a page that has finished loading (fonts, layout, requests).
            page.evaluate("document.fonts.ready.then(() => true)")
            page.wait_for_load_state("networkidle")
            yield page
        finally:
            context.close()


def click_to_sound(page: Page) -> float:
    """Click the mascot with no hover first; ms from the pointer's arrival to ``playing``."""
    box = page.get_by_test_id("reader-mascot").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function('window.__media.some((e) => e.type === "playing")')
    return float(page.evaluate("""() => {
      const playing = window.__media.find((e) => e.type === "playing").t;
      return playing - Math.min(...Object.values(window.__pointer));
    }"""))


def pause_ms(a: dict[str, Any], b: dict[str, Any]) -> float:
    """web/widget.js pauseBetween(): the pause after segment ``a`` when ``b`` follows."""
    if a["kind"] == "title" and b["kind"] != "title":
        return PAUSE_MS["title"]
    if a["paragraph"] != b["paragraph"]:
        return PAUSE_MS["paragraph"]
    return PAUSE_MS["sentence"]


def silences(page: Page, sentences: int, skip: bool) -> tuple[list[float], int]:
    """Play the first ``sentences`` + 1 sentences; per pair, ms of silence beyond the pause,
    and the number of stalls inside clips."""
    click_to_sound(page)
    widget = 'document.querySelector("reader-widget")'
    for index in range(sentences + 1):
        page.wait_for_function(
            f'window.__media.some((e) => e.type === "playing" && e.index === {index})',
            timeout=TIMEOUT_MS)
        if index == sentences:
            break
        if skip:
            page.wait_for_function(f"{widget}.currentIndex === {index}"
                                   f" && Number.isFinite({widget}.audio.duration)")
            page.evaluate(f"{widget}.audio.currentTime = {widget}.audio.duration - 0.5")
        page.wait_for_function(
            f'window.__media.some((e) => e.type === "ended" && e.index === {index})',
            timeout=TIMEOUT_MS * 3)  # a clip lasts up to ~20 s at 1x
    segments = page.evaluate(f"{widget}.segments")
    rate = float(page.evaluate(f"{widget}.rate"))
    events = page.evaluate("window.__media")

    def first(type_: str, index: int) -> float:
        return float(next(e["t"] for e in events if e["type"] == type_ and e["index"] == index))

    gaps = [first("playing", i + 1) - first("ended", i) - pause_ms(segments[i], segments[i + 1])
            / rate for i in range(sentences)]
    # "waiting" once a clip is playing is a stall in the middle of it (but not after a seek).
    sounding: set[int] = set()
    stalls = 0
    for event in events:
        if event["type"] == "playing":
            sounding.add(event["index"])
        elif event["type"] == "seeking":
            sounding.discard(event["index"])
        elif event["type"] == "waiting" and event["index"] in sounding:
            stalls += 1
    return gaps, stalls


def report(name: str, samples: list[float], target: float) -> None:
    median = statistics.median(samples)
    verdict = "ok" if median <= target else "OVER TARGET"
    runs = " ".join(f"{s:.0f}" for s in samples)
    print(f"{name:<28} median {median:6.0f} ms   max {max(samples):6.0f} ms"
          f"   (target <= {target:.0f} ms median: {verdict})   runs: {runs}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per click measurement")
    parser.add_argument("--sentences", type=int, default=10, help="sentence pairs for (b)")
    parser.add_argument("--skip", action="store_true", help="(b): jump to each clip's end")
    args = parser.parse_args()

    edge = FakeEdgeServer(first_byte_delay=FIRST_BYTE, speed=SPEED)
    edge.start_in_thread()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        scratch = Path(tmp)
        pipeline = TextPipeline.load(Settings.from_env({"READER_CACHE_DIR": str(scratch / "p")}))
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        bench = Bench(browser, edge, pipeline, scratch)
        try:
            # Not counted: Chromium's first page, and the fake server's tones for this article
            # (it encodes each once with ffmpeg; Edge has no such cost).
            with bench.service() as live, bench.page(live) as page:
                silences(page, 3, skip=True)

            cold = []
            for _ in range(args.runs):
                with bench.service() as live, bench.page(live) as page:
                    cold.append(click_to_sound(page))
            cached = []
            with bench.service() as live:
                with bench.page(live) as page:  # reads the article: its clips are cached now
                    click_to_sound(page)
                    # Until the three clips it loads have all arrived: the service is idle.
                    page.wait_for_function(
                        '[...document.querySelector("reader-widget").shadowRoot'
                        '.querySelectorAll("audio")].every((a) => Number.isFinite(a.duration))')
                for _ in range(args.runs):
                    with bench.page(live) as page:
                        cached.append(click_to_sound(page))
            print(f"fake Edge: {FIRST_BYTE * 1000:.0f} ms to the first byte, then {SPEED:.0f}x"
                  " real time; Chromium " + browser.version)
            print("(a) click on the mascot (no hover) to the first clip's `playing` event")
            report("    cold article", cold, TARGET_COLD_MS)
            report("    first segment cached", cached, TARGET_CACHED_MS)

            mode = "clips skipped to their last 0.5 s" if args.skip else "clips played through"
            with bench.service() as live, bench.page(live) as page:
                gaps, stalls = silences(page, args.sentences, args.skip)
            worst = max(gaps)
            verdict = "ok" if worst <= TARGET_SILENCE_MS else "OVER TARGET"
            print(f"(b) silence beyond the intended pause, first {args.sentences} sentence"
                  f" changes of a cold article ({mode}, 1x)")
            print(f"    median {statistics.median(gaps):6.0f} ms   max {worst:6.0f} ms"
                  f"   (target <= {TARGET_SILENCE_MS:.0f} ms max: {verdict})"
                  f"   stalls inside clips: {stalls}")
            print("    per change: " + " ".join(f"{g:.0f}" for g in gaps))
        finally:
            browser.close()
            edge.stop()


if __name__ == "__main__":
    main()
