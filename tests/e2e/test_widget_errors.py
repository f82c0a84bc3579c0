"""The service going away: a clear message, a retry, never a spinner that does not end."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import LiveService, screenshot
from tests.e2e.reader_page import ReaderPage

UNREACHABLE = "暂时无法连接朗读服务，请检查网络后重试。"


def test_service_down_shows_an_error_and_retry_plays_once_it_is_back(
        reader: ReaderPage, service: LiveService) -> None:
    # The page is loaded (the service serves it); then the service stops.
    service.stop()
    try:
        reader.control("reader-mascot").click()
        expect(reader.widget).to_have_attribute("state", "error", timeout=10_000)
        notice = reader.control("reader-error")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text(UNREACHABLE)
        expect(reader.control("reader-alert")).to_have_attribute("role", "alert")
        expect(reader.control("reader-alert")).to_have_text(UNREACHABLE)
        retry = reader.control("reader-retry")
        expect(retry).to_be_visible()
        expect(retry).to_have_accessible_name("重试")
        # No spinner left turning, nothing playing.
        assert reader.value('w.shadowRoot.querySelector(".spin") === null')
        expect(reader.control("reader-play")).to_have_accessible_name("播放")
        assert reader.media_events("playing") == []
        screenshot(reader.page, "widget-error")

        service.start()
        retry.click()
        reader.wait_sounding(0)
        expect(notice).to_be_hidden()
        expect(reader.widget).to_have_attribute("state", "playing")
    finally:
        if not service.running:
            service.start()


def test_a_sentence_that_keeps_failing_is_skipped_with_a_notice(reader: ReaderPage) -> None:
    reader.control("reader-mascot").click()
    reader.wait("w.segments.length > 2")
    broken = reader.segments[1]["audio"]
    requests: list[str] = []

    def refuse(route: object) -> None:
        requests.append(broken)
        route.abort()  # type: ignore[attr-defined]

    reader.page.route(f"**{broken}*", refuse)
    reader.wait_sounding(0)
    reader.finish_clip()
    reader.wait_sounding(2)  # sentence 2 failed twice and was skipped
    assert len(requests) >= 2  # asked once more before giving up
    expect(reader.control("reader-alert")).to_contain_text("第 2 句暂时无法播放，已跳过。")

