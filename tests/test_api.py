"""The HTTP API, end to end through ``TestClient``: every endpoint and every bad input of issue 4.

Each test builds its own app (``make_api``) in its own cache folder. Edge is the fake server
(``reader.testing.fake_edge``) on loopback with no first-byte delay, the offline engine is the
real libespeak-ng, and URL mode fetches from small ``http.server`` sites on 127.0.0.1 (and a
"honeypot" on 127.0.0.2, an address that must never be fetched), reached through an injected
resolver. Nothing touches the network; nothing waits on a clock.

After every bad input the test checks that nothing was stored (``/healthz`` counts articles
and clips), nothing was synthesised (the fake server's counts) and nothing was fetched from a
forbidden address (the honeypot's log).
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from mutagen.mp3 import MP3
from prometheus_client.parser import text_string_to_metric_families

from reader.api import create_app
from reader.audio import probe_mp3
from reader.config import Settings
from reader.engines.edge import StreamDiverged
from reader.pipeline import TextPipeline
from reader.service import API, Service
from reader.testing.fake_edge import FakeEdgeServer, Fault, patch_edge_tts

PROBLEM = "application/problem+json"
IMMUTABLE = "public, max-age=31536000, immutable"
STREAMED = "no-cache"
TOKEN = "t0ken-for-tests"

TITLE = "夜间公交试运行"
#: Four segments: the title (paragraph 0), two sentences (paragraph 1), one (paragraph 2).
TEXT = (f"{TITLE}\n\n市交通运输局介绍，三条夜间线路覆盖火车站和医院。首班车今晚十点发车。\n\n"
        "市民可以扫码查询到站时间。")
#: Pauses the whole-article MP3 puts between TEXT's clips: after the title, between two
#: sentences of a paragraph, between paragraphs.
TEXT_PAUSES_MS = 900 + 250 + 700

PAGE_TITLE = "河谷小城试行夜间公交"
PAGE = (f"<html><head><title>{PAGE_TITLE} - 新闻网</title></head><body><h1>{PAGE_TITLE}</h1>"
        "<p>本报讯，市交通运输局介绍，三条夜间线路今晚开通，覆盖火车站和医院。</p>"
        "<p>首班车今晚十点从火车站发车，全程票价两元。</p></body></html>").encode()


# ---------------------------------------------------------------- helpers


def problem(response: httpx2.Response, status: int, *in_detail: str) -> dict[str, Any]:
    """Assert ``response`` is an RFC 9457 problem with ``status``; return its body."""
    shown = response.text[:300] if "json" in response.headers.get("content-type", "") else ""
    assert response.status_code == status, shown
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert set(body) == {"type", "title", "status", "detail"}
    assert body["type"] == "about:blank" and body["status"] == status
    assert body["title"] and body["detail"]
    for words in in_detail:
        assert words in body["detail"], body["detail"]
    return body


@dataclass
class Api:
    """One app under test, its client and the fake Edge server behind it."""

    client: TestClient
    service: Service
    edge: FakeEdgeServer

    def register(self, expect: int = 201, **body: object) -> dict[str, Any]:
        response = self.client.post(f"{API}/articles", json=body)
        assert response.status_code == expect, response.text
        manifest: dict[str, Any] = response.json()
        return manifest

    def manifest(self, article_id: str) -> dict[str, Any]:
        response = self.client.get(f"{API}/articles/{article_id}")
        assert response.status_code == 200, response.text
        manifest: dict[str, Any] = response.json()
        return manifest

    def health(self) -> dict[str, Any]:
        body: dict[str, Any] = self.client.get("/healthz").json()
        return body

    def stored(self) -> tuple[int, int]:
        """(articles, clips) the service holds."""
        health = self.health()
        return health["articles"], health["cache"]["clips"]

    def cache_reads(self) -> int:
        """Cache lookups (hits and misses) so far, from the admin endpoint."""
        stats = self.client.get(f"{API}/admin/cache",
                                headers={"Authorization": f"Bearer {TOKEN}"}).json()
        return int(stats["hits"] + stats["misses"])

    def warmed(self) -> None:
        """Wait, on the app's own loop, for the warm-start tasks queued so far."""
        tasks = list(self.service._warming)

        async def all_done() -> None:
            await asyncio.gather(*tasks)

        assert self.client.portal is not None
        self.client.portal.call(all_done)

    def metric(self, name: str, **labels: str) -> float:
        """A sample's value from ``/metrics`` (0 if absent)."""
        for family in text_string_to_metric_families(self.client.get("/metrics").text):
            for sample in family.samples:
                if sample.name == name and labels.items() <= sample.labels.items():
                    return float(sample.value)
        return 0.0


MakeApi = Callable[..., Api]


@pytest.fixture
def edge() -> Iterator[FakeEdgeServer]:
    with FakeEdgeServer() as server, patch_edge_tts(server):
        yield server


@pytest.fixture
def make_api(tmp_path: Path, pipeline: TextPipeline, edge: FakeEdgeServer) -> Iterator[MakeApi]:
    """``make_api(READER_...="...", resolver=..., client=(host, port))``: a running app.

    Defaults: edge (the fake server) then espeak, no retries, no warm start, one API token.
    """
    apps = ExitStack()
    built = 0

    def make(*, resolver: Any = None, client: tuple[str, int] = ("testclient", 50000),
             **env: str) -> Api:
        nonlocal built
        built += 1
        settings = Settings.from_env({
            "READER_CACHE_DIR": str(tmp_path / f"app{built}"),
            "READER_EDGE_URL": edge.wss_url,
            "READER_EDGE_VOICE_LIST_URL": edge.voice_list_url,
            "READER_ENGINES": "edge,espeak",
            "READER_EDGE_RETRIES": "0",
            "READER_WARM_SEGMENTS": "0",
            "READER_API_TOKENS": TOKEN,
            **env,
        })
        service = Service.load(settings, text=pipeline, resolver=resolver)
        test_client = TestClient(create_app(settings, service=service), client=client)
        apps.enter_context(test_client)

        def close_service() -> None:
            # Before the app stops (its shutdown only settles): a test may leave a clip half made.
            assert test_client.portal is not None
            test_client.portal.call(service.aclose)

        apps.callback(close_service)
        return Api(test_client, service, edge)

    with apps:
        yield make


def played(api: Api, index: int = 0, **body: object) -> tuple[dict[str, Any], str, bytes]:
    """Register TEXT and play segment ``index`` once (a miss, so it is cached after):
    the manifest, the clip's URL and its bytes."""
    manifest = api.register(text=TEXT, plain=True, **body)
    url = manifest["segments"][index]["audio"]
    response = api.client.get(url)
    assert response.status_code == 200, response.text
    return manifest, url, response.content


