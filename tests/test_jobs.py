"""Jobs over HTTP: ``POST /api/v1/jobs``, status, server-sent events, cancellation, a restart;
pins, the podcast feed and the check report served by the service.

Each test builds its apps on one cache folder (a restart is a second app on the same folder);
edge is the fake server on loopback.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import feedparser
import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html

from reader.api import create_app
from reader.config import Settings
from reader.jobs import JobStore
from reader.pipeline import TextPipeline
from reader.service import API, Service
from reader.testing.fake_edge import FakeEdgeServer, patch_edge_tts

TOKEN = "t0ken-for-jobs"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PROBLEM = "application/problem+json"

ARTICLE_A = ("夜间公交试运行\n\n"
             "市交通运输局介绍，三条夜间线路覆盖火车站和医院。首班车今晚10点发车。\n\n"
             "市民可以扫码查询到站时间。")
ARTICLE_B = "河谷小城新建图书馆开放\n\n新馆藏书二十万册，周一闭馆。\n\n读者凭身份证即可办理借阅卡。"
SEGMENTS = 4 + 3


@pytest.fixture
def edge() -> Iterator[FakeEdgeServer]:
    with FakeEdgeServer() as server, patch_edge_tts(server):
        yield server


@pytest.fixture
def app_settings(tmp_path: Path, edge: FakeEdgeServer) -> Settings:
    return Settings.from_env({
        "READER_CACHE_DIR": str(tmp_path / "cache"),
        "READER_EDGE_URL": edge.wss_url,
        "READER_EDGE_VOICE_LIST_URL": edge.voice_list_url,
        "READER_EDGE_RETRIES": "0",
        "READER_WARM_SEGMENTS": "0",
        "READER_API_TOKENS": TOKEN,
        "READER_PUBLIC_URL": "https://audio.example.gov.cn",
        "READER_PODCAST_TITLE": "重庆新闻听",
    })


@contextmanager
def running(settings: Settings, pipeline: TextPipeline) -> Iterator[TestClient]:
    """One app on ``settings``' cache folder, started (jobs resume) and stopped after."""
    service = Service.load(settings, text=pipeline)
    app = create_app(settings, service=service)
    with TestClient(app) as client:
        yield client
        assert client.portal is not None
        # As the app's shutdown does, jobs first: a job stopped here is taken up at the next
        # start; then the service, which lets the syntheses under way finish and be stored.
        client.portal.call(app.state.jobs.stop)
        client.portal.call(service.aclose)


def job_body(**extra: Any) -> dict[str, Any]:
    return {"articles": [{"text": ARTICLE_A, "plain": True, "label": "cms-1"},
                         {"text": ARTICLE_B, "plain": True, "label": "cms-2"}], **extra}


