"""The HTTP service: an app factory, thin routes, and error mapping in one place.

``create_app(settings, engines=..., service=...)`` builds the app; everything it does is in
``reader.service``. Every error is an RFC 9457 problem (``application/problem+json``) with a
message a person can act on: 4xx for the client's faults, 503 with ``Retry-After`` when no
engine can speak. See README.md for the routes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, model_validator
from starlette.datastructures import Headers
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
from reader.jobs import ENDED, JobRequest, Jobs, JobState
from reader.limits import AccessDenied, LimitExceeded, MissingToken, client_key
from reader.metrics import RequestMetricsMiddleware
from reader.pipeline import Spoken, TextPipeline
from reader.publish import report_html, service_feed
from reader.service import API, ArticleInput, Service
from reader.sources import Source
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


class JobArticle(BaseModel):
    """An article sent inline in a job: exactly one of ``text`` and ``html``."""

    text: str | None = Field(None, description="page text as scraped, or the editor's text")
    html: str | None = Field(None, description="the page's HTML")
    title: str | None = Field(None, max_length=500, description="the title, if known")
    plain: bool = Field(False, description="text is clean editor text: apply no chrome rules")
    label: str | None = Field(None, max_length=500,
                              description="what the job's progress calls it (the CMS's id)")

    @model_validator(mode="after")
    def one_input(self) -> JobArticle:
        if (self.text is None) == (self.html is None):
            raise ValueError("give exactly one of 'text' and 'html' for each article")
        return self


class JobBody(BaseModel):
    """A pre-generation job: URLs (pages, sitemaps, RSS/Atom feeds) and inline articles."""

    inputs: list[str] = Field(default_factory=list, max_length=100,
                              description="URLs of pages, sitemaps or feeds (allowlisted hosts)")
    articles: list[JobArticle] = Field(default_factory=list, max_length=100,
                                       description="articles sent inline")
    voice: str | None = Field(None, max_length=64, description="voice preset id (GET /voices)")
    rate: int = Field(0, ge=-50, le=100, description="speed in percent, -50..100")
    pin: bool = Field(True, description="pin the audio against eviction until unpinned")

    @model_validator(mode="after")
    def something(self) -> JobBody:
        if not self.inputs and not self.articles:
            raise ValueError("give at least one URL in 'inputs' or one article in 'articles'")
        for url in self.inputs:
            if len(url) > 2000 or not url.startswith(("http://", "https://")):
                raise ValueError(f"inputs must be http(s) URLs of at most 2000 characters,"
                                 f" not {url[:80]!r}")
        return self

    def request(self, max_chars: int) -> JobRequest:
        articles = []
        for number, article in enumerate(self.articles, start=1):
            content = article.text if article.text is not None else article.html or ""
            if len(content) > max_chars:
                raise InputTooLarge(f"article {number} is {len(content):,} characters; the"
                                    f" limit is {max_chars:,} (READER_MAX_INPUT_CHARS)")
            label = article.label or article.title or f"article {number}"
            articles.append(Source(label=label, text=article.text, html=article.html,
                                   title=article.title, plain=article.plain,
                                   name=article.label))
        return JobRequest(tuple(self.inputs), tuple(articles), self.voice, self.rate, self.pin)


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
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method the address takes, not just one route's
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return problem(exc.status_code, str(exc.detail), _http_detail(exc.status_code),
                       headers)


def _allowed_methods(request: Request) -> list[str]:
    """The methods of every route matching the request's path (GET and HEAD of a clip are
    two routes, so OpenAPI has an operation for each)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(request.url.path):
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


