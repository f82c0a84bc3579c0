"""The service going away: a clear message, a retry, never a spinner that does not end."""

from __future__ import annotations

import re

from playwright.sync_api import Route, expect

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
    seen: list[str] = []  # clip keys in the order the widget first asks for them
    refused: list[str] = []

    def second_clip_fails(route: Route) -> None:
        key = re.search(r"/audio/([0-9a-f]{64})\.mp3", route.request.url)
        if key and key[1] not in seen:
            seen.append(key[1])
        if key and len(seen) >= 2 and key[1] == seen[1]:  # sentence 2, every time it is asked
            refused.append(key[1])
            route.abort()
        else:
            route.continue_()

    reader.page.route("**/api/v1/audio/**", second_clip_fails)
    reader.start()
    reader.finish_clip()
    reader.wait_sounding(2)  # sentence 2 failed twice and was skipped
    assert len(refused) >= 2  # asked once more before giving up
    assert reader.segments[1]["audio"].endswith(f"{seen[1]}.mp3")
    expect(reader.control("reader-alert")).to_contain_text("第 2 句暂时无法播放，已跳过。")
