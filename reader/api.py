"""The HTTP service: an app factory, thin routes, and error mapping in one place.

``create_app(settings, engines=..., service=...)`` builds the app; everything it does is in
``reader.service``. Every error is an RFC 9457 problem (``application/problem+json``) with a
message a person can act on: 4xx for the client's faults, 503 with ``Retry-After`` when no
engine can speak. See README.md for the routes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from reader.config import Settings, data_dir
from reader.delivery import (
    CHECKED,
    MP3,
    NOT_STORED,
    STREAMED,
    ClipHits,
    RangeNotSatisfiable,
    clip_reply,
)
from reader.engines.base import Engine
from reader.errors import (
    BadCacheKey,
    ConfigError,
    InputError,
    InputTooLarge,
    LookupMiss,
    NoEngineAvailable,
    ReaderError,
    UnknownVoice,
)
from reader.fetch import BadUrl, FetchDisabled, FetchFailed, FetchTimeout, ForbiddenHost, NotAPage
from reader.limits import AccessDenied, LimitExceeded, MissingToken, client_key
from reader.metrics import RequestMetricsMiddleware
from reader.pipeline import TextPipeline
from reader.service import API, ArticleInput, Service
from reader.types import Article, Segment

PROBLEM = "application/problem+json"

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- request and response models


class SegmentRequest(BaseModel):
    """An article to segment: exactly one of ``text`` and ``html``."""

    text: str | None = Field(None, description="page text as scraped, or the editor's text")
    html: str | None = Field(None, description="the page's HTML")
    title: str | None = Field(None, max_length=500, description="the title, if known")
    plain: bool = Field(False, description="text is clean editor text: apply no chrome rules")
    level: Literal["full", "light"] = Field("full", description="normalisation level")
    captions: bool | None = Field(None, description="read photo captions (default: setting)")

    @model_validator(mode="after")
    def one_input(self) -> SegmentRequest:
        if (self.text is None) == (self.html is None):
            raise ValueError("give exactly one of 'text' and 'html'")
        return self


class ArticleRequest(BaseModel):
    """An article to read: exactly one of ``text``, ``html`` and ``url``."""

    text: str | None = Field(None, description="page text as scraped, or the editor's text")
    html: str | None = Field(None, description="the page's HTML")
    url: str | None = Field(None, max_length=2000,
                            description="the page's address (hosts on the allowlist only)")
    title: str | None = Field(None, max_length=500, description="the title, if known")
    plain: bool = Field(False, description="text is clean editor text: apply no chrome rules")
    voice: str | None = Field(None, max_length=64, description="voice preset id (GET /voices)")
    rate: int = Field(0, ge=-50, le=100, description="speed in percent, -50..100")

    @model_validator(mode="after")
    def one_input(self) -> ArticleRequest:
        given = [name for name in ("text", "html", "url") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'text', 'html' and 'url'")
        return self


class ParagraphOut(BaseModel):
    index: int
    kind: str
    text: str
    start: int
    end: int
    rule: str | None


class SegmentOut(BaseModel):
    index: int
    kind: str
    text: str
    speak: str
    paragraph: int
    start: int
    end: int
    lexicon: list[tuple[str, str]]


class SegmentResponse(BaseModel):
    title: str | None
    published: str | None
    source: str | None
    origin: str
    paragraphs: list[ParagraphOut]
    segments: list[SegmentOut]


def _segments_response(article: Article, segments: list[Segment]) -> SegmentResponse:
    return SegmentResponse(
        title=article.title,
        published=article.published,
        source=article.source,
        origin=article.origin,
        paragraphs=[ParagraphOut(index=p.index, kind=p.kind.value, text=p.text, start=p.start,
                                 end=p.end, rule=p.rule) for p in article.paragraphs],
        segments=[SegmentOut(index=s.index, kind=s.kind.value, text=s.text, speak=s.speak,
                             paragraph=s.paragraph, start=s.start, end=s.end,
                             lexicon=list(s.lexicon)) for s in segments],
    )


# ---------------------------------------------------------------- errors, in one place


def problem(status: int, title: str, detail: str,
            headers: dict[str, str] | None = None) -> JSONResponse:
    """An RFC 9457 problem response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


#: Error class -> (status, title); the first match in order wins.
_STATUSES: list[tuple[type[BaseException], int, str]] = [
    (RangeNotSatisfiable, 416, "Range not satisfiable"),
    (BadCacheKey, 404, "No such clip"),
    (InputTooLarge, 413, "Too large"),
    (NotAPage, 415, "Not a web page"),
    (BadUrl, 400, "Bad URL"),
    (FetchDisabled, 403, "URL mode is off"),
    (ForbiddenHost, 403, "Host not allowed"),
    (FetchTimeout, 504, "The site did not answer in time"),
    (FetchFailed, 502, "The site could not be read"),
    (MissingToken, 401, "API token needed"),
    (AccessDenied, 403, "Not allowed"),
    (LimitExceeded, 429, "Too many requests"),
    (NoEngineAvailable, 503, "No engine can speak now"),
    (UnknownVoice, 422, "Unknown voice"),  # a bad field in the request, not a missing page
    (LookupMiss, 404, "Not found"),
    (InputError, 422, "Cannot read this"),
    (ConfigError, 500, "Configuration error"),
]