# ---------------------------------------------------------------- local web sites (URL mode)


Route = tuple[int, dict[str, str], bytes]


class Site:
    """A web site on a loopback address that records every path it is asked for.

    ``/hang`` answers only once the site is closed (for fetch timeouts).
    """

    def __init__(self, host: str) -> None:
        self.hits: list[str] = []
        self.routes: dict[str, Route] = {}
        self._closing = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                site.hits.append(self.path)
                if self.path == "/hang":
                    site._closing.wait()
                status, headers, body = site.routes.get(self.path, (404, {}, b"not here"))
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except ConnectionError:
                    pass  # the fetcher gave up waiting (/hang)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,),
                                        daemon=True)

    def url(self, path: str, host: str = "news.example") -> str:
        return f"http://{host}:{self.port}{path}"

    def __enter__(self) -> Site:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@dataclass
class Resolver:
    """DNS for the tests: fixed answers, and a log of every name asked for."""

    names: dict[str, str]
    asked: list[str] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.names:
            raise OSError(f"test resolver: no such name {host}")
        return [self.names[host]]


@dataclass
class Web:
    """The article site (trusted 127.0.0.1), the honeypot (127.0.0.2) and the resolver."""

    site: Site
    honeypot: Site
    resolver: Resolver

    @property
    def env(self) -> dict[str, str]:
        return {"READER_FETCH_ALLOW": "news.example,intranet.example,loopback.example",
                "READER_FETCH_TRUSTED_NETWORKS": "127.0.0.1/32",
                "READER_MAX_HTML_BYTES": "5000"}


