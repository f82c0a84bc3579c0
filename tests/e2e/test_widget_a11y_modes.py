"""Hands-free and display modes: Media Session keys, forced colours, 200% zoom, reduced motion."""

from __future__ import annotations

from playwright.sync_api import Browser, Page

from tests.e2e.conftest import LiveService
from tests.e2e.reader_page import ReaderPage

#: Before any page script: keep the Media Session handlers the page installs, so the test
#: can press "headset keys" (Chromium has no API to send them).
RECORD_MEDIA_SESSION = """
window.__mediaKeys = {};
const set = navigator.mediaSession.setActionHandler.bind(navigator.mediaSession);
navigator.mediaSession.setActionHandler = (action, handler) => {
  window.__mediaKeys[action] = handler;
  return set(action, handler);
};
"""


def test_headset_and_lock_screen_keys_drive_the_reader(page: Page,
                                                       service: LiveService) -> None:
    page.add_init_script(RECORD_MEDIA_SESSION)
    reader = ReaderPage(page, service.url + "/").open()
    reader.start()
    title = reader.value("w.manifest.title")
    assert page.evaluate("navigator.mediaSession.metadata.title") == title
    assert page.evaluate("navigator.mediaSession.playbackState") == "playing"
    page.evaluate("window.__mediaKeys.nexttrack()")
    reader.wait_sounding(1)
    page.evaluate("window.__mediaKeys.previoustrack()")
    reader.wait_sounding(0)
    page.evaluate("window.__mediaKeys.pause()")
    reader.wait('w.state === "paused"')
    assert page.evaluate("navigator.mediaSession.playbackState") == "paused"
    page.evaluate("window.__mediaKeys.play()")
    reader.wait_sounding(0)


def test_forced_colours_give_every_button_a_system_coloured_border(
    page: Page, service: LiveService
) -> None:
    page.emulate_media(forced_colors="active")
    reader = ReaderPage(page, service.url + "/").open()
    reader.control("reader-mascot").click()
    reader.wait("w.isOpen")
    for testid in ["reader-play", "reader-prev", "reader-next", "reader-repeat",
                   "reader-captions-toggle", "reader-point-toggle", "reader-close"]:
        border = reader.control(testid).evaluate(
            "b => { const s = getComputedStyle(b); return [s.borderTopStyle, s.borderTopWidth]; }")
        assert border[0] != "none" and border[1] != "0px", (testid, border)


def test_usable_at_200_percent_zoom(browser: Browser, service: LiveService) -> None:
    # 200% zoom of a 1280x900 window is a 640x450 CSS-pixel viewport at twice the density.
    context = browser.new_context(viewport={"width": 640, "height": 450}, device_scale_factor=2,
                                  locale="zh-CN")
    try:
        page = context.new_page()
        reader = ReaderPage(page, service.url + "/").open()
        reader.control("reader-mascot").click()
        reader.wait("w.isOpen")
        for testid in ["reader-play", "reader-next", "reader-rate", "reader-close"]:
            control = reader.control(testid)
            control.scroll_into_view_if_needed()
            box = control.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 640, testid
        reader.wait_sounding(0)  # the mascot's click reads: it still does at this size
    finally:
        context.close()


def test_reduced_motion_stops_the_animations(page: Page, service: LiveService) -> None:
    page.emulate_media(reduced_motion="reduce")
    reader = ReaderPage(page, service.url + "/").open()
    reader.start()
    animation = reader.widget.evaluate(
        'w => getComputedStyle(w.shadowRoot.querySelector(".avatar svg")).animationName')
    assert animation == "none"
    page.emulate_media(reduced_motion="no-preference")
    moving = reader.widget.evaluate(
        'w => getComputedStyle(w.shadowRoot.querySelector(".avatar svg")).animationName')
    assert moving != "none"  # the same element does move when motion is welcome