def problem_for(exc: ReaderError) -> JSONResponse:
    status, title = next(((s, t) for cls, s, t in _STATUSES if isinstance(exc, cls)),
                         (500, "Internal error"))
    headers: dict[str, str] = {}
    if isinstance(exc, LimitExceeded):
        headers["Retry-After"] = exc.retry_after_header
    if isinstance(exc, NoEngineAvailable):
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    if isinstance(exc, MissingToken):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RangeNotSatisfiable):
        headers["Content-Range"] = f"bytes */{exc.size}"
    return problem(status, title, str(exc), headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ReaderError)
    async def reader_error(_: Request, exc: ReaderError) -> JSONResponse:
        return problem_for(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(422, "Invalid request", _validation_detail(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), _http_detail(exc.status_code),
                       dict(exc.headers or {}))  # a 405 carries Allow


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        if error.get("type") == "json_invalid":
            return "the request body is not valid JSON; send an object like {\"text\": \"...\"}"
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request body is not valid JSON of the expected shape"


def _http_detail(status: int) -> str:
    if status == 404:
        return "No such page. The API lives under /api/v1; its documentation is at /docs."
    if status == 405:
        return "This address does not accept that method; see /docs."
    return "See /docs for the API."


# ---------------------------------------------------------------- the app


def create_app(settings: Settings, *, engines: list[Engine] | None = None,
               service: Service | None = None, pipeline: TextPipeline | None = None,
               web_dir: Path | None = None) -> FastAPI:
    """Build the app. The pipeline (jieba's dictionary, rules, lexicon), the engines and the
    cache load here, once; ``engines``/``service`` replace the real ones in tests."""
    for name in sorted(settings.extra):
        log.warning("unknown setting %s is ignored; see the README's configuration table", name)
    svc = service or Service.load(settings, engines=engines, text=pipeline)
    web = web_dir or data_dir("web")

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        # Stop background work and save the cache's access times; keep the rest open: an
        # app may be started again in the same process (tests do), and at exit it all goes.
        await svc.settle()

    app = FastAPI(title="reader", version="0.1.0", lifespan=lifespan,
                  description="Listen to this article: text-to-speech for article pages.")
    app.state.service = svc
    _install_error_handlers(app)
    # Added first, so it runs inside the metrics middleware: fast-path hits are counted too.
    app.add_middleware(ClipHits, read=svc.speaker.cache.read, on_hit=svc.metrics.cache_hit)
    app.add_middleware(RequestMetricsMiddleware, metrics=svc.metrics)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "HEAD", "POST"], allow_headers=["*"],
                           expose_headers=["X-Reader-Engine", "Content-Range", "ETag"])
    _add_page_routes(app, svc, web)
    _add_article_routes(app, svc)
    _add_audio_routes(app, svc)
    _add_admin_routes(app, svc)
    app.mount("/web", StaticFiles(directory=web), name="web")
    return app


def _client(request: Request, svc: Service) -> str:
    peer = request.client.host if request.client else "unknown"
    return client_key(peer, request.headers.get("x-forwarded-for"),
                      frozenset(svc.settings.trusted_proxies))


def _add_page_routes(app: FastAPI, svc: Service, web: Path) -> None:
    @app.get("/", include_in_schema=False)
    async def demo() -> FileResponse:
        return FileResponse(web / "index.html", media_type="text/html; charset=utf-8")

    @app.get("/healthz", tags=["service"])
    async def healthz() -> dict[str, Any]:
        """Engines (with their circuit breaker state), cache size, articles."""
        return svc.health()

    @app.get("/metrics", tags=["service"], include_in_schema=False)
    async def metrics() -> Response:
        body, content_type = svc.metrics.render()
        return Response(body, media_type=content_type)

    @app.get(f"{API}/voices", tags=["voices"])
    async def voices() -> list[dict[str, Any]]:
        """The voice presets; ``default`` marks the one used when none is asked for."""
        book = svc.speaker.voices
        return [{"id": v.id, "label": v.label, "language": v.language, "gender": v.gender,
                 "description": v.description, "default": v is book.default} for v in book]

    @app.post(f"{API}/segments", tags=["articles"], response_model=SegmentResponse)
    def segments(request: SegmentRequest) -> SegmentResponse:
        """Clean and segment an article without registering it (a preview)."""
        text = svc.text
        if request.html is not None:
            article = text.from_html(request.html, title=request.title)
        elif request.plain:
            article = text.from_plain_text(request.text or "", title=request.title)
        else:
            article = text.from_page_text(request.text or "", title=request.title)
        found = text.segments(article, level=request.level, captions=request.captions)
        return _segments_response(article, found)