def wait_until(client: TestClient, job: str,
               done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Follow the job's event stream (no polling) until ``done(status)``; the full status."""
    with client.stream("GET", f"{API}/jobs/{job}/events", headers=AUTH) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                status: dict[str, Any] = client.get(f"{API}/jobs/{job}", headers=AUTH).json()
                if done(status):
                    return status
    raise AssertionError(f"the job's events ended first: {status}")


def wait_for(client: TestClient, job: str, *states: str) -> dict[str, Any]:
    """Follow the job until it is in one of ``states``."""
    return wait_until(client, job, lambda status: status["state"] in states)


def test_a_job_needs_a_token_and_a_valid_body(app_settings: Settings,
                                              pipeline: TextPipeline) -> None:
    with running(app_settings, pipeline) as client:
        response = client.post(f"{API}/jobs", json=job_body())
        assert response.status_code == 401 and response.headers["content-type"] == PROBLEM
        wrong = client.post(f"{API}/jobs", json=job_body(),
                            headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        for body, words in [({}, "at least one"),
                            ({"inputs": ["ftp://x/y"]}, "http(s) URLs"),
                            (job_body(voice="nobody"), "nobody"),
                            ({"articles": [{"title": "x"}]}, "exactly one of 'text' and 'html'")]:
            bad = client.post(f"{API}/jobs", json=body, headers=AUTH)
            assert bad.status_code == 422 and words in bad.json()["detail"], bad.text
        assert client.get(f"{API}/jobs", headers=AUTH).json() == []
        missing = client.get(f"{API}/jobs/nope", headers=AUTH)
        assert missing.status_code == 404 and "POST /api/v1/jobs" in missing.json()["detail"]


def test_a_job_reads_every_article_and_reports_per_article_progress(
        app_settings: Settings, pipeline: TextPipeline, edge: FakeEdgeServer) -> None:
    with running(app_settings, pipeline) as client:
        response = client.post(f"{API}/jobs", json=job_body(), headers=AUTH)
        assert response.status_code == 202, response.text
        job = response.json()["id"]
        assert response.headers["location"] == f"{API}/jobs/{job}"

        status = wait_for(client, job, "done", "failed")

        assert status["state"] == "done", status
        assert [a["label"] for a in status["articles"]] == ["cms-1", "cms-2"]
        assert all(a["state"] == "done" for a in status["articles"])
        assert status["progress"] | {"audio_ms": 0} == {
            "articles": 2, "finished": 2, "failed": 0, "segments": SEGMENTS,
            "spoken": SEGMENTS, "new": SEGMENTS, "reused": 0, "fallback": 0, "audio_ms": 0}
        assert edge.stats.count() == SEGMENTS
        manifest = client.get(status["articles"][0]["manifest"]).json()
        assert all(s["duration_ms"] for s in manifest["segments"])  # all cached
        assert [j["id"] for j in client.get(f"{API}/jobs", headers=AUTH).json()] == [job]


def _events(client: TestClient, job: str) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    with client.stream("GET", f"{API}/jobs/{job}/events", headers=AUTH) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        kind = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((kind, json.loads(line.removeprefix("data: "))))
    return events


def test_server_sent_events_follow_the_job_to_its_end(
        app_settings: Settings, pipeline: TextPipeline, edge: FakeEdgeServer) -> None:
    edge.first_byte_delay = 0.3  # 7 sentences two at a time: over a second, several saves
    with running(app_settings, pipeline) as client:
        job = client.post(f"{API}/jobs", json=job_body(), headers=AUTH).json()["id"]
        events = _events(client, job)

    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "end" and set(kinds[:-1]) == {"progress"}
    spoken = [status["progress"]["spoken"] for _, status in events]
    assert spoken == sorted(spoken) and spoken[-1] == SEGMENTS
    assert any(0 < n < SEGMENTS for n in spoken)  # progress seen on the way
    # Every article when they are first seen (the job is expanded); afterwards only those that
    # changed, each at most once an event.
    with_articles = [status for _, status in events if status["articles"]]
    assert [a["label"] for a in with_articles[0]["articles"]] == ["cms-1", "cms-2"]
    for _, status in events:
        positions = [a["position"] for a in status["articles"]]
        assert len(positions) == len(set(positions)) and len(positions) <= 2
    final = {a["label"]: a for _, status in events for a in status["articles"]}
    assert all(a["state"] == "done" for a in final.values())
    assert events[-1][1]["state"] == "done"


def test_a_cancelled_job_stops_and_keeps_what_it_made(
        app_settings: Settings, pipeline: TextPipeline, edge: FakeEdgeServer) -> None:
    edge.first_byte_delay = 0.2
    with running(app_settings, pipeline) as client:
        job = client.post(f"{API}/jobs", json=job_body(), headers=AUTH).json()["id"]
        made = wait_until(client, job, lambda status: status["progress"]["spoken"] >= 1)
        status = client.post(f"{API}/jobs/{job}/cancel", headers=AUTH).json()
        assert status["state"] == "cancelled"
        assert all(a["state"] in {"done", "cancelled"} for a in status["articles"])
        asked = edge.stats.count()
        again = client.post(f"{API}/jobs/{job}/cancel", headers=AUTH).json()
        assert again["state"] == "cancelled"
        # What was made before the cancel is kept: its clip plays from the cache.
        first = next(a for a in made["articles"] if a["new"])
        manifest = client.get(first["manifest"]).json()
        assert any(s["duration_ms"] for s in manifest["segments"])
        final = client.get(f"{API}/jobs/{job}", headers=AUTH).json()
        assert all(a["state"] in {"done", "cancelled"} for a in final["articles"])
    # Syntheses under way at the cancel finish (and are stored); none starts after it.
    assert edge.stats.count() == asked < SEGMENTS


def test_a_job_survives_a_restart_and_synthesises_nothing_twice(
        app_settings: Settings, pipeline: TextPipeline, edge: FakeEdgeServer) -> None:
    edge.first_byte_delay = 0.1
    with running(app_settings, pipeline) as client:
        job = client.post(f"{API}/jobs", json=job_body(), headers=AUTH).json()["id"]
        wait_until(client, job, lambda status: status["progress"]["spoken"] >= 2)
    # Stopped mid-job: the store says it is still running, with some of its clips made.
    store = JobStore(app_settings.cache_dir / "jobs.sqlite")
    between = store.status(job)
    store.close()
    assert between["state"] == "running"
    assert 2 <= between["progress"]["spoken"] < SEGMENTS

    with running(app_settings, pipeline) as client:
        status = wait_for(client, job, "done", "failed")
    assert status["state"] == "done", status
    # Counted once each, though the first app had counted some of them already.
    assert status["progress"]["spoken"] == SEGMENTS
    assert status["progress"]["new"] + status["progress"]["reused"] == SEGMENTS
    completed = edge.stats.completed
    assert sum(completed.values()) == SEGMENTS and set(completed.values()) == {1}


def test_a_cancelled_job_stays_cancelled_after_a_restart(
        app_settings: Settings, pipeline: TextPipeline, edge: FakeEdgeServer) -> None:
    edge.first_byte_delay = 0.2
    with running(app_settings, pipeline) as client:
        job = client.post(f"{API}/jobs", json=job_body(), headers=AUTH).json()["id"]
        wait_for(client, job, "running")
        client.post(f"{API}/jobs/{job}/cancel", headers=AUTH)
        wait_for(client, job, "cancelled")
    asked = edge.stats.count()
    with running(app_settings, pipeline) as client:
        status = client.get(f"{API}/jobs/{job}", headers=AUTH).json()
        assert status["state"] == "cancelled"
        assert all(a["state"] in {"done", "cancelled"} for a in status["articles"])
    assert edge.stats.count() == asked


def test_pinned_articles_make_a_podcast_and_can_be_unpinned(
        app_settings: Settings, pipeline: TextPipeline) -> None:
    with running(app_settings, pipeline) as client:
        job = client.post(f"{API}/jobs", json=job_body(), headers=AUTH).json()["id"]
        status = wait_for(client, job, "done")
        ids = [a["article"] for a in status["articles"]]

        feed = client.get(f"{API}/podcast.xml")
        assert feed.headers["content-type"].startswith("application/rss+xml")
        parsed = feedparser.parse(feed.content)
        assert not parsed.bozo and parsed.feed.title == "重庆新闻听"
        titles = {e.title: e.id for e in parsed.entries}
        assert set(titles) == {"夜间公交试运行", "河谷小城新建图书馆开放"}
        for entry in parsed.entries:
            (enclosure,) = entry.enclosures
            assert enclosure.href.startswith(f"https://audio.example.gov.cn{API}/audio/")
            path = enclosure.href.removeprefix("https://audio.example.gov.cn")
            audio = client.get(path)
            assert audio.status_code == 200 and len(audio.content) == int(enclosure.length)
            ranged = client.get(path, headers={"Range": "bytes=0-99"})
            assert ranged.status_code == 206 and len(ranged.content) == 100

        assert client.delete(f"{API}/articles/{ids[0]}/pin").status_code == 401
        unpinned = client.delete(f"{API}/articles/{ids[0]}/pin", headers=AUTH).json()
        assert unpinned["pinned"] is False and unpinned["released"] > 0
        left = feedparser.parse(client.get(f"{API}/podcast.xml").content)
        assert [e.title for e in left.entries] == ["河谷小城新建图书馆开放"]
        pinned = client.put(f"{API}/articles/{ids[0]}/pin", headers=AUTH).json()
        assert pinned["pinned"] is True
        assert len(feedparser.parse(client.get(f"{API}/podcast.xml").content).entries) == 2

        # The CMS sends cms-1 again, edited: the same episode (its guid follows the CMS's id),
        # with new audio; the old reading is gone from the feed.
        edited = job_body()
        edited["articles"] = [{**edited["articles"][0],
                               "text": ARTICLE_A.replace("10点", "11点")}]
        again = client.post(f"{API}/jobs", json=edited, headers=AUTH).json()["id"]
        wait_for(client, again, "done")
        after = feedparser.parse(client.get(f"{API}/podcast.xml").content)
        assert {e.title: e.id for e in after.entries} == titles
        bus = next(e for e in after.entries if e.title == "夜间公交试运行")
        before = next(e for e in parsed.entries if e.title == "夜间公交试运行")
        assert bus.enclosures[0].href != before.enclosures[0].href


def test_the_check_report_lists_risky_sentences_with_players(
        app_settings: Settings, pipeline: TextPipeline) -> None:
    with running(app_settings, pipeline) as client:
        job = client.post(f"{API}/jobs", json=job_body(), headers=AUTH).json()["id"]
        status = wait_for(client, job, "done")
        page = client.get(f"{API}/jobs/{job}/check.html")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        doc = lxml_html.fromstring(page.text)
        text = doc.text_content()
        assert "首班车今晚10点发车。" in text  # a number: risky
        assert "周一闭馆" not in text  # nothing risky there
        sources = [a.get("src") for a in doc.iter("audio")]
        assert sources and all(s.startswith(f"{API}/audio/") for s in sources)
        assert client.get(sources[0]).status_code == 200
        one = client.get(f"{API}/articles/{status['articles'][0]['article']}/check.html")
        assert one.status_code == 200 and "首班车今晚10点发车。" in one.text


def test_an_idle_event_stream_sends_keep_alive_comments(
        app_settings: Settings, pipeline: TextPipeline, edge: FakeEdgeServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("reader.api.EVENTS_KEEPALIVE", 0.05)
    edge.first_byte_delay = 0.5  # nothing changes for a while
    with running(app_settings, pipeline) as client:
        job = client.post(f"{API}/jobs", json=job_body(), headers=AUTH).json()["id"]
        lines: list[str] = []
        with client.stream("GET", f"{API}/jobs/{job}/events", headers=AUTH) as response:
            for line in response.iter_lines():
                lines.append(line)
                if line == ": still running" and len(lines) > 3:
                    break
        client.post(f"{API}/jobs/{job}/cancel", headers=AUTH)
    assert lines[0].startswith("id: 1") and ": still running" in lines