class ProblemCORSMiddleware(CORSMiddleware):
    """CORS whose refused preflight is a problem like every other error, not plain text."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        refused = bytes(response.body).decode().removeprefix("Disallowed CORS ")
        return problem(400, "CORS request refused",
                       f"this request's {refused} is not allowed from a browser here; the"
                       " service's READER_CORS_ORIGINS lists the sites that may call it")


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
    jobs = Jobs(svc, settings.batch_concurrency)
    web = web_dir or data_dir("web")

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        svc.start()  # models load in the background
        jobs.start()  # takes up the jobs a restart interrupted
        yield
        # Stop background work and save the cache's access times; keep the rest open: an
        # app may be started again in the same process (tests do), and at exit it all goes.
        await jobs.stop()
        jobs.close()
        await svc.settle()

    app = FastAPI(title="reader", version="0.1.0", lifespan=lifespan,
                  description="Listen to this article: text-to-speech for article pages.")
    app.state.service = svc
    app.state.jobs = jobs
    _install_error_handlers(app)
    # Added first, so it runs inside the metrics middleware: fast-path hits are counted too.
    app.add_middleware(ClipHits, read=svc.speaker.cache.read, on_hit=svc.metrics.cache_hit)
    app.add_middleware(RequestMetricsMiddleware, metrics=svc.metrics)
    if settings.cors_origins:
        app.add_middleware(ProblemCORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "HEAD", "POST"], allow_headers=["*"],
                           expose_headers=["X-Reader-Engine", "Content-Range", "ETag"])
    _add_page_routes(app, svc, web)
    _add_article_routes(app, svc)
    _add_audio_routes(app, svc)
    _add_admin_routes(app, svc)
    _add_editor_routes(app, svc, jobs)
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

    async def article_audio(article_id: str, request: Request,
                            range_: Annotated[str | None, Header(alias="range")] = None,
                            if_none_match: Annotated[str | None, Header()] = None) -> Response:
        """The whole article as one MP3 (pauses between sentences and paragraphs, ID3 tags,
        a chapter per paragraph), built from the cached clips once and then kept. ETag,
        If-None-Match and one Range (podcast players seek with them)."""
        stored = svc.article(article_id)
        client = _client(request, svc)
        svc.limiter.check(client)
        made = await svc.article_audio(stored, client)
        reply = clip_reply(made.key, made.data, method=request.method, range_header=range_,
                           if_none_match=if_none_match, engine="article")
        # Its URL names the article, not the content: a lexicon change makes new audio.
        headers = reply.headers | {"Cache-Control": "no-cache",
                                   "Content-Disposition": f'inline; filename="{article_id}.mp3"'}
        del headers["X-Reader-Engine"]
        return Response(reply.body, status_code=reply.status, headers=headers)

    for method in ("GET", "HEAD"):
        app.add_api_route(f"{API}/articles/{{article_id}}/audio.mp3", article_audio,
                          methods=[method], tags=["articles"], response_class=Response,
                          operation_id=f"{method.lower()}_article_audio")

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
        immutable), a fallback engine's stored clip standing in (the same, but no-cache), or
        streamed as the engine produces it."""
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
            return await _head_of_a_miss(svc, key, range_, if_none_match)
        streamed = await svc.clip_stream(key, _client(request, svc))
        if isinstance(streamed, Spoken):  # a fallback's stored clip, standing in
            return _stored(key, streamed, request.method, range_, if_none_match)
        # Not "immutable" yet: if the clip fails its check at the end, the bytes already sent
        # must not be kept by a cache; once stored, the next request is a hit and immutable.
        headers = {"X-Reader-Engine": streamed.engine,
                   "Cache-Control": NOT_STORED if streamed.fallback else STREAMED}
        return StreamingResponse(streamed.chunks, media_type=MP3, headers=headers)

    # One handler, two operations (OpenAPI wants a distinct id for each method).
    for method in ("GET", "HEAD"):
        app.add_api_route(f"{API}/audio/{{name}}", clip, methods=[method], tags=["audio"],
                          response_class=Response, operation_id=f"{method.lower()}_clip")


def _stored(address: str, spoken: Spoken, method: str, range_: str | None,
            if_none_match: str | None) -> Response:
    """A whole stored clip at ``address``: the address's own (immutable) or a stand-in."""
    reply = clip_reply(spoken.key, spoken.audio.data, method=method, range_header=range_,
                       if_none_match=if_none_match, engine=spoken.engine, address=address)
    return Response(reply.body, status_code=reply.status, headers=reply.headers)


async def _head_of_a_miss(svc: Service, key: str, range_: str | None,
                          if_none_match: str | None) -> Response:
    """HEAD of an address whose own clip is not stored: what the cache holds for it (a
    fallback's clip standing in), else the headers of a stream; never a synthesis."""
    stored = await asyncio.to_thread(svc.stored_clip, key)  # 404 for keys nobody registered
    (svc.metrics.cache_miss if stored is None else svc.metrics.cache_hit)()
    if stored is not None:
        return _stored(key, stored, "HEAD", range_, if_none_match)
    head = Response(status_code=200, media_type=MP3, headers={"Cache-Control": STREAMED})
    del head.headers["content-length"]  # unknown until it is made, and not 0
    return head


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


#: Seconds between keep-alive comments on an idle event stream (proxies drop silent ones).
EVENTS_KEEPALIVE = 15.0


def _base_url(request: Request, svc: Service) -> str:
    return svc.settings.public_url or str(request.base_url).rstrip("/")


