"""Playing the demo article in Chromium: sound on a click only, sentence after sentence, pause
and resume, next and previous, speed, and continuing after a reload."""

from __future__ import annotations

from playwright.sync_api import Request, Response, expect

from tests.e2e.conftest import screenshot
from tests.e2e.reader_page import ReaderPage

AUDIO_PATH = "/api/v1/audio/"


def test_nothing_plays_until_the_mascot_is_clicked(reader: ReaderPage) -> None:
    # Loaded with no hover and no click: no clip asked for, no play() tried, nothing sounding.
    assert reader.holds_for(
        'w.state === "idle" && !w.isOpen && window.__playCalls === 0'
        ' && [...w.shadowRoot.querySelectorAll("audio")].every((a) => a.paused)', 500)
    expect(reader.widget).to_have_attribute("state", "idle")
    expect(reader.control("reader-mascot")).to_have_attribute("aria-expanded", "false")
    expect(reader.control("reader-panel")).to_be_hidden()
    assert reader.media_events("playing") == []
    assert not reader.value('performance.getEntriesByType("resource")'
                            '.some((e) => e.name.includes("/api/v1/audio/"))')
    screenshot(reader.page, "widget-closed")


def test_click_plays_sentence_after_sentence(reader: ReaderPage) -> None:
    responses: list[Response] = []
    reader.page.on("response",
                   lambda r: responses.append(r) if AUDIO_PATH in r.url else None)

    reader.start()
    expect(reader.widget).to_have_attribute("state", "playing")
    expect(reader.widget).to_have_attribute("open", "")
    segments = reader.segments
    first = reader.current_time
    reader.wait_advancing(by=0.3)
    assert reader.current_time > first

    # The first clip ends; the clip after next is asked for as the second starts.
    def after_next(request: Request) -> bool:
        return request.url.endswith(segments[3]["audio"])

    with reader.page.expect_request(after_next):
        reader.finish_clip()
        reader.wait_sounding(1)
    assert [e["index"] for e in reader.media_events("ended")] == [0]
    expect(reader.widget).to_have_attribute("state", "playing")
    expect(reader.widget).to_have_attribute("current-index", "1")
    answered = {r.url.split("?")[0]: r.status for r in responses}
    for segment in segments[:3]:
        assert answered[reader.page.url.rstrip("/") + segment["audio"]] == 200


def test_pause_and_resume(reader: ReaderPage) -> None:
    reader.start()
    play = reader.control("reader-play")
    expect(play).to_have_accessible_name("暂停")

    play.click()
    expect(reader.widget).to_have_attribute("state", "paused")
    expect(play).to_have_accessible_name("继续")
    expect(reader.control("reader-live")).to_have_text("已暂停")
    assert reader.value("w.audio.paused")
    stopped_at = reader.current_time
    assert reader.holds_for(f"w.audio.currentTime === {stopped_at}", 400)

    play.click()
    expect(reader.widget).to_have_attribute("state", "playing")
    expect(play).to_have_accessible_name("暂停")
    reader.wait_advancing()
    # Resumed where it stopped, not from the start of the sentence.
    assert reader.index == 0
    assert reader.current_time > stopped_at


def test_next_and_previous_play_the_right_clip(reader: ReaderPage) -> None:
    reader.start()

    reader.control("reader-next").click()
    reader.wait_sounding(1)
    expect(reader.control("reader-count")).to_contain_text("第 2 /")
    expect(reader.control("reader-live")).to_have_text("正在播放第 2 句")

    reader.control("reader-next").click()
    reader.wait_sounding(2)

    reader.control("reader-prev").click()
    reader.wait_sounding(1)
    expect(reader.widget).to_have_attribute("current-index", "1")
    # From the start of the sentence again, not where it was left.
    assert reader.current_time < 2.0


def test_speed_applies_to_the_playing_clip_and_is_remembered(reader: ReaderPage) -> None:
    reader.start()
    reader.control("reader-rate").select_option("1.5")
    expect(reader.widget).to_have_attribute("rate", "1.5")
    reader.wait("w.audio.playbackRate === 1.5 && w.rate === 1.5")
    reader.wait_advancing()
    assert reader.page.evaluate('JSON.parse(localStorage.getItem("reader:prefs")).rate') == 1.5

    reader.reload()
    expect(reader.widget).to_have_attribute("rate", "1.5")
    expect(reader.control("reader-rate")).to_have_value("1.5")
    reader.start()
    assert reader.value("w.audio.playbackRate") == 1.5
    # The clips loading next play at that speed too.
    reader.control("reader-next").click()
    reader.wait_sounding(1)
    assert reader.value("w.audio.playbackRate") == 1.5


def test_reopening_offers_to_continue_where_the_reader_stopped(reader: ReaderPage) -> None:
    reader.start()
    for index in (0, 1):
        reader.finish_clip()
        reader.wait_sounding(index + 1)
    assert reader.index == 2  # the third sentence

    reader.reload()
    reader.control("reader-mascot").click()
    offer = reader.control("reader-resume-offer")
    expect(offer).to_be_visible()
    expect(offer).to_contain_text("上次听到第 3 句")
    expect(reader.control("reader-resume")).to_be_focused()
    assert reader.play_calls == 0  # an offer, not sound

    reader.control("reader-resume").click()
    reader.wait_sounding(2)
    expect(offer).to_be_hidden()
