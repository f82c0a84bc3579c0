"""Prometheus metrics for ``GET /metrics``: one ``Metrics`` object per app.

Every series lives in the object's own ``CollectorRegistry``, never in prometheus_client's
process-global one, so tests can build many apps in one process and two apps never mix
their counts. The series (all names start with ``reader_``)::

    reader_http_requests_total{route,method,status}     requests by route template
    reader_cache_lookups_total{result="hit"|"miss"}     audio cache lookups
    reader_synthesis_seconds{engine}                    latency of successful syntheses
    reader_engine_failures_total{engine,kind}           failed syntheses, by kind
    reader_engine_fallbacks_total{from_engine,to_engine} the pipeline moved down its chain
    reader_first_audio_byte_seconds                     streamed misses: time to first byte
    reader_syntheses_in_flight                          syntheses running right now

Every label value comes from a bounded set (route templates, engine names, fixed kinds),
because each distinct label value is a series kept in memory for the life of the process.

``RequestMetricsMiddleware`` counts requests; install it in the app factory with
``app.add_middleware(RequestMetricsMiddleware, metrics=metrics)``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Final, Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reader.errors import BadAudio, EngineError, EngineRejected, EngineTimeout

# Synthesis of one segment takes from ~50 ms (espeak, a short sentence) to ~20 s (edge-tts
# on a long paragraph over a slow link); roughly doubling steps keep quantiles usable at
# both ends with few buckets (each bucket is one more series per engine).
LATENCY_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0)

FailureKind = Literal["unavailable", "timeout", "rejected", "bad_audio"]
FAILURE_KINDS: Final[tuple[FailureKind, ...]] = ("unavailable", "timeout", "rejected", "bad_audio")

# Methods outside this set are counted as "other": a client can send any token as a method,
# and each would otherwise become a new series.
KNOWN_METHODS: Final = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)

# The route label for requests that matched no route (404s, slash redirects): their raw
# paths are exactly the unbounded values we must never use as labels.
UNMATCHED: Final = "unmatched"


class Metrics:
    """The service's metrics, in a registry of their own.

    ``engines`` pre-creates each engine's series at zero, so a dashboard or alert sees
    ``0`` rather than no data before the first failure. ``clock`` times syntheses (tests
    pass a fake one).
    """

    def __init__(self, engines: Iterable[str] = (),
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._clock = clock
        self.requests = Counter(
            "reader_http_requests", "HTTP requests by route template, method and status class.",
            ["route", "method", "status"], registry=self.registry)
        self.cache_lookups = Counter(
            "reader_cache_lookups", "Audio cache lookups; result is hit or miss.",
            ["result"], registry=self.registry)
        self.synthesis_seconds = Histogram(
            "reader_synthesis_seconds", "Seconds one engine took for one successful synthesis.",
            ["engine"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.engine_failures = Counter(
            "reader_engine_failures",
            "Failed syntheses by engine and kind (unavailable, timeout, rejected, bad_audio).",
            ["engine", "kind"], registry=self.registry)
        self.fallbacks = Counter(
            "reader_engine_fallbacks", "Times the pipeline fell back from one engine to the next.",
            ["from_engine", "to_engine"], registry=self.registry)
        self.first_byte_seconds = Histogram(
            "reader_first_audio_byte_seconds",
            "Seconds from request to the first audio byte sent, for streamed cache misses.",
            buckets=LATENCY_BUCKETS, registry=self.registry)
        self.in_flight = Gauge(
            "reader_syntheses_in_flight", "Syntheses running right now.", registry=self.registry)
        self._zero_series(engines)

    def _zero_series(self, engines: Iterable[str]) -> None:
        for result in ("hit", "miss"):
            self.cache_lookups.labels(result=result)
        for engine in engines:
            self.synthesis_seconds.labels(engine=engine)
            for kind in FAILURE_KINDS:
                self.engine_failures.labels(engine=engine, kind=kind)

    # ------------------------------------------------------------ recording

    def request(self, route: str, method: str, status: int) -> None:
        """Count one finished request. ``route`` must be a template, never a raw path."""
        verb = method.upper() if method.upper() in KNOWN_METHODS else "other"
        self.requests.labels(route=route, method=verb, status=status_class(status)).inc()

    def cache_hit(self) -> None:
        self.cache_lookups.labels(result="hit").inc()

    def cache_miss(self) -> None:
        self.cache_lookups.labels(result="miss").inc()

    @contextmanager
    def synthesis(self, engine: str) -> Iterator[None]:
        """Time one synthesis and count it as in flight while it runs.

        Only successes enter the latency histogram: a timeout or a refusal says nothing
        about how fast the engine speaks, and is counted by ``engine_failure`` instead.
        """
        self.in_flight.inc()
        started = self._clock()
        try:
            yield
        finally:
            self.in_flight.dec()
        self.synthesis_seconds.labels(engine=engine).observe(self._clock() - started)

    def engine_failure(self, engine: str, kind: FailureKind) -> None:
        self.engine_failures.labels(engine=engine, kind=kind).inc()

    def engine_error(self, exc: EngineError) -> None:
        """Count ``exc`` under its engine and the kind its class stands for."""
        self.engine_failure(exc.engine or "unknown", failure_kind(exc))

    def fallback(self, from_engine: str, to_engine: str) -> None:
        self.fallbacks.labels(from_engine=from_engine, to_engine=to_engine).inc()

    def first_byte(self, seconds: float) -> None:
        """Record the time to the first audio byte of a streamed cache miss."""
        self.first_byte_seconds.observe(seconds)

    # ------------------------------------------------------------ exposition

    def render(self) -> tuple[bytes, str]:
        """The body and content type of a ``GET /metrics`` response (text format 0.0.4)."""
        return generate_latest(self.registry), CONTENT_TYPE_PLAIN_0_0_4


def status_class(status: int) -> str:
    """``404`` -> ``"4xx"``; anything outside 100-599 -> ``"other"`` (bounded either way)."""
    return f"{status // 100}xx" if 100 <= status <= 599 else "other"


def failure_kind(exc: EngineError) -> FailureKind:
    """The failure kind label for an engine error (the errors tree decides, not the caller)."""
    # EngineTimeout is an EngineUnavailable, so it must be tested first.
    if isinstance(exc, EngineTimeout):
        return "timeout"
    if isinstance(exc, EngineRejected):
        return "rejected"
    if isinstance(exc, BadAudio):
        return "bad_audio"
    return "unavailable"


# ---------------------------------------------------------------- middleware


class RequestMetricsMiddleware:
    """Pure ASGI middleware counting HTTP requests by route template and status class.

    It reads the template from ``scope["route"]``, which Starlette's router sets on the
    shared scope when it matches, so ``/api/v1/articles/abc`` counts as
    ``/api/v1/articles/{article_id}``; a mount counts under its own template
    (``/web/{path:path}``), and a route of a mounted sub-app under its template relative
    to the mount. Bounded in every case. Pure ASGI rather than ``BaseHTTPMiddleware`` because
    that one buffers and re-wraps streaming bodies, and audio is streamed.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # if the app raises before answering, the server will send a 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self.metrics.request(route_template(scope), scope["method"], status)


def route_template(scope: Scope) -> str:
    """The matched route's path template, or ``"unmatched"``; never the raw path."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) else UNMATCHED