def _add_editor_routes(app: FastAPI, svc: Service, jobs: Jobs) -> None:
    def editor(authorization: Annotated[str | None, Header()] = None) -> None:
        svc.tokens.check(authorization)

    @app.post(f"{API}/jobs", tags=["jobs"], status_code=202, dependencies=[Depends(editor)])
    async def create_job(body: JobBody, response: Response) -> dict[str, Any]:
        """Queue a pre-generation job (needs an API token): every article of the given pages,
        sitemaps and feeds, and the inline ones, synthesised and pinned."""
        ident = jobs.submit(body.request(svc.settings.max_input_chars))
        response.headers["Location"] = f"{API}/jobs/{ident}"
        return await asyncio.to_thread(jobs.store.status, ident)

    @app.get(f"{API}/jobs", tags=["jobs"], dependencies=[Depends(editor)])
    async def list_jobs() -> list[dict[str, Any]]:
        """The 50 most recent jobs, newest first (needs an API token)."""
        def statuses() -> list[dict[str, Any]]:
            return [jobs.store.status(ident) for ident in jobs.store.recent()]

        return await asyncio.to_thread(statuses)

    @app.get(f"{API}/jobs/{{job_id}}", tags=["jobs"], dependencies=[Depends(editor)])
    async def job_status(job_id: str) -> dict[str, Any]:
        """The job's state, totals and every article's progress (needs an API token)."""
        return await asyncio.to_thread(jobs.store.status, job_id)

    @app.get(f"{API}/jobs/{{job_id}}/events", tags=["jobs"], dependencies=[Depends(editor)],
             response_class=StreamingResponse)
    async def job_events(job_id: str) -> StreamingResponse:
        """Server-sent events: a ``progress`` event with the job's status whenever it changes
        (the first with every article, later ones with the articles that changed), and an
        ``end`` event when it is over (needs an API token)."""
        await asyncio.to_thread(jobs.store.status, job_id)  # 404 before the stream starts
        return StreamingResponse(_events(jobs, job_id), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache",
                                          "X-Accel-Buffering": "no"})

    @app.post(f"{API}/jobs/{{job_id}}/cancel", tags=["jobs"], dependencies=[Depends(editor)])
    async def cancel_job(job_id: str) -> dict[str, Any]:
        """Cancel a queued or running job; clips made so far are kept (needs an API token)."""
        jobs.cancel(job_id)
        return await asyncio.to_thread(jobs.store.status, job_id)

    @app.get(f"{API}/jobs/{{job_id}}/check.html", tags=["jobs"], response_class=HTMLResponse)
    async def job_report(job_id: str, request: Request) -> HTMLResponse:
        """The audio check report for the job's articles: risky sentences with their audio.
        No token (an editor opens it in a browser); the job id is unguessable."""
        svc.limiter.check(_client(request, svc))
        await asyncio.to_thread(jobs.store.state, job_id)  # 404 for an unknown job

        def build() -> str:
            read = [(svc.article(tally.article), tally.label)
                    for _, _, tally in jobs.store.articles(job_id) if tally.article]
            return report_html(svc, read, inline=False)

        return HTMLResponse(await asyncio.to_thread(build))

    @app.get(f"{API}/articles/{{article_id}}/check.html", tags=["articles"],
             response_class=HTMLResponse)
    async def article_report(article_id: str, request: Request) -> HTMLResponse:
        """The audio check report for one article: its risky sentences with their audio."""
        svc.limiter.check(_client(request, svc))
        stored = svc.article(article_id)
        read = [(stored, stored.url or stored.title or stored.id)]
        return HTMLResponse(await asyncio.to_thread(report_html, svc, read, inline=False))

    @app.put(f"{API}/articles/{{article_id}}/pin", tags=["articles"],
             dependencies=[Depends(editor)])
    async def pin(article_id: str) -> dict[str, Any]:
        """Pin the article's clips against eviction (needs an API token); its whole-article
        MP3 is made and listed in the podcast feed."""
        made = await svc.publish(svc.article(article_id))
        return {"id": article_id, "pinned": True, "audio": f"{API}/audio/{made.key}.mp3"}

    @app.delete(f"{API}/articles/{{article_id}}/pin", tags=["articles"],
                dependencies=[Depends(editor)])
    async def unpin(article_id: str) -> dict[str, Any]:
        """Let the article's clips be evicted again (needs an API token)."""
        released = await asyncio.to_thread(svc.unpin, article_id)
        return {"id": article_id, "pinned": False, "released": released}

    @app.get(f"{API}/podcast.xml", tags=["articles"], response_class=Response)
    async def podcast(request: Request) -> Response:
        """A podcast (RSS 2.0 with iTunes tags) of the pre-generated articles."""
        body = await asyncio.to_thread(service_feed, svc, _base_url(request, svc))
        return Response(body, media_type="application/rss+xml; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})


async def _events(jobs: Jobs, ident: str) -> AsyncIterator[str]:
    """The job's status as server-sent events until it ends (or the service stops); a
    comment line keeps an idle stream open through proxies."""
    number = 0
    sent: dict[int, dict[str, Any]] = {}
    while not jobs.stopping.is_set():
        changed = jobs.watch(ident)  # before reading: a change in between is not lost
        status = await asyncio.to_thread(jobs.store.status, ident)
        number += 1
        ended = JobState(status["state"]) in ENDED
        # The first event has every article; later ones only those that changed (a job of
        # thousands of articles would otherwise resend them all a few times a second).
        fresh = [a for a in status["articles"] if sent.get(a["position"]) != a]
        sent.update((a["position"], a) for a in fresh)
        data = json.dumps(status | {"articles": fresh}, ensure_ascii=False)
        yield f"id: {number}\nevent: {'end' if ended else 'progress'}\ndata: {data}\n\n"
        if ended:
            return
        while not await _first_of(changed, jobs.stopping, EVENTS_KEEPALIVE):
            yield ": still running\n\n"


async def _first_of(changed: asyncio.Event, stopping: asyncio.Event, timeout: float) -> bool:
    """Wait for either event; False if ``timeout`` passed first."""
    waits = [asyncio.ensure_future(changed.wait()), asyncio.ensure_future(stopping.wait())]
    done, pending = await asyncio.wait(waits, timeout=timeout,
                                       return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return bool(done)
