"""The demo page with its <reader-widget>, as the browser tests drive it.

Everything here waits on conditions in the page (``wait_for_function``), never on the clock.
JavaScript snippets see the widget as ``w``; segments are the manifest's, as dicts.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page

#: How long any wait in the browser may take before the test fails (generous: CI machines vary).
TIMEOUT_MS = 10_000

#: Before any page script: count calls to play() (nothing may play before a click or a key).
COUNT_PLAY_CALLS = """
window.__playCalls = 0;
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function (...args) {
  window.__playCalls += 1;
  return play.apply(this, args);
};
"""

#: Once the widget is in the page: log its <audio> elements' events with the page's clock.
RECORD_MEDIA = """() => {
  const w = document.querySelector("reader-widget");
  window.__media = [];
  for (const audio of w.shadowRoot.querySelectorAll("audio")) {
    for (const type of ["playing", "ended", "pause", "seeked"]) {
      audio.addEventListener(type, () => window.__media.push({
        type, index: Number(audio.dataset.index ?? -1), clip: audio.dataset.clip ?? "",
        t: performance.now() }));
    }
  }
}"""

WIDGET = 'document.querySelector("reader-widget")'


class ReaderPage:
    """One tab on the demo page; ``open()`` loads it."""

    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.url = url
        page.add_init_script(COUNT_PLAY_CALLS)

    # ---------------------------------------------------------------- page

    def open(self) -> ReaderPage:
        self.page.goto(self.url)
        self._mounted()
        return self

    def reload(self) -> ReaderPage:
        self.page.reload()
        self._mounted()
        return self

    def _mounted(self) -> None:
        self.page.wait_for_function(
            f'customElements.get("reader-widget") && {WIDGET}?.shadowRoot !== null')
        self.page.evaluate(RECORD_MEDIA)

    # ---------------------------------------------------------------- JavaScript

    def value(self, expr: str) -> Any:
        """The value of a JavaScript expression in which ``w`` is the widget."""
        return self.page.evaluate(f"() => {{ const w = {WIDGET}; return ({expr}); }}")

    def wait(self, expr: str, timeout: float = TIMEOUT_MS) -> None:
        """Wait until the expression (``w`` is the widget) is truthy."""
        self.page.wait_for_function(f"() => {{ const w = {WIDGET}; return ({expr}); }}",
                                    timeout=timeout, polling="raf")

    def holds_for(self, expr: str, ms: float) -> bool:
        """Whether the expression stays truthy for ``ms`` of the page's time (the wait ends at
        once if it turns false): for what must *not* happen, like a paused clip moving on."""
        start = self.page.evaluate("performance.now()")
        self.wait(f"!({expr}) || performance.now() - {start} >= {ms}")
        return bool(self.value(expr))

    # ---------------------------------------------------------------- the widget

    def control(self, testid: str) -> Locator:
        """A control in the widget's shadow root (Playwright's locators pierce it)."""
        return self.page.get_by_test_id(testid)

    @property
    def widget(self) -> Locator:
        return self.page.locator("reader-widget")

    @property
    def state(self) -> str:
        return str(self.value("w.state"))

    @property
    def index(self) -> int:
        return int(self.value("w.currentIndex"))

    @property
    def segments(self) -> list[dict[str, Any]]:
        return list(self.value("w.segments"))

    @property
    def current_time(self) -> float:
        return float(self.value("w.audio ? w.audio.currentTime : -1"))

    @property
    def play_calls(self) -> int:
        return int(self.page.evaluate("window.__playCalls"))

    def media_events(self, type_: str) -> list[dict[str, Any]]:
        return [e for e in self.page.evaluate("window.__media") if e["type"] == type_]

    def start(self) -> None:
        """Click the mascot (it opens the panel and reads) and wait for sound."""
        self.control("reader-mascot").click()
        self.wait_sounding(0)

    def wait_sounding(self, index: int) -> None:
        """Wait until segment ``index``'s own clip is playing and its time moves on."""
        self.wait("w.segments.length > 0")
        clip = self.segments[index]["audio"]
        self.wait(f'w.state === "playing" && w.currentIndex === {index} && w.audio'
                  f' && !w.audio.paused && w.audio.currentTime > 0'
                  f' && w.audio.dataset.clip.endsWith("{clip}")')
        self.wait_advancing()

    def wait_advancing(self, by: float = 0.15) -> None:
        """Wait until the current clip's currentTime has moved ``by`` seconds further."""
        index = self.index
        start = self.current_time
        self.wait(f"w.currentIndex === {index} && w.audio.currentTime >= {start + by}")

    def finish_clip(self, lead: float = 0.3) -> int:
        """Jump to the last ``lead`` seconds of the current clip once all of it is in, so it
        ends soon (the clips last seconds at real speed); returns its index."""
        index = self.index
        self.wait(f"w.currentIndex === {index} && Number.isFinite(w.audio.duration)"
                  f" && w.audio.duration > {lead}")
        self.value(f"w.audio.currentTime = w.audio.duration - {lead}")
        return index

    def highlighted(self) -> str | None:
        """The text of the page's ``reader-current`` highlight, or None."""
        return self.page.evaluate("""() => {
          const highlight = CSS.highlights.get("reader-current");
          return highlight ? [...highlight].map((range) => range.toString()).join("") : null;
        }""")

    def caption(self) -> str:
        return str(self.page.evaluate("""() => document.querySelector("reader-captions")
          ?.shadowRoot.querySelector('[data-testid="reader-caption-text"]').textContent ?? ""
        """))
