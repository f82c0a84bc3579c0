"""Metrics: each series renders in the text format with the right values; labels stay bounded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from reader.errors import BadAudio, EngineRejected, EngineTimeout, EngineUnavailable
from reader.metrics import (
    LATENCY_BUCKETS,
    UNMATCHED,
    Metrics,
    RequestMetricsMiddleware,
    failure_kind,
    status_class,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def samples(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the rendered text, parsed by prometheus_client's own parser."""
    body, _ = metrics.render()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(body.decode("utf-8"))
            for s in family.samples}


def value(metrics: Metrics, name: str, **labels: str) -> float:
    return samples(metrics)[(name, frozenset(labels.items()))]


def request_samples(metrics: Metrics) -> list[Sample]:
    body, _ = metrics.render()
    return [s for family in text_string_to_metric_families(body.decode("utf-8"))
            if family.name == "reader_http_requests" for s in family.samples
            if s.name == "reader_http_requests_total"]


# ---------------------------------------------------------------- the series


def test_render_is_text_format_0_0_4() -> None:
    body, content_type = Metrics().render()
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    names = {family.name for family in text_string_to_metric_families(body.decode())}
    # prometheus_client also exposes a *_created gauge beside counters and histograms.
    assert names - {name for name in names if name.endswith("_created")} == {
        "reader_http_requests", "reader_cache_lookups", "reader_synthesis_seconds",
        "reader_engine_failures", "reader_engine_fallbacks", "reader_first_audio_byte_seconds",
        "reader_syntheses_in_flight",
    }
    assert b"# HELP reader_synthesis_seconds " in body
    assert b"# TYPE reader_synthesis_seconds histogram" in body


def test_counters_after_a_few_operations() -> None:
    metrics = Metrics()
    metrics.request("/api/v1/articles/{article_id}", "get", 200)
    metrics.request("/api/v1/articles/{article_id}", "GET", 204)
    metrics.request("/api/v1/segments", "POST", 422)
    metrics.cache_hit()
    metrics.cache_hit()
    metrics.cache_miss()
    metrics.fallback("edge", "espeak")
    assert value(metrics, "reader_http_requests_total",
                 route="/api/v1/articles/{article_id}", method="GET", status="2xx") == 2
    assert value(metrics, "reader_http_requests_total",
                 route="/api/v1/segments", method="POST", status="4xx") == 1
    assert value(metrics, "reader_cache_lookups_total", result="hit") == 2
    assert value(metrics, "reader_cache_lookups_total", result="miss") == 1
    assert value(metrics, "reader_engine_fallbacks_total",
                 from_engine="edge", to_engine="espeak") == 1


def test_synthesis_latency_and_in_flight() -> None:
    clock = FakeClock()
    metrics = Metrics(clock=clock)
    with metrics.synthesis("edge"):
        assert value(metrics, "reader_syntheses_in_flight") == 1
        clock.now += 0.3
    with metrics.synthesis("edge"):
        clock.now += 12.0
    assert value(metrics, "reader_syntheses_in_flight") == 0
    assert value(metrics, "reader_synthesis_seconds_count", engine="edge") == 2
    assert value(metrics, "reader_synthesis_seconds_sum", engine="edge") == pytest.approx(12.3)
    assert value(metrics, "reader_synthesis_seconds_bucket", engine="edge", le="0.5") == 1
    assert value(metrics, "reader_synthesis_seconds_bucket", engine="edge", le="13.0") == 2
    assert value(metrics, "reader_synthesis_seconds_bucket", engine="edge", le="+Inf") == 2


def test_a_failed_synthesis_leaves_latency_alone_and_in_flight_at_zero() -> None:
    metrics = Metrics(engines=["edge"])
    with pytest.raises(EngineTimeout), metrics.synthesis("edge"):
        raise EngineTimeout("too slow", engine="edge")
    assert value(metrics, "reader_syntheses_in_flight") == 0
    assert value(metrics, "reader_synthesis_seconds_count", engine="edge") == 0


def test_buckets_cover_50_ms_to_20_s() -> None:
    assert LATENCY_BUCKETS[0] == 0.05 and LATENCY_BUCKETS[-1] == 20.0
    assert list(LATENCY_BUCKETS) == sorted(LATENCY_BUCKETS)


