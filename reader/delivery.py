"""Serving a stored clip over HTTP the way browsers and CDNs expect.

A clip's URL is its content address, so its bytes never change: a strong ETag (the key),
``Cache-Control: public, max-age=31536000, immutable``, ``If-None-Match`` answered with 304,
``HEAD``, and single byte ranges (206) for seeking. Malformed or absurd ``Range`` headers
(several ranges, thousands of them, garbage) get a clear 416, never a 5xx.

A fallback engine's stored clip can stand in at the primary engine's address: it gets the
same validators and ranges (its ETag is its own key), but not ``immutable``: the address
belongs to the primary's clip, which replaces it once made.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reader.errors import InputError

IMMUTABLE = "public, max-age=31536000, immutable"
#: Audio made by a fallback engine is served but must not be kept: the URL belongs to the
#: primary engine's clip, which the next request may get.
NOT_STORED = "no-store"
#: A clip streamed while it is made: may be used, not kept without asking again.
STREAMED = "no-cache"
#: A fallback engine's stored clip at the primary's address: may be kept, but revalidated
#: (its ETag) on every use, so the primary's clip replaces it as soon as there is one.
STAND_IN = "no-cache"
MP3 = "audio/mpeg"

#: A single byte range: "bytes=0-499", "bytes=500-", "bytes=-500". Nothing else is accepted.
_RANGE = re.compile(r"bytes=(?P<start>\d{0,18})-(?P<end>\d{0,18})")
#: Longest Range header looked at; longer ones are refused without parsing.
MAX_RANGE_HEADER = 200


class RangeNotSatisfiable(InputError):
    """HTTP 416: the Range header is malformed, asks for several ranges, or lies outside."""

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message)
        self.size = size


@dataclass(frozen=True, slots=True)
class Reply:
    """What to send: status, headers and body (empty for 304 and HEAD)."""

    status: int
    headers: dict[str, str]
    body: bytes


def etag(key: str) -> str:
    return f'"{key}"'


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of the one range asked for, or None for the whole clip."""
    if header is None:
        return None
    if len(header) > MAX_RANGE_HEADER or "," in header:
        raise RangeNotSatisfiable(
            "only a single byte range is served (e.g. Range: bytes=0-1023)", size)
    found = _RANGE.fullmatch(header.strip())
    if found is None or not (found["start"] or found["end"]):
        raise RangeNotSatisfiable(
            f"malformed Range header {header[:40]!r}; expected bytes=FIRST-LAST", size)
    if not found["start"]:  # the last N bytes
        length = int(found["end"])
        if length == 0 or size == 0:
            raise RangeNotSatisfiable("an empty suffix range asks for nothing", size)
        return max(0, size - length), size - 1
    first = int(found["start"])
    last = int(found["end"]) if found["end"] else size - 1
    if first >= size or last < first:
        raise RangeNotSatisfiable(f"range {first}-{last} is outside the clip's {size} bytes",
                                  size)
    return first, min(last, size - 1)


def matches(if_none_match: str | None, tag: str) -> bool:
    """Does an If-None-Match header name this ETag (or ``*``)?"""
    if not if_none_match:
        return False
    candidates = {part.strip().removeprefix("W/") for part in if_none_match.split(",")}
    return "*" in candidates or tag in candidates


def clip_reply(key: str, data: bytes, *, method: str, range_header: str | None,
               if_none_match: str | None, engine: str, address: str | None = None) -> Reply:
    """The reply for a stored clip (``key``: its own content key) at ``address`` (the key
    the URL names, if another: the clip stands in there): 200, 206, 304 (or 416 raised)."""
    tag = etag(key)
    caching = IMMUTABLE if address in (None, key) else STAND_IN
    headers = {"ETag": tag, "Cache-Control": caching, "Accept-Ranges": "bytes",
               "Content-Type": MP3, "X-Reader-Engine": engine}
    if matches(if_none_match, tag):
        return Reply(304, headers, b"")
    span = byte_range(range_header, len(data))
    status, body = 200, data
    if span is not None:
        first, last = span
        status, body = 206, data[first : last + 1]
        headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
    headers["Content-Length"] = str(len(body))
    return Reply(status, headers, b"" if method == "HEAD" else body)


# ---------------------------------------------------------------- the fast path for hits


class _Template:
    """Stands in for the matched route, so request metrics label fast-path hits properly."""

    path = "/api/v1/audio/{name}"


#: Set in the request scope when ``ClipHits`` found the clip missing from the cache.
CHECKED = "reader.cache_checked"

#: A clip URL, exactly: anything else goes to the app and its checks and problems.
_CLIP_PATH = re.compile(r"/api/v1/audio/(?P<key>[0-9a-f]{64})\.mp3")


class ClipHits:
    """ASGI middleware answering cache hits of clip URLs before the framework's routing.

    A hit is the hottest request the service has (every listener, every sentence), and the
    framework's routing, parameter parsing and dependency machinery cost more than the hit
    itself. Only well-formed GET/HEAD clip URLs whose clip is in the cache are answered here,
    with exactly the reply the route would give; everything else (misses, bad keys, other
    routes) passes through untouched.
    """

    def __init__(self, app: Any, read: Callable[[str], tuple[bytes, str] | None],
                 on_hit: Callable[[], None]) -> None:
        self.app = app
        self._read = read
        self._on_hit = on_hit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        found = _CLIP_PATH.fullmatch(scope.get("path", "")) if scope["type"] == "http" else None
        hit = self._read(found["key"]) if found and scope["method"] in ("GET", "HEAD") else None
        if found is None or hit is None:
            if found is not None:
                scope[CHECKED] = True  # the route need not look in the cache again
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            reply = clip_reply(found["key"], hit[0], method=scope["method"],
                               range_header=headers.get("range"),
                               if_none_match=headers.get("if-none-match"), engine=hit[1])
        except RangeNotSatisfiable:
            await self.app(scope, receive, send)  # the route answers with its problem JSON
            return
        self._on_hit()
        scope["route"] = _Template()
        await send({"type": "http.response.start", "status": reply.status,
                    "headers": [(k.lower().encode("latin-1"), v.encode("latin-1"))
                                for k, v in reply.headers.items()]})
        await send({"type": "http.response.body", "body": reply.body})
