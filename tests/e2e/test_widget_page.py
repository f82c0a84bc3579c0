"""What the widget does in the page: the highlight follows the sentence being read, the
large-caption bar shows it, and 指读 reads the paragraph under the pointer or focus."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.e2e.reader_page import ReaderPage


def test_highlight_and_captions_follow_the_sentence(reader: ReaderPage) -> None:
    reader.start()
    segments = reader.segments
    reader.wait('CSS.highlights.get("reader-current") !== undefined')
    assert reader.highlighted() == segments[0]["text"]

    reader.control("reader-captions-toggle").click()
    expect(reader.control("reader-captions-toggle")).to_have_attribute("aria-pressed", "true")
    bar = reader.page.get_by_test_id("reader-caption-bar")
    expect(bar).to_be_visible()
    expect(bar).to_have_attribute("role", "region")
    expect(bar.get_by_test_id("reader-caption-text")).to_have_text(segments[0]["text"])

    # The sentence ends by itself; highlight and caption move to the next one.
    reader.finish_clip()
    reader.wait_sounding(1)
    assert reader.highlighted() == segments[1]["text"]
    expect(bar.get_by_test_id("reader-caption-text")).to_have_text(segments[1]["text"])
    # Let any smooth scrolling settle, so the screenshot shows the highlight where it is.
    reader.wait("(() => { const r = CSS.highlights.get('reader-current').values().next().value"
                ".getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })()")
    screenshot(reader.page, "widget-playing")

    # Off again: the bar goes away.
    reader.control("reader-captions-toggle").click()
    expect(bar).to_be_hidden()


def paragraph_segment(reader: ReaderPage, nth: int) -> int:
    """The index of the first segment of the article body's ``nth`` <p>."""
    text = reader.page.locator("#body > p").nth(nth).inner_text().strip()
    starts = [i for i, s in enumerate(reader.segments)
              if s["kind"] == "body" and text.startswith(s["text"])]
    assert starts, f"no segment begins paragraph {nth}"
    return starts[0]


def test_point_to_read_plays_the_paragraph_under_the_pointer_or_focus(reader: ReaderPage) -> None:
    reader.start()
    toggle = reader.control("reader-point-toggle")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(reader.widget).to_have_attribute("point-read", "")

    # The pointer rests on the third paragraph: its first sentence plays.
    hovered = reader.page.locator("#body > p").nth(2)
    expected = paragraph_segment(reader, 2)
    hovered.hover()
    expect(hovered).to_have_class("reader-point-target")
    reader.wait_sounding(expected)
    segments = reader.segments
    assert segments[reader.index]["paragraph"] == segments[expected]["paragraph"]
    assert reader.highlighted() == segments[expected]["text"]

    # Paragraphs take focus in this mode; focusing another reads that one.
    focused = reader.page.locator("#body > p").nth(5)
    expect(focused).to_have_attribute("tabindex", "0")
    expected = paragraph_segment(reader, 5)
    focused.focus()
    reader.wait_sounding(expected)
    assert segments[reader.index]["paragraph"] == segments[expected]["paragraph"]

    # Off: the paragraphs are no longer tab stops.
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(focused).not_to_have_attribute("tabindex", "0")