def test_first_byte_histogram() -> None:
    metrics = Metrics()
    metrics.first_byte(0.7)
    assert value(metrics, "reader_first_audio_byte_seconds_count") == 1
    assert value(metrics, "reader_first_audio_byte_seconds_bucket", le="0.5") == 0
    assert value(metrics, "reader_first_audio_byte_seconds_bucket", le="1.0") == 1


@pytest.mark.parametrize(("error", "kind"), [
    (EngineUnavailable("down", engine="edge"), "unavailable"),
    (EngineTimeout("slow", engine="edge"), "timeout"),
    (EngineRejected("no", engine="edge"), "rejected"),
    (BadAudio("empty", engine="edge"), "bad_audio"),
])
def test_engine_failures_by_kind(error: EngineUnavailable, kind: str) -> None:
    metrics = Metrics(engines=["edge"])
    assert failure_kind(error) == kind
    metrics.engine_error(error)
    assert value(metrics, "reader_engine_failures_total", engine="edge", kind=kind) == 1
    others = {"unavailable", "timeout", "rejected", "bad_audio"} - {kind}
    for other in others:  # pre-created at zero by engines=
        assert value(metrics, "reader_engine_failures_total", engine="edge", kind=other) == 0


def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.cache_hit()
    assert value(first, "reader_cache_lookups_total", result="hit") == 1
    assert value(second, "reader_cache_lookups_total", result="hit") == 0


@pytest.mark.parametrize(("status", "label"), [
    (100, "1xx"), (200, "2xx"), (307, "3xx"), (404, "4xx"), (599, "5xx"),
    (99, "other"), (600, "other"), (0, "other"),
])
def test_status_class(status: int, label: str) -> None:
    assert status_class(status) == label


# ---------------------------------------------------------------- middleware


def tiny_app(metrics: Metrics) -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)

    @app.get("/api/v1/articles/{article_id}")
    async def article(article_id: str) -> dict[str, str]:
        return {"id": article_id}

    @app.get("/audio/{key}")
    async def audio(key: str) -> StreamingResponse:
        def chunks() -> Iterator[bytes]:
            yield b"ID3"
            yield key.encode()
        return StreamingResponse(chunks(), media_type="audio/mpeg")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    return app


def test_requests_are_counted_by_template_not_raw_path() -> None:
    metrics = Metrics()
    client = TestClient(tiny_app(metrics), raise_server_exceptions=False)
    assert client.get("/api/v1/articles/abc").status_code == 200
    assert client.get("/api/v1/articles/xyz").status_code == 200
    response = client.get("/audio/k1")
    assert response.content == b"ID3k1"  # streamed through untouched
    assert client.get("/nowhere").status_code == 404
    assert client.get("/boom").status_code == 500
    assert client.post("/api/v1/articles/abc").status_code == 405
    counted = {(s.labels["route"], s.labels["method"], s.labels["status"]): s.value
               for s in request_samples(metrics)}
    assert counted == {
        ("/api/v1/articles/{article_id}", "GET", "2xx"): 2,
        ("/audio/{key}", "GET", "2xx"): 1,
        (UNMATCHED, "GET", "4xx"): 1,
        ("/boom", "GET", "5xx"): 1,
        ("/api/v1/articles/{article_id}", "POST", "4xx"): 1,
    }


def test_label_cardinality_stays_bounded_over_10000_raw_paths() -> None:
    metrics = Metrics()
    methods = ["GET", "GET", "POST", "BREW", "X-EVIL-1", "PROPFIND"]
    with TestClient(tiny_app(metrics)) as client:  # one event loop for all, not one each
        for i in range(10_000):
            path = f"/api/v1/articles/{i}" if i % 2 else f"/random/{i}/path?q={i}"
            client.request(methods[i % len(methods)], path)
    counted = request_samples(metrics)
    assert sum(s.value for s in counted) == 10_000
    assert len(counted) <= 6  # 2 routes x (GET, POST, other) at most
    assert {s.labels["method"] for s in counted} <= {"GET", "POST", "other"}
    assert {s.labels["route"] for s in counted} == {"/api/v1/articles/{article_id}", UNMATCHED}
    body, _ = metrics.render()
    assert len(body) < 10_000  # the whole exposition, not one line per raw path
