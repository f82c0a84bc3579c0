"""The HTTP service: an app factory, thin routes, and error mapping in one place.

Routes so far: the demo page at ``/`` (files from ``web/``), ``POST /api/v1/segments`` (an
article's text or HTML -> its cleaned paragraphs and segments) and ``GET /healthz``.
Every error is an RFC 9457 problem (``application/problem+json``) with a message a person
can act on.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from reader.config import Settings, data_dir
from reader.errors import ConfigError, InputError, InputTooLarge, LookupMiss, ReaderError
from reader.pipeline import TextPipeline
from reader.types import Article, Segment

PROBLEM = "application/problem+json"

log = logging.getLogger(__name__)


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


def _response(article: Article, segments: list[Segment]) -> SegmentResponse:
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


# ---------------------------------------------------------------- errors


def problem(status: int, title: str, detail: str) -> JSONResponse:
    """An RFC 9457 problem response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _status(exc: ReaderError) -> int:
    if isinstance(exc, InputTooLarge):
        return 413
    if isinstance(exc, LookupMiss):
        return 404
    if isinstance(exc, InputError):
        return 422
    return 500


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ReaderError)
    async def reader_error(_: Request, exc: ReaderError) -> JSONResponse:
        status = _status(exc)
        title = "Configuration error" if isinstance(exc, ConfigError) else "Cannot read this"
        return problem(status, title, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(422, "Invalid request", _validation_detail(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), _http_detail(exc.status_code))


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


def create_app(settings: Settings, pipeline: TextPipeline | None = None,
               web_dir: Path | None = None) -> FastAPI:
    """Build the app. The pipeline (jieba's dictionary, rules, lexicon) loads here, once."""
    for name in sorted(settings.extra):
        log.warning("unknown setting %s is ignored; see the README's configuration table", name)
    pipeline = pipeline or TextPipeline.load(settings)
    web = web_dir or data_dir("web")
    app = FastAPI(title="reader", version="0.1.0",
                  description="Listen to this article: text-to-speech for article pages.")
    _install_error_handlers(app)

    @app.get("/", include_in_schema=False)
    async def demo() -> FileResponse:
        return FileResponse(web / "index.html", media_type="text/html; charset=utf-8")

    @app.get("/healthz", tags=["service"])
    async def healthz() -> dict[str, object]:
        return {"status": "ok", "lexicon_entries": len(pipeline.lexicon),
                "rules": len(pipeline.rules)}

    @app.post("/api/v1/segments", tags=["articles"], response_model=SegmentResponse)
    def segments(request: SegmentRequest) -> SegmentResponse:
        article = _article(pipeline, request)
        found = pipeline.segments(article, level=request.level, captions=request.captions)
        return _response(article, found)

    app.mount("/web", StaticFiles(directory=web), name="web")
    return app


def _article(pipeline: TextPipeline, request: SegmentRequest) -> Article:
    if request.html is not None:
        return pipeline.from_html(request.html, title=request.title)
    assert request.text is not None  # one_input() guarantees it
    if request.plain:
        return pipeline.from_plain_text(request.text, title=request.title)
    return pipeline.from_page_text(request.text, title=request.title)
