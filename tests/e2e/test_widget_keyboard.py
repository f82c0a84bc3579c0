"""Every control from the keyboard alone: Tab to the mascot, Enter to read, the documented
Alt+Shift shortcuts, Tab through the panel with a visible focus ring, Esc to close."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.reader_page import ReaderPage

#: The focused element inside the widget's shadow root.
FOCUSED = "w.shadowRoot.activeElement"
#: Generous: the page's own links come first (header, navigation, article tools, footer).
MAX_TABS = 80


def focus_ring(reader: ReaderPage) -> tuple[str, float]:
    """The computed outline of the focused control in the widget: (style, width in px)."""
    style, width = reader.value(
        f"[getComputedStyle({FOCUSED}).outlineStyle, getComputedStyle({FOCUSED}).outlineWidth]")
    return str(style), float(str(width).removesuffix("px"))


def tab_to_mascot(reader: ReaderPage) -> None:
    for _ in range(MAX_TABS):
        reader.page.keyboard.press("Tab")
        if reader.value(f'{FOCUSED}?.dataset.testid === "reader-mascot"'):
            return
    raise AssertionError(f"the mascot was not reached in {MAX_TABS} presses of Tab")


def test_tab_to_the_mascot_and_read_with_enter(reader: ReaderPage) -> None:
    tab_to_mascot(reader)
    assert focus_ring(reader) == ("solid", 3.0)

    reader.page.keyboard.press("Enter")
    reader.wait_sounding(0)
    expect(reader.control("reader-mascot")).to_have_attribute("aria-expanded", "true")
    # Focus moved into the panel, onto the play button, and shows.
    expect(reader.control("reader-play")).to_be_focused()
    assert focus_ring(reader) == ("solid", 3.0)

    # Tab walks every control in the panel; each shows where the focus is.
    seen = []
    for _ in range(20):
        reader.page.keyboard.press("Tab")
        testid = reader.value(f"{FOCUSED}?.dataset.testid ?? null")
        if testid is None or testid in seen:
            break
        seen.append(testid)
        assert focus_ring(reader) == ("solid", 3.0), f"{testid} has no visible focus"
    for testid in ("reader-next", "reader-repeat", "reader-rate", "reader-voice",
                   "reader-captions-toggle", "reader-point-toggle", "reader-scroll-toggle",
                   "reader-shortcuts-toggle", "reader-mascot"):
        assert testid in seen, f"{testid} is not reached with Tab"

    # Space on a focused button works as a click: back on the play button, pause.
    reader.control("reader-play").focus()
    reader.page.keyboard.press("Space")
    expect(reader.widget).to_have_attribute("state", "paused")

    # Esc (focus inside the widget) closes the panel and gives focus back to the mascot.
    reader.page.keyboard.press("Escape")
    expect(reader.widget).not_to_have_attribute("open", "")
    expect(reader.control("reader-panel")).to_be_hidden()
    expect(reader.control("reader-mascot")).to_be_focused()
    assert reader.state == "idle"


def test_alt_shift_shortcuts_drive_every_function(reader: ReaderPage) -> None:
    keyboard = reader.page.keyboard
    # Focus in the page, not in the widget: shortcuts work anywhere.
    reader.page.locator("#article h1").click()
    assert reader.play_calls == 0

    keyboard.press("Alt+Shift+KeyP")  # play (opens the panel)
    reader.wait_sounding(0)
    expect(reader.widget).to_have_attribute("open", "")
    keyboard.press("Alt+Shift+KeyP")  # pause
    expect(reader.widget).to_have_attribute("state", "paused")
    keyboard.press("Alt+Shift+KeyP")  # continue
    expect(reader.widget).to_have_attribute("state", "playing")

    keyboard.press("Alt+Shift+ArrowRight")
    reader.wait_sounding(1)
    keyboard.press("Alt+Shift+ArrowRight")
    reader.wait_sounding(2)
    keyboard.press("Alt+Shift+ArrowLeft")
    reader.wait_sounding(1)

    reader.wait_advancing(by=0.5)
    before = reader.current_time
    keyboard.press("Alt+Shift+KeyR")  # repeat: the same sentence from its start
    reader.wait(f"w.currentIndex === 1 && w.audio.currentTime < {before}")
    reader.wait_sounding(1)
    expect(reader.control("reader-live")).to_have_text("正在播放第 2 句")

    keyboard.press("Alt+Shift+ArrowUp")
    expect(reader.widget).to_have_attribute("rate", "1.25")
    reader.wait("w.audio.playbackRate === 1.25")
    keyboard.press("Alt+Shift+ArrowDown")
    keyboard.press("Alt+Shift+ArrowDown")
    expect(reader.widget).to_have_attribute("rate", "0.75")
    reader.wait("w.audio.playbackRate === 0.75")

    keyboard.press("Alt+Shift+KeyC")  # large captions
    expect(reader.control("reader-captions-toggle")).to_have_attribute("aria-pressed", "true")
    expect(reader.page.get_by_test_id("reader-caption-bar")).to_be_visible()
    keyboard.press("Alt+Shift+KeyC")
    expect(reader.page.get_by_test_id("reader-caption-bar")).to_be_hidden()

    keyboard.press("Alt+Shift+KeyZ")  # 指读
    expect(reader.control("reader-point-toggle")).to_have_attribute("aria-pressed", "true")
    expect(reader.page.locator("#body > p").first).to_have_attribute("tabindex", "0")
    keyboard.press("Alt+Shift+KeyZ")
    expect(reader.control("reader-point-toggle")).to_have_attribute("aria-pressed", "false")

    keyboard.press("Alt+Shift+KeyF")  # auto-scroll
    expect(reader.control("reader-scroll-toggle")).to_have_attribute("aria-pressed", "false")
    keyboard.press("Alt+Shift+KeyF")
    expect(reader.control("reader-scroll-toggle")).to_have_attribute("aria-pressed", "true")

    keyboard.press("Alt+Shift+KeyH")  # the shortcut list
    expect(reader.control("reader-shortcuts-toggle")).to_have_attribute("aria-expanded", "true")
    expect(reader.control("reader-shortcuts-toggle")).to_be_focused()
    keyboard.press("Alt+Shift+KeyV")  # the voice menu
    expect(reader.control("reader-voice")).to_be_focused()

    keyboard.press("Escape")  # focus is in the panel: it closes
    expect(reader.widget).not_to_have_attribute("open", "")
    expect(reader.control("reader-mascot")).to_be_focused()
    assert reader.state == "idle"
    keyboard.press("Alt+Shift+KeyO")  # open again, focus on play
    expect(reader.widget).to_have_attribute("open", "")
    expect(reader.control("reader-play")).to_be_focused()
    keyboard.press("Alt+Shift+KeyO")
    expect(reader.widget).not_to_have_attribute("open", "")