def _add_article_routes(app: FastAPI, svc: Service) -> None:
    @app.post(f"{API}/articles", tags=["articles"], status_code=201,
              responses={200: {"description": "already registered with this voice"}})
    async def register(body: ArticleRequest, request: Request,
                       response: Response) -> dict[str, Any]:
        """Register an article (text, HTML or URL): its manifest, 201 if new, 200 if known."""
        client = _client(request, svc)
        svc.limiter.check(client)
        manifest, created = await svc.register(ArticleInput(**body.model_dump()), client)
        response.status_code = 201 if created else 200
        response.headers["Location"] = f"{API}/articles/{manifest['id']}"
        return manifest

    @app.get(f"{API}/articles/{{article_id}}", tags=["articles"])
    async def manifest(article_id: str) -> dict[str, Any]:
        """The article's manifest: segments, their clip URLs and durations once known."""
        return await asyncio.to_thread(svc.manifest, svc.article(article_id))

    @app.get(f"{API}/articles/{{article_id}}/audio.mp3", tags=["articles"],
             response_class=Response)
    async def article_audio(article_id: str, request: Request) -> Response:
        """The whole article as one MP3 (pauses between sentences and paragraphs, ID3 tags,
        a chapter per paragraph), built from the cached clips."""
        stored = svc.article(article_id)
        client = _client(request, svc)
        svc.limiter.check(client)
        data = await svc.article_mp3(stored, client)
        name = f"{article_id}.mp3"
        return Response(data, media_type=MP3, headers={
            "Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-cache"})

    @app.get(f"{API}/articles/{{article_id}}/captions.vtt", tags=["articles"],
             response_class=Response)
    async def captions(article_id: str, request: Request) -> Response:
        """WebVTT captions for the whole-article MP3, a cue per sentence."""
        stored = svc.article(article_id)
        client = _client(request, svc)
        svc.limiter.check(client)
        return Response(await svc.captions(stored, client), media_type="text/vtt; charset=utf-8")

    @app.get(f"{API}/articles/{{article_id}}/timings.json", tags=["articles"])
    async def timings(article_id: str, request: Request) -> list[Any]:
        """Sentence and word timings in the whole-article MP3 (words where the engine gave
        them)."""
        stored = svc.article(article_id)
        client = _client(request, svc)
        svc.limiter.check(client)
        return await svc.timings(stored, client)


def _add_audio_routes(app: FastAPI, svc: Service) -> None:
    async def clip(name: str, request: Request,
                   range_: Annotated[str | None, Header(alias="range")] = None,
                   if_none_match: Annotated[str | None, Header()] = None) -> Response:
        """A segment's clip at its content address: from the cache (ranges, ETag, 304,
        immutable), or streamed as the engine produces it."""
        key = name.removesuffix(".mp3")
        if name == key:
            raise BadCacheKey("clip addresses end in .mp3: /api/v1/audio/<64 hex>.mp3")
        # Inline, not in a worker thread: a hit is one small read of a file in the page
        # cache, cheaper than the hop to a thread (the key is checked before any path).
        hit = None if request.scope.get(CHECKED) else svc.speaker.cache.read(key)
        if hit is not None:
            svc.metrics.cache_hit()  # the speaker never sees hits served here
            data, engine = hit
            reply = clip_reply(key, data, method=request.method, range_header=range_,
                               if_none_match=if_none_match, engine=engine)
            return Response(reply.body, status_code=reply.status, headers=reply.headers)
        if request.method == "HEAD":
            svc.clip_source(key)  # 404 for keys nobody registered
            svc.metrics.cache_miss()
            head = Response(status_code=200, media_type=MP3, headers={"Cache-Control": STREAMED})
            del head.headers["content-length"]  # unknown until it is made, and not 0
            return head
        streamed = await svc.clip_stream(key, _client(request, svc))
        # Not "immutable" yet: if the clip fails its check at the end, the bytes already sent
        # must not be kept by a cache; once stored, the next request is a hit and immutable.
        headers = {"X-Reader-Engine": streamed.engine,
                   "Cache-Control": NOT_STORED if streamed.fallback else STREAMED}
        return StreamingResponse(streamed.chunks, media_type=MP3, headers=headers)

    # One handler, two operations (OpenAPI wants a distinct id for each method).
    for method in ("GET", "HEAD"):
        app.add_api_route(f"{API}/audio/{{name}}", clip, methods=[method], tags=["audio"],
                          response_class=Response, operation_id=f"{method.lower()}_clip")


def _add_admin_routes(app: FastAPI, svc: Service) -> None:
    def editor(authorization: Annotated[str | None, Header()] = None) -> None:
        svc.tokens.check(authorization)

    @app.get(f"{API}/admin/cache", tags=["admin"], dependencies=[Depends(editor)])
    async def cache_stats() -> dict[str, Any]:
        """Cache statistics (needs an API token)."""
        stats = svc.speaker.cache.stats()
        return {"clips": stats.clips, "bytes": stats.bytes, "pinned": stats.pinned,
                "hits": stats.hits, "misses": stats.misses, "evictions": stats.evictions}

    @app.get(f"{API}/admin/lexicon", tags=["admin"], dependencies=[Depends(editor)])
    async def lexicon() -> dict[str, str]:
        """The pronunciation lexicon in force (needs an API token)."""
        return dict(svc.text.lexicon.entries)