@pytest.fixture
def web() -> Iterator[Web]:
    with Site("127.0.0.1") as site, Site("127.0.0.2") as honeypot:
        resolver = Resolver({"news.example": "127.0.0.1", "intranet.example": "10.0.0.5",
                             "loopback.example": "127.0.0.2"})
        html = {"Content-Type": "text/html; charset=utf-8"}
        site.routes.update({
            "/article": (200, html, PAGE),
            "/to-honeypot": (302, {"Location": honeypot.url("/secret", "loopback.example")}, b""),
            "/to-metadata": (301, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
            "/image": (200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n"),
            "/big": (200, html, b"<p>" + b"x" * 6000 + b"</p>"),
        })
        honeypot.routes["/secret"] = (200, html, PAGE)
        yield Web(site, honeypot, resolver)


# ---------------------------------------------------------------- the demo page and preview


def test_demo_page(make_api: MakeApi) -> None:
    client = make_api().client
    response = client.get("/")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert '<script src="/web/widget.js"' in response.text  # the demo embeds the widget
    assert "习近平向2025世界智能产业博览会致贺信" in response.text
    assert client.get("/web/widget.js").status_code == 200
    preview = client.get("/web/preview.html")
    assert preview.status_code == 200 and "/api/v1/segments" in preview.text
    assert client.get("/web/demo/article.txt").text.startswith("(欢迎您)注销")


def test_segments_of_page_text(make_api: MakeApi, seed_text: str) -> None:
    response = make_api().client.post(f"{API}/segments", json={"text": seed_text})
    assert response.status_code == 200
    body = response.json()
    assert body["title"].startswith("习近平向2025")
    assert body["published"] == "2025-09-05T20:18"
    assert body["segments"][0]["kind"] == "title"
    for segment in body["segments"]:
        assert seed_text[segment["start"] : segment["end"]] == segment["text"]
    kinds = {p["kind"] for p in body["paragraphs"]}
    assert {"nav", "login", "control", "assistant", "notice", "duplicate"} <= kinds


def test_segments_of_html(make_api: MakeApi) -> None:
    html = ("<html><head><title>重要会议召开 - 新闻网</title></head><body><h1>重要会议召开</h1>"
            "<p>这是正文的第一段，它讲了一件很重要的事情，大家都很关心。</p>"
            "<p>这是正文的第二段，它补充了更多的细节和背景信息。</p></body></html>")
    body = make_api().client.post(f"{API}/segments", json={"html": html, "level": "light"}).json()
    assert body["title"] == "重要会议召开"
    assert body["origin"] == "html"


def test_segments_preview_stores_and_speaks_nothing(make_api: MakeApi) -> None:
    api = make_api()
    assert api.client.post(f"{API}/segments", json={"text": TEXT}).status_code == 200
    assert api.stored() == (0, 0)
    assert api.edge.stats.count() == 0


@pytest.mark.parametrize(
    ("payload", "status", "detail"),
    [
        ({}, 422, "exactly one of 'text' and 'html'"),
        ({"text": "a", "html": "<p>a</p>"}, 422, "exactly one"),
        ({"text": 5}, 422, "text"),
        ({"text": "   "}, 422, "empty"),
        ({"text": "x", "level": "loud"}, 422, "level"),
        ({"text": "字" * 200_001}, 413, "the limit is 200,000"),
        ({"html": "<html><body><nav>首页</nav></body></html>"}, 422, "article"),
    ],
)
def test_segments_bad_input_is_a_problem(
    make_api: MakeApi, payload: dict[str, object], status: int, detail: str
) -> None:
    response = make_api().client.post(f"{API}/segments", json=payload)
    problem(response, status, detail)


def test_segments_malformed_json_is_a_problem(make_api: MakeApi) -> None:
    response = make_api().client.post(f"{API}/segments", content=b"{not json",
                                      headers={"content-type": "application/json"})
    problem(response, 422, "not valid JSON")


def test_ssml_looking_text_never_reaches_speech_as_markup(make_api: MakeApi) -> None:
    text = "标题\n<speak>你好</speak>，请读这句话。</voice>再读这句 & 那句。"
    body = make_api().client.post(f"{API}/segments", json={"text": text, "plain": True}).json()
    for segment in body["segments"]:
        assert not set("<>&") & set(segment["speak"])


# ---------------------------------------------------------------- registering articles


def test_register_text_gives_a_manifest_then_finds_it_again(make_api: MakeApi) -> None:
    api = make_api()
    response = api.client.post(f"{API}/articles", json={"text": TEXT, "plain": True})
    assert response.status_code == 201
    manifest = response.json()
    ident = manifest["id"]
    assert response.headers["location"] == f"{API}/articles/{ident}"
    assert manifest["title"] == TITLE
    assert manifest["voice"]["id"] == "xiaoxiao" and manifest["voice"]["language"] == "zh-CN"
    assert manifest["rate"] == 0
    assert manifest["engines"] == ["edge", "espeak"]
    assert manifest["audio"] == f"{API}/articles/{ident}/audio.mp3"
    assert manifest["captions"] == f"{API}/articles/{ident}/captions.vtt"
    assert manifest["timings"] == f"{API}/articles/{ident}/timings.json"

    segments = manifest["segments"]
    assert [s["index"] for s in segments] == [0, 1, 2, 3]
    assert [s["kind"] for s in segments] == ["title", "body", "body", "body"]
    assert [s["paragraph"] for s in segments] == [0, 1, 1, 2]
    for segment in segments:
        assert TEXT[segment["start"] : segment["end"]] == segment["text"]
        assert segment["audio"].startswith(f"{API}/audio/") and segment["audio"].endswith(".mp3")
        assert segment["duration_ms"] is None and segment["engine"] is None
    assert len({s["audio"] for s in segments}) == 4

    again = api.client.post(f"{API}/articles", json={"text": TEXT, "plain": True})
    assert again.status_code == 200
    assert again.json() == manifest
    assert again.headers["location"] == response.headers["location"]
    assert api.manifest(ident) == manifest
    assert api.stored() == (1, 0)


def test_another_voice_or_rate_is_another_article(make_api: MakeApi) -> None:
    api = make_api()
    first = api.register(text=TEXT, plain=True)
    male = api.register(text=TEXT, plain=True, voice="yunyang")
    faster = api.register(text=TEXT, plain=True, rate=20)
    assert len({first["id"], male["id"], faster["id"]}) == 3
    assert male["voice"]["id"] == "yunyang" and faster["rate"] == 20
    assert first["segments"][0]["audio"] != male["segments"][0]["audio"]
    assert first["segments"][0]["audio"] != faster["segments"][0]["audio"]
    assert api.stored() == (3, 0)


def test_register_html(make_api: MakeApi) -> None:
    api = make_api()
    manifest = api.register(html=PAGE.decode(), title="夜间公交开通")
    assert manifest["title"] == "夜间公交开通"
    assert manifest["origin"] == "html"
    assert [s["kind"] for s in manifest["segments"]][0] == "title"
    assert any("票价两元" in s["text"] for s in manifest["segments"])


def test_register_by_url_fetches_the_page_once(make_api: MakeApi, web: Web) -> None:
    api = make_api(resolver=web.resolver, **web.env)
    url = web.site.url("/article")
    manifest = api.register(url=url)
    assert manifest["url"] == url
    assert manifest["title"] == PAGE_TITLE
    assert any("票价两元" in s["text"] for s in manifest["segments"])
    assert web.site.hits == ["/article"]
    assert web.resolver.asked == ["news.example"]
    assert api.register(expect=200, url=url)["id"] == manifest["id"]
    assert web.honeypot.hits == []


def test_unknown_article_is_a_404_problem(make_api: MakeApi) -> None:
    api = make_api()
    for ident in ["0" * 32, "no-such-article", "x" * 1000, "%27%20OR%201%3D1"]:
        problem(api.client.get(f"{API}/articles/{ident}"), 404, "register it")
        for output in ["audio.mp3", "captions.vtt", "timings.json"]:
            problem(api.client.get(f"{API}/articles/{ident}/{output}"), 404)
    assert api.stored() == (0, 0)


def test_warm_start_synthesises_the_first_segments_without_a_clip_request(
    make_api: MakeApi,
) -> None:
    api = make_api(READER_WARM_SEGMENTS="2")
    manifest = api.register(text=TEXT, plain=True)
    api.warmed()
    assert api.edge.stats.count() == 2
    segments = api.manifest(manifest["id"])["segments"]
    assert [s["engine"] for s in segments] == ["edge", "edge", None, None]
    assert all(s["duration_ms"] > 0 for s in segments[:2])
    assert api.stored() == (1, 2)

    # The warm clips are cache hits now: served with an ETag, no new synthesis.
    hit = api.client.get(segments[0]["audio"])
    assert hit.status_code == 200 and hit.headers["etag"]
    api.register(expect=200, text=TEXT, plain=True)
    api.warmed()
    assert api.edge.stats.count() == 2


# ---------------------------------------------------------------- segment audio


def test_a_miss_is_streamed_from_edge_then_served_from_the_cache(make_api: MakeApi) -> None:
    api = make_api()
    manifest = api.register(text=TEXT, plain=True)
    url = manifest["segments"][0]["audio"]

    miss = api.client.get(url)
    assert miss.status_code == 200
    assert miss.headers["content-type"] == "audio/mpeg"
    assert miss.headers["x-reader-engine"] == "edge"
    assert miss.headers["cache-control"] == STREAMED  # not kept until it has passed its check
    assert probe_mp3(miss.content).duration_ms > 0
    assert api.edge.stats.count() == 1

    hit = api.client.get(url)
    key = url.removeprefix(f"{API}/audio/").removesuffix(".mp3")
    assert hit.status_code == 200
    assert hit.content == miss.content
    assert hit.headers["etag"] == f'"{key}"'
    assert hit.headers["cache-control"] == IMMUTABLE
    assert hit.headers["accept-ranges"] == "bytes"
    assert hit.headers["content-length"] == str(len(miss.content))
    assert hit.headers["x-reader-engine"] == "edge"
    assert api.edge.stats.count() == 1

    segment = api.manifest(manifest["id"])["segments"][0]
    assert segment["engine"] == "edge"
    assert segment["duration_ms"] == probe_mp3(miss.content).duration_ms


def test_a_miss_sends_its_first_bytes_before_the_engine_has_finished(make_api: MakeApi) -> None:
    api = make_api()
    url = api.register(text=TEXT, plain=True)["segments"][1]["audio"]
    api.edge.speed = 0.001  # after the first chunk, the rest would take hours
    with api.client.stream("GET", url) as response:
        assert response.status_code == 200
        assert response.headers["x-reader-engine"] == "edge"
        first = next(response.iter_bytes())
        assert first[:2] == b"\xff\xf3"  # an MPEG-2 layer III frame header
        assert api.stored() == (1, 0)  # the clip is not complete, so nothing is cached yet


def test_espeak_only_service_speaks_offline(make_api: MakeApi) -> None:
    api = make_api(READER_ENGINES="espeak")
    manifest, url, data = played(api)
    assert manifest["engines"] == ["espeak"]
    hit = api.client.get(url)
    assert hit.headers["x-reader-engine"] == "espeak"
    assert hit.headers["cache-control"] == IMMUTABLE
    assert hit.content == data and probe_mp3(data).duration_ms > 0
    assert api.edge.stats.connections == 0


def test_range_gives_206_with_content_range(make_api: MakeApi) -> None:
    api = make_api()
    _, url, data = played(api)
    size = len(data)
    for header, first, last in [("bytes=0-9", 0, 9), ("bytes=100-", 100, size - 1),
                                ("bytes=-144", size - 144, size - 1),
                                ("bytes=0-99999999", 0, size - 1), (" bytes=5-5 ", 5, 5)]:
        response = api.client.get(url, headers={"Range": header})
        assert response.status_code == 206, header
        assert response.headers["content-range"] == f"bytes {first}-{last}/{size}"
        assert response.content == data[first : last + 1]
        assert response.headers["content-length"] == str(last + 1 - first)
        assert response.headers["etag"] and response.headers["cache-control"] == IMMUTABLE


def test_if_none_match_gives_304(make_api: MakeApi) -> None:
    api = make_api()
    _, url, data = played(api)
    tag = api.client.get(url).headers["etag"]
    for header in [tag, f"W/{tag}", f'"other", {tag}', "*"]:
        response = api.client.get(url, headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == tag
        assert response.headers["cache-control"] == IMMUTABLE
    assert api.client.get(url, headers={"If-None-Match": tag, "Range": "bytes=0-1"}
                          ).status_code == 304
    other = api.client.get(url, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.content == data


def test_head_of_a_hit_and_of_a_miss(make_api: MakeApi) -> None:
    api = make_api()
    manifest, url, data = played(api)
    hit = api.client.head(url)
    assert hit.status_code == 200 and hit.content == b""
    assert hit.headers["content-length"] == str(len(data))
    assert hit.headers["etag"] and hit.headers["cache-control"] == IMMUTABLE
    assert hit.headers["accept-ranges"] == "bytes"

    synthesised = api.edge.stats.count()
    miss = api.client.head(manifest["segments"][3]["audio"])
    assert miss.status_code == 200 and miss.content == b""
    assert miss.headers["content-type"] == "audio/mpeg"
    assert miss.headers["cache-control"] == STREAMED
    assert "content-length" not in miss.headers  # its length is not known before it is made
    assert api.edge.stats.count() == synthesised  # HEAD synthesises nothing
    assert api.stored() == (1, 1)

    unknown = api.client.head(f"{API}/audio/{'0' * 64}.mp3")
    assert unknown.status_code == 404 and unknown.headers["content-type"] == PROBLEM


def test_fallback_audio_is_not_stored_and_edge_takes_over_when_back(make_api: MakeApi) -> None:
    api = make_api()
    url = api.register(text=TEXT, plain=True)["segments"][1]["audio"]
    api.edge.faults.always(Fault.HTTP_503)

    fallback = api.client.get(url)
    assert fallback.status_code == 200
    assert fallback.headers["x-reader-engine"] == "espeak"
    assert fallback.headers["cache-control"] == "no-store"
    assert probe_mp3(fallback.content).duration_ms > 0
    assert api.metric("reader_engine_fallbacks_total", from_engine="edge",
                      to_engine="espeak") == 1
    assert api.metric("reader_engine_failures_total", engine="edge", kind="unavailable") == 1

    api.edge.faults.clear()
    back = api.client.get(url)
    assert back.status_code == 200
    assert back.headers["x-reader-engine"] == "edge"
    assert back.headers["cache-control"] == STREAMED  # made now; the next request is a hit
    assert back.content != fallback.content
    hit = api.client.get(url)
    assert hit.headers["x-reader-engine"] == "edge" and hit.content == back.content


def test_a_fallback_clip_from_the_cache_has_validators_and_ranges_but_is_not_immutable(
    make_api: MakeApi,
) -> None:
    api = make_api(READER_EDGE_BREAKER_FAILURES="100")  # edge is asked every time
    url = api.register(text=TEXT, plain=True)["segments"][1]["audio"]
    key = url.removeprefix(f"{API}/audio/").removesuffix(".mp3")
    api.edge.faults.always(Fault.HTTP_503)
    made = api.client.get(url)  # espeak speaks it now: streamed, and stored under its own key
    assert made.headers["cache-control"] == "no-store"

    stand_in = api.client.get(url)
    assert stand_in.status_code == 200 and stand_in.content == made.content
    assert stand_in.headers["x-reader-engine"] == "espeak"
    assert stand_in.headers["cache-control"] == STREAMED  # kept, but asked about every time
    tag = stand_in.headers["etag"]
    assert tag != f'"{key}"'  # espeak's clip has its own tag: the primary's bytes differ
    assert stand_in.headers["accept-ranges"] == "bytes"
    assert stand_in.headers["content-length"] == str(len(made.content))

    size = len(made.content)
    part = api.client.get(url, headers={"Range": "bytes=100-"})
    assert part.status_code == 206 and part.content == made.content[100:]
    assert part.headers["content-range"] == f"bytes 100-{size - 1}/{size}"
    assert part.headers["cache-control"] == STREAMED and part.headers["etag"] == tag
    problem(api.client.get(url, headers={"Range": f"bytes={size}-"}), 416)
    same = api.client.get(url, headers={"If-None-Match": tag})
    assert same.status_code == 304 and same.content == b""
    assert same.headers["etag"] == tag and same.headers["cache-control"] == STREAMED

    asked = api.edge.stats.count()
    head = api.client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(size) and head.headers["etag"] == tag
    assert head.headers["cache-control"] == STREAMED
    assert head.headers["x-reader-engine"] == "espeak"
    assert api.client.head(url, headers={"If-None-Match": tag}).status_code == 304
    assert api.edge.stats.count() == asked  # HEAD asks no engine

    api.edge.faults.clear()  # edge is back: the stand-in's tag no longer matches
    back = api.client.get(url, headers={"If-None-Match": tag})
    assert back.status_code == 200 and back.headers["x-reader-engine"] == "edge"
    hit = api.client.get(url)
    assert hit.headers["etag"] == f'"{key}"' and hit.headers["cache-control"] == IMMUTABLE
    assert hit.content == back.content != made.content


def test_a_silent_edge_hands_the_clip_to_espeak_at_the_first_byte_deadline(
    make_api: MakeApi,
) -> None:
    api = make_api(READER_EDGE_FIRST_BYTE_TIMEOUT="0.2", READER_EDGE_TIMEOUT="3600",
                   READER_EDGE_RETRIES="2")
    url = api.register(text=TEXT, plain=True)["segments"][1]["audio"]
    api.edge.faults.always(Fault.SILENT)
    response = api.client.get(url)
    assert response.status_code == 200 and response.headers["x-reader-engine"] == "espeak"
    assert probe_mp3(response.content).duration_ms > 0
    assert api.edge.stats.count() == 1  # abandoned once, not retried
    assert api.metric("reader_engine_failures_total", engine="edge", kind="timeout") == 1
    assert api.health()["engines"][0]["breaker"] == "open"


def test_a_stream_broken_mid_clip_reaches_the_listener_whole_when_the_retry_repeats_it(
    make_api: MakeApi,
) -> None:
    api = make_api(READER_EDGE_RETRIES="1")
    url = api.register(text=TEXT, plain=True)["segments"][1]["audio"]
    api.edge.faults.push(Fault.DROP_MID_STREAM)  # the first attempt only
    response = api.client.get(url)
    assert response.status_code == 200 and response.headers["x-reader-engine"] == "edge"
    first, retry = api.edge.stats.requests
    assert (first.fault, retry.fault) == (Fault.DROP_MID_STREAM, None)
    assert response.content == api.edge.audio_source(retry.text, retry.voice)  # uncut
    hit = api.client.get(url)  # stored whole
    assert hit.headers["cache-control"] == IMMUTABLE and hit.content == response.content


def test_a_stream_broken_mid_clip_is_cut_when_the_retry_differs(make_api: MakeApi) -> None:
    api = make_api(READER_EDGE_RETRIES="1")
    url = api.register(text=TEXT, plain=True)["segments"][1]["audio"]
    api.edge.faults.push(Fault.DROP_MID_STREAM)
    api.edge.faults.push(Fault.ANOTHER_TAKE)
    received = b""
    with api.client.stream("GET", url) as response:
        assert response.status_code == 200
        # The test client's way of showing a response cut after it started.
        with pytest.raises(RuntimeError, match="response already started") as cut:
            for chunk in response.iter_bytes():
                received += chunk
    assert isinstance(cut.value.__cause__, StreamDiverged)
    request = api.edge.stats.requests[0]
    first_take = api.edge.audio_source(request.text, request.voice)
    assert 0 < len(received) < len(first_take) and received == first_take[: len(received)]
    assert api.stored() == (1, 0)  # nothing partial was kept


def test_no_engine_can_speak_is_a_503_with_retry_after(make_api: MakeApi) -> None:
    api = make_api(READER_ENGINES="edge")
    url = api.register(text=TEXT, plain=True)["segments"][0]["audio"]
    api.edge.faults.always(Fault.HTTP_503)
    response = api.client.get(url)
    problem(response, 503, "no engine could speak")
    assert int(response.headers["retry-after"]) >= 1
    assert api.stored() == (1, 0)


def test_healthz_shows_the_breaker_opening(make_api: MakeApi) -> None:
    api = make_api(READER_EDGE_BREAKER_FAILURES="1")
    health = api.health()
    assert health["status"] == "ok"
    assert [(e["name"], e["breaker"]) for e in health["engines"]] == [
        ("edge", "closed"), ("espeak", None)]
    assert all(e["revision"] for e in health["engines"])
    assert (health["articles"], health["cache"]["clips"], health["cache"]["bytes"]) == (0, 0, 0)

    manifest = api.register(text=TEXT, plain=True)
    api.edge.faults.always(Fault.HTTP_503)
    assert api.client.get(manifest["segments"][0]["audio"]).headers["x-reader-engine"] == "espeak"
    health = api.health()
    assert health["engines"][0]["breaker"] == "open"
    assert health["cache"]["clips"] == 1  # espeak's clip, under espeak's own key
    assert health["cache"]["bytes"] > 0 and health["articles"] == 1

    # While the breaker is open, edge is not even asked.
    api.edge.faults.clear()
    connections = api.edge.stats.connections
    assert api.client.get(manifest["segments"][1]["audio"]).headers["x-reader-engine"] == "espeak"
    assert api.edge.stats.connections == connections


# ---------------------------------------------------------------- whole-article outputs


def test_whole_article_mp3_captions_and_timings(make_api: MakeApi) -> None:
    api = make_api()
    manifest = api.register(text=TEXT, plain=True)

    response = api.client.get(manifest["audio"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/mpeg"
    assert f'filename="{manifest["id"]}.mp3"' in response.headers["content-disposition"]
    mp3 = MP3(io.BytesIO(response.content))
    assert mp3.tags is not None and mp3.tags["TIT2"].text == [TITLE]
    durations = [s["duration_ms"] for s in api.manifest(manifest["id"])["segments"]]
    assert all(durations)
    assert mp3.info.length * 1000 == pytest.approx(sum(durations) + TEXT_PAUSES_MS, abs=3 * 24)
    assert api.edge.stats.count() == 4

    captions = api.client.get(manifest["captions"])
    assert captions.status_code == 200
    assert captions.headers["content-type"].startswith("text/vtt")
    assert captions.text.startswith("WEBVTT\n")
    assert captions.text.count(" --> ") == 4
    for segment in manifest["segments"]:
        assert f"\n{segment['text']}\n" in captions.text

    timings = api.client.get(manifest["timings"])
    assert timings.status_code == 200
    sentences = timings.json()
    assert [s["index"] for s in sentences] == [0, 1, 2, 3]
    starts = [s["start_ms"] for s in sentences]
    assert starts == sorted(starts) and sentences[-1]["end_ms"] <= mp3.info.length * 1000 + 1
    for sentence in sentences:
        assert sentence["words"]  # edge reports word boundaries
        assert all(sentence["start_ms"] <= w["start_ms"] <= w["end_ms"] <= sentence["end_ms"]
                   for w in sentence["words"])
    # Longer pauses between paragraphs than between sentences of one paragraph.
    gaps = [b["start_ms"] - a["end_ms"] for a, b in zip(sentences, sentences[1:], strict=False)]
    assert gaps[1] < gaps[2] < gaps[0]

    # Built from the cached clips: nothing was synthesised twice.
    assert api.edge.stats.count() == 4
    assert api.client.get(manifest["audio"]).content == response.content
    assert api.edge.stats.count() == 4


# ---------------------------------------------------------------- voices, health, metrics, docs


def test_voices(make_api: MakeApi) -> None:
    voices = make_api().client.get(f"{API}/voices").json()
    ids = [v["id"] for v in voices]
    assert {"xiaoxiao", "yunyang", "hiumaan", "aria"} <= set(ids)
    assert len(ids) == len(set(ids))
    assert [v["id"] for v in voices if v["default"]] == ["xiaoxiao"]
    for voice in voices:
        assert set(voice) == {"id", "label", "language", "gender", "description", "default"}


def test_metrics_count_requests_by_route_template_and_cache_lookups(make_api: MakeApi) -> None:
    api = make_api()
    text = api.client.get("/metrics")
    assert text.status_code == 200
    assert text.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert api.metric("reader_cache_lookups_total", result="hit") == 0

    manifest, url, _ = played(api)
    assert api.metric("reader_cache_lookups_total", result="miss") == 1
    api.client.get(url)
    api.client.get(url, headers={"Range": "bytes=0-1"})
    assert api.metric("reader_cache_lookups_total", result="hit") == 2
    assert api.metric("reader_cache_lookups_total", result="miss") == 1
    assert api.metric("reader_synthesis_seconds_count", engine="edge") == 1

    api.manifest(manifest["id"])
    api.client.get("/no/such/page")
    assert api.metric("reader_http_requests_total", route=f"{API}/articles", method="POST",
                      status="2xx") == 1
    assert api.metric("reader_http_requests_total", route=f"{API}/audio/{{name}}",
                      method="GET", status="2xx") == 3
    assert api.metric("reader_http_requests_total", route=f"{API}/articles/{{article_id}}",
                      method="GET", status="2xx") == 1
    assert api.metric("reader_http_requests_total", route="unmatched", status="4xx") == 1
    exposition = api.client.get("/metrics").text
    assert manifest["id"] not in exposition and "/no/such/page" not in exposition


def test_openapi_and_docs(make_api: MakeApi) -> None:
    client = make_api().client
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    schema = client.get("/openapi.json").json()
    assert set(schema["paths"]) >= {
        f"{API}/articles", f"{API}/articles/{{article_id}}",
        f"{API}/articles/{{article_id}}/audio.mp3", f"{API}/articles/{{article_id}}/captions.vtt",
        f"{API}/articles/{{article_id}}/timings.json", f"{API}/audio/{{name}}", f"{API}/voices",
        f"{API}/segments", "/healthz", f"{API}/admin/cache", f"{API}/admin/lexicon"}
    body = schema["paths"][f"{API}/articles"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]


# ---------------------------------------------------------------- bad input: articles


@pytest.mark.parametrize(
    ("payload", "status", "detail"),
    [
        pytest.param({}, 422, "exactly one of 'text', 'html' and 'url'", id="nothing"),
        pytest.param({"title": "只有标题"}, 422, "exactly one", id="title only"),
        pytest.param({"text": None}, 422, "exactly one", id="null text"),
        pytest.param({"text": TEXT, "html": "<p>正文</p>"}, 422, "exactly one", id="text+html"),
        pytest.param({"text": TEXT, "url": "https://news.example/a"}, 422, "exactly one",
                     id="text+url"),
        pytest.param({"text": 5}, 422, "text", id="text is a number"),
        pytest.param({"text": ["正文"]}, 422, "text", id="text is a list"),
        pytest.param({"html": {"body": "正文"}}, 422, "html", id="html is an object"),
        pytest.param({"text": TEXT, "rate": "fast"}, 422, "rate", id="rate is a word"),
        pytest.param({"text": TEXT, "rate": 1.5}, 422, "rate", id="rate is a fraction"),
        pytest.param({"text": TEXT, "rate": 101}, 422, "rate", id="rate too high"),
        pytest.param({"text": TEXT, "rate": -51}, 422, "rate", id="rate too low"),
        pytest.param({"text": TEXT, "voice": 7}, 422, "voice", id="voice is a number"),
        pytest.param({"text": TEXT, "voice": "v" * 65}, 422, "voice", id="voice too long"),
        pytest.param({"text": TEXT, "title": "标" * 501}, 422, "title", id="title too long"),
        pytest.param({"text": TEXT, "plain": "perhaps"}, 422, "plain", id="plain not a bool"),
        pytest.param({"url": "https://news.example/" + "a" * 2000}, 422, "url", id="url too long"),
        pytest.param({"text": "  \n\t "}, 422, "empty", id="blank text"),
        pytest.param({"text": "。。。！？……"}, 422, "nothing to read", id="punctuation only"),
        pytest.param({"html": "<html><body><nav>首页</nav></body></html>"}, 422, "article",
                     id="page without article"),
        pytest.param({"text": "字" * 1001}, 413, "the limit is 1,000", id="text over limit"),
        pytest.param({"html": "<p>" + "字" * 5000 + "</p>"}, 413, "READER_MAX_HTML_BYTES",
                     id="html over limit"),
        pytest.param({"text": TEXT, "voice": "nobody"}, 422, "xiaoxiao", id="unknown voice"),
    ],
)
def test_bad_article_stores_and_speaks_nothing(
    make_api: MakeApi, payload: dict[str, object], status: int, detail: str
) -> None:
    api = make_api(READER_MAX_INPUT_CHARS="1000", READER_MAX_HTML_BYTES="5000",
                   READER_WARM_SEGMENTS="3")
    problem(api.client.post(f"{API}/articles", json=payload), status, detail)
    assert api.stored() == (0, 0)
    assert api.edge.stats.count() == 0


def test_unknown_voice_names_the_valid_ones(make_api: MakeApi) -> None:
    api = make_api()
    body = problem(api.client.post(f"{API}/articles", json={"text": TEXT, "voice": "nobody"}),
                   422, "'nobody'")
    for voice in ["xiaoxiao", "yunyang", "hiumaan", "aria"]:
        assert voice in body["detail"]


@pytest.mark.parametrize(
    ("content", "content_type", "detail"),
    [
        (b"{not json", "application/json", "not valid JSON"),
        (b'{"text": "\xe5\xa4\x9c', "application/json", "not valid JSON"),
        (b"", "application/json", ""),
        (b"[]", "application/json", "body"),
        (b'"just a string"', "application/json", "body"),
        (b"42", "application/json", "body"),
        (b"null", "application/json", ""),
        (b"text=hello", "application/x-www-form-urlencoded", ""),
        (b"\xff\xfe\x00garbage", "application/octet-stream", ""),
    ],
)
def test_malformed_bodies_are_422_problems(
    make_api: MakeApi, content: bytes, content_type: str, detail: str
) -> None:
    api = make_api()
    response = api.client.post(f"{API}/articles", content=content,
                               headers={"content-type": content_type})
    problem(response, 422, detail)
    assert api.stored() == (0, 0)


# ---------------------------------------------------------------- bad input: URLs


HostileUrl = Callable[[Web], str]


@pytest.mark.parametrize(
    ("url", "status", "detail", "fetched"),
    [
        pytest.param(lambda w: "file:///etc/passwd", 400, "file: URL", [], id="file"),
        pytest.param(lambda w: "javascript:alert(1)", 400, "javascript: URL", [],
                     id="javascript"),
        pytest.param(lambda w: "news.example/article", 400, "no scheme", [], id="no scheme"),
        pytest.param(lambda w: f"http://user:pw@news.example:{w.site.port}/article", 400,
                     "password", [], id="userinfo"),
        pytest.param(lambda w: "http://news.example:0/article", 400, "port 0", [], id="port 0"),
        pytest.param(lambda w: "http://127.0.0.1/", 403, "not one of the sites", [],
                     id="loopback literal"),
        pytest.param(lambda w: f"http://127.0.0.2:{w.honeypot.port}/secret", 403, "loopback", [],
                     id="loopback literal, honeypot"),
        pytest.param(lambda w: "http://169.254.169.254/latest/meta-data/", 403, "link-local", [],
                     id="metadata service"),
        pytest.param(lambda w: "http://2852039166/latest/meta-data/", 403, "link-local", [],
                     id="metadata service as a number"),
        pytest.param(lambda w: "http://[::ffff:169.254.169.254]/", 403, "link-local", [],
                     id="metadata service in IPv6"),
        pytest.param(lambda w: "http://intranet.example/", 403, "private", [],
                     id="allowed name, private address"),
        pytest.param(lambda w: f"http://loopback.example:{w.honeypot.port}/secret", 403,
                     "loopback", [], id="allowed name, loopback address"),
        pytest.param(lambda w: w.site.url("/to-honeypot"), 403, "redirected", ["/to-honeypot"],
                     id="redirect to loopback"),
        pytest.param(lambda w: w.site.url("/to-metadata"), 403, "link-local", ["/to-metadata"],
                     id="redirect to metadata service"),
        pytest.param(lambda w: w.site.url("/article", host="elsewhere.example"), 403,
                     "not one of the sites", [], id="off the allowlist"),
    ],
)
def test_hostile_urls_are_refused_and_never_fetched(
    make_api: MakeApi, web: Web, url: HostileUrl, status: int, detail: str, fetched: list[str]
) -> None:
    api = make_api(resolver=web.resolver, **web.env)
    problem(api.client.post(f"{API}/articles", json={"url": url(web)}), status, detail)
    assert web.honeypot.hits == []
    assert web.site.hits == fetched
    assert "elsewhere.example" not in web.resolver.asked  # names off the list: never looked up
    assert api.stored() == (0, 0)
    assert api.edge.stats.count() == 0


def test_url_mode_off_refuses_every_url(make_api: MakeApi, web: Web) -> None:
    api = make_api(resolver=web.resolver)
    response = api.client.post(f"{API}/articles", json={"url": web.site.url("/article")})
    problem(response, 403, "turned off")
    assert web.site.hits == [] and web.resolver.asked == []
    assert api.stored() == (0, 0)


@pytest.mark.parametrize(
    ("path", "status", "detail"),
    [
        ("/image", 415, "not a web page"),
        ("/big", 413, "5,000"),
        ("/missing", 502, "404"),
        ("/hang", 504, "took longer"),
    ],
)
def test_pages_that_cannot_be_read(
    make_api: MakeApi, web: Web, path: str, status: int, detail: str
) -> None:
    api = make_api(resolver=web.resolver, READER_FETCH_TIMEOUT="0.5", **web.env)
    problem(api.client.post(f"{API}/articles", json={"url": web.site.url(path)}), status, detail)
    assert web.site.hits == [path]
    assert api.stored() == (0, 0)


# ---------------------------------------------------------------- bad input: clip addresses


def _bad_names(key: str) -> list[str]:
    return [
        "..%2F..%2F..%2Fetc%2Fpasswd.mp3",  # a path, percent-encoded
        "..%2Farticles.sqlite",
        "..",
        f"{key[:-2]}...mp3",  # '..' inside a key-sized name
        "%2e%2e%2f" + key + ".mp3",
        "g" * 64 + ".mp3",  # not hex
        key.upper() + ".mp3",  # hex, but not lowercase
        key[:63] + ".mp3",  # too short
        key + "0.mp3",  # too long
        key,  # no suffix
        key + ".wav",
        key + ".mp3.mp3",
        key + "%00.mp3",
        key[:32] + "%2F" + key[32:] + ".mp3",
    ]


def test_bad_clip_addresses_are_404_and_read_nothing(make_api: MakeApi) -> None:
    api = make_api()
    _, url, _ = played(api)
    key = url.removeprefix(f"{API}/audio/").removesuffix(".mp3")
    reads = api.cache_reads()
    for name in _bad_names(key):
        for method in ["GET", "HEAD"]:
            response = api.client.request(method, f"{API}/audio/{name}")
            assert response.status_code == 404, (method, name)
            if method == "GET":
                problem(response, 404)
        assert api.cache_reads() == reads, name  # refused before the cache was touched
    assert api.stored() == (1, 1)
    assert api.edge.stats.count() == 1

    # A well-formed key nobody registered: looked up, not found, nothing synthesised.
    problem(api.client.get(f"{API}/audio/{'0' * 64}.mp3"), 404, "register its article")
    assert api.cache_reads() == reads + 1
    assert api.edge.stats.count() == 1


# ---------------------------------------------------------------- bad input: ranges


def _bad_ranges(size: int) -> list[str]:
    return [
        "bytes=abc",
        "bytes=",
        "bytes=-",
        "bytes=1-2-3",
        "items=0-9",
        "0-9",
        "bytes=9-2",  # last before first
        "bytes=-0",  # an empty suffix
        f"bytes={size}-",  # starts past the end
        f"bytes={size + 100}-{size + 200}",
        "bytes=0-1,4-5",  # several ranges
        "bytes=0-0,-1",
        "bytes=" + ",".join(f"{i}-{i}" for i in range(5000)),  # thousands
        "bytes=" + "9" * 19 + "-",  # absurdly large
        "bytes=0-" + "9" * 300,
    ]


def test_bad_ranges_are_416_with_the_size(make_api: MakeApi) -> None:
    api = make_api()
    _, url, data = played(api)
    for header in [*_bad_ranges(len(data)), b"bytes=\xbd-1"]:
        response = api.client.get(url, headers={"Range": header})
        problem(response, 416)
        assert response.headers["content-range"] == f"bytes */{len(data)}", repr(header[:40])
    assert api.client.get(url).content == data


# ---------------------------------------------------------------- abuse limits


def test_rate_limit_is_429_with_retry_after_per_client(make_api: MakeApi) -> None:
    api = make_api(READER_RATE_LIMIT="0.01", READER_RATE_BURST="2",
                   READER_TRUSTED_PROXIES="testclient")
    manifest = api.register(text=TEXT, plain=True)
    url = manifest["segments"][0]["audio"]
    assert api.client.get(url).status_code == 200  # a miss: the second request of the burst

    refused = api.client.post(f"{API}/articles", json={"text": TEXT + "又一篇。", "plain": True})
    problem(refused, 429, "Too many requests", "bursts of 2")
    assert int(refused.headers["retry-after"]) >= 1
    problem(api.client.get(manifest["segments"][1]["audio"]), 429)  # another miss
    problem(api.client.get(manifest["audio"]), 429)
    assert api.stored() == (1, 1)
    assert api.edge.stats.count() == 1

    # What costs nothing is not limited: manifests and cache hits.
    assert api.client.get(f"{API}/articles/{manifest['id']}").status_code == 200
    assert api.client.get(url).status_code == 200

    # Another client (behind the trusted proxy) has a bucket of its own.
    other = {"X-Forwarded-For": "198.51.100.7"}
    response = api.client.post(f"{API}/articles", json={"text": TEXT, "plain": True,
                                                       "rate": 10}, headers=other)
    assert response.status_code == 201
    assert api.stored() == (2, 1)


def test_daily_budget_refuses_new_speech_but_cached_clips_still_play(make_api: MakeApi) -> None:
    # TITLE is 7 characters and the first body sentence 24: the budget covers only the title.
    api = make_api(READER_DAILY_CHARS="20")
    manifest, url, data = played(api)
    body = api.client.get(manifest["segments"][1]["audio"])
    problem(body, 429, "characters of new speech")
    assert int(body.headers["retry-after"]) >= 1
    assert api.stored() == (1, 1)
    assert api.edge.stats.count() == 1

    assert api.client.get(url).content == data  # cached: free

    # The whole-article outputs would synthesise the rest: the budget applies to them too.
    for output in ["audio", "captions", "timings"]:
        problem(api.client.get(manifest[output]), 429, "characters of new speech")
    assert api.stored() == (1, 1)
    assert api.edge.stats.count() == 1


def test_speech_no_engine_could_make_is_not_charged(make_api: MakeApi) -> None:
    # TITLE is 7 characters: a budget of 10 covers it once, so a charge kept for the failed
    # attempt would refuse the second.
    api = make_api(READER_DAILY_CHARS="10", READER_ENGINES="edge",
                   READER_EDGE_BREAKER_FAILURES="100")
    manifest = api.register(text=TEXT, plain=True)
    api.edge.faults.always(Fault.HTTP_503)
    problem(api.client.get(manifest["segments"][0]["audio"]), 503)
    api.edge.faults.clear()
    assert api.client.get(manifest["segments"][0]["audio"]).status_code == 200


# ---------------------------------------------------------------- editor and admin endpoints


ADMIN = [f"{API}/admin/cache", f"{API}/admin/lexicon"]


@pytest.mark.parametrize("path", ADMIN)
def test_admin_endpoints_need_a_token(make_api: MakeApi, path: str) -> None:
    client = make_api().client
    missing = client.get(path)
    problem(missing, 401, "Authorization: Bearer")
    assert missing.headers["www-authenticate"] == "Bearer"
    problem(client.get(path, headers={"Authorization": f"Basic {TOKEN}"}), 401)
    wrong = client.get(path, headers={"Authorization": "Bearer not-the-token"})
    assert "not-the-token" not in problem(wrong, 403, "not valid")["detail"]
    right = client.get(path, headers={"Authorization": f"bearer {TOKEN}"})
    assert right.status_code == 200 and isinstance(right.json(), dict)


def test_admin_endpoints_are_off_without_tokens(make_api: MakeApi) -> None:
    client = make_api(READER_API_TOKENS="").client
    for path in ADMIN:
        problem(client.get(path), 403, "disabled")
        problem(client.get(path, headers={"Authorization": f"Bearer {TOKEN}"}), 403, "disabled")


def test_admin_cache_stats(make_api: MakeApi) -> None:
    api = make_api()
    played(api)
    stats = api.client.get(f"{API}/admin/cache",
                           headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert stats["clips"] == 1 and stats["bytes"] > 0
    assert set(stats) == {"clips", "bytes", "pinned", "hits", "misses", "evictions"}


# ---------------------------------------------------------------- CORS, unknown routes


def test_cors_allows_only_configured_origins(make_api: MakeApi) -> None:
    client = make_api(READER_CORS_ORIGINS="https://news.example").client
    allowed = client.get(f"{API}/voices", headers={"Origin": "https://news.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://news.example"
    assert "x-reader-engine" in allowed.headers["access-control-expose-headers"].lower()
    other = client.get(f"{API}/voices", headers={"Origin": "https://evil.example"})
    assert other.status_code == 200
    assert "access-control-allow-origin" not in other.headers

    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    ok = client.options(f"{API}/articles", headers={"Origin": "https://news.example", **preflight})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://news.example"
    refused = client.options(f"{API}/articles",
                             headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in refused.headers
    problem(refused, 400, "origin", "READER_CORS_ORIGINS")


def test_no_cors_without_configured_origins(make_api: MakeApi) -> None:
    client = make_api().client
    response = client.get(f"{API}/voices", headers={"Origin": "https://news.example"})
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v2/articles", "/admin", "/.env",
                                  f"{API}/audio/", "/web/../reader/config.py",
                                  "/web/%2e%2e/reader/config.py", "/web/..%2Freader%2Fconfig.py"])
def test_unknown_paths_are_404_problems(make_api: MakeApi, path: str) -> None:
    problem(make_api().client.get(path), 404, "/docs")


def test_wrong_method_is_a_405_problem_with_allow(make_api: MakeApi) -> None:
    client = make_api().client
    response = client.put(f"{API}/articles", json={"text": TEXT})
    problem(response, 405, "/docs")
    assert response.headers["allow"] == "POST"
    response = client.delete(f"{API}/audio/{'0' * 64}.mp3")
    problem(response, 405)
    assert response.headers["allow"] == "GET, HEAD"
    response = client.post(f"{API}/articles/{'0' * 32}/audio.mp3")
    problem(response, 405)
    assert response.headers["allow"] == "GET, HEAD"
