"""A podcast feed of pre-generated articles: RSS 2.0 with Apple's iTunes tags.

``podcast_rss(channel, episodes)`` writes one UTF-8 XML document::

    <rss version="2.0" xmlns:itunes=... xmlns:atom=...>
      <channel>  title link description language lastBuildDate generator atom:link(self)
                 itunes:author itunes:summary itunes:image image itunes:category itunes:explicit
        <item>   title link description guid(isPermaLink=false) pubDate enclosure(audio/mpeg)
                 itunes:duration itunes:summary           ... newest first, undated last

It is a pure function of its inputs, so the same episodes give the same bytes (and the same
ETag): ``lastBuildDate`` is the newest episode's date unless ``built`` is given.

Times: ``published`` is ISO 8601 as ``Article.published`` holds it. A time without a zone, and
a date without a time (read as midnight), are taken as China Standard Time (UTC+08:00): the
articles come from Chinese public websites, which publish in Beijing time without saying so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from urllib.parse import urlsplit

from lxml import etree

__all__ = ["CHINA_TIME", "Channel", "Episode", "podcast_rss", "publication_time"]

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ATOM = "http://www.w3.org/2005/Atom"
_NSMAP = {"itunes": ITUNES, "atom": ATOM}

#: What a time without a zone means: Beijing time, as Chinese sites publish (see the docstring).
CHINA_TIME = timezone(timedelta(hours=8))

#: Every enclosure is one of the project's MP3s.
AUDIO_TYPE = "audio/mpeg"

#: Characters XML 1.0 forbids (C0 controls other than tab, newline and return; surrogates;
#: U+FFFE and U+FFFF). lxml refuses them outright, and scraped text does hold them.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    """``text`` without the characters XML forbids, ends trimmed."""
    return _FORBIDDEN.sub("", text).strip()


def _line(text: str) -> str:
    """A title: cleaned, on one line."""
    return " ".join(_clean(text).split())


def _require_url(what: str, url: str) -> None:
    """``ValueError`` unless ``url`` is an absolute http(s) URL: podcast apps fetch nothing else,
    and a relative one has no base to resolve against once the feed is copied elsewhere."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{what} must be an absolute http(s) URL, not {url!r}")


def _require_text(what: str, text: str) -> None:
    if not _line(text):
        raise ValueError(f"{what} must not be empty")


def publication_time(published: str) -> datetime:
    """An ISO 8601 date or datetime, zoned: no zone means Beijing time, no time means midnight.

    ``ValueError`` if it is not ISO 8601.
    """
    try:
        moment = datetime.fromisoformat(published.strip())
    except ValueError:
        raise ValueError(f"published must be an ISO 8601 date or datetime"
                         f" ('2025-05-20' or '2025-05-20T10:30:00+08:00'), not {published!r}"
                         ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=CHINA_TIME)


@dataclass(frozen=True, slots=True)
class Channel:
    """The podcast: one site's (or one section's) spoken articles."""

    title: str
    link: str  # the site's home page (absolute URL)
    description: str
    language: str  # BCP 47 like "zh-CN"
    feed_url: str  # the feed's own absolute URL (atom:link rel="self")
    author: str | None = None  # itunes:author: the publisher, as listeners should see it
    image: str | None = None  # absolute URL of square artwork (itunes:image and <image>)
    category: str = "News"  # an Apple Podcasts category name (itunes:category text=)
    explicit: bool = False  # itunes:explicit

    def __post_init__(self) -> None:
        _require_text("channel title", self.title)
        _require_text("channel description", self.description)
        _require_text("channel language", self.language)
        _require_text("channel category", self.category)
        _require_url("channel link", self.link)
        _require_url("channel feed_url", self.feed_url)
        if self.image is not None:
            _require_url("channel image", self.image)


@dataclass(frozen=True, slots=True)
class Episode:
    """One spoken article."""

    guid: str  # stable id (the article id), isPermaLink="false"
    title: str
    audio_url: str  # absolute URL of the MP3
    audio_bytes: int  # exact byte length of that MP3 (enclosure length)
    duration_ms: int  # how long it plays (itunes:duration, whole seconds)
    published: str | None = None  # ISO 8601 (see the module docstring); None: no pubDate
    link: str | None = None  # the article page (absolute URL)
    description: str | None = None  # the first sentences of the article

    def __post_init__(self) -> None:
        _require_text("episode guid", self.guid)
        _require_text(f"episode {self.guid!r} title", self.title)
        _require_url(f"episode {self.guid!r} audio_url", self.audio_url)
        if self.link is not None:
            _require_url(f"episode {self.guid!r} link", self.link)
        if self.audio_bytes < 0:
            raise ValueError(f"episode {self.guid!r}: audio_bytes must not be negative,"
                             f" not {self.audio_bytes}")
        if self.duration_ms < 0:
            raise ValueError(f"episode {self.guid!r}: duration_ms must not be negative,"
                             f" not {self.duration_ms}")
        if self.published is not None:
            publication_time(self.published)

    @property
    def time(self) -> datetime | None:
        """``published`` as a zoned datetime, or None."""
        return publication_time(self.published) if self.published is not None else None


def _duration(ms: int) -> str:
    """itunes:duration as HH:MM:SS, rounded to the nearest second (half up)."""
    minutes, seconds = divmod((ms + 500) // 1000, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}"


def _add(parent: etree._Element, tag: str, text: str | None = None,
         attributes: Mapping[str, str] | None = None) -> etree._Element:
    """A child element with cleaned text and attributes."""
    cleaned = {name: _clean(value) for name, value in (attributes or {}).items()}
    child = etree.SubElement(parent, tag, cleaned)
    if text is not None:
        child.text = _clean(text)
    return child


def _itunes(name: str) -> str:
    return f"{{{ITUNES}}}{name}"


def _newest_first(episodes: Sequence[Episode]) -> list[Episode]:
    """Dated episodes newest first, then undated ones; ties keep their given order."""
    def key(episode: Episode) -> tuple[int, float]:
        time = episode.time
        return (0, -time.timestamp()) if time is not None else (1, 0.0)

    return sorted(episodes, key=key)  # sorted() is stable


def _check_guids(episodes: Sequence[Episode]) -> None:
    """``ValueError`` on a repeated guid: apps would drop all but one of those episodes."""
    seen: set[str] = set()
    for episode in episodes:
        if episode.guid in seen:
            raise ValueError(f"two episodes share the guid {episode.guid!r}")
        seen.add(episode.guid)


def _channel_head(channel_el: etree._Element, channel: Channel, built: datetime | None) -> None:
    _add(channel_el, "title", _line(channel.title))
    _add(channel_el, "link", channel.link)
    _add(channel_el, "description", channel.description)
    _add(channel_el, "language", channel.language)
    if built is not None:
        _add(channel_el, "lastBuildDate", format_datetime(built))
    _add(channel_el, "generator", "reader")
    _add(channel_el, f"{{{ATOM}}}link", attributes={
        "href": channel.feed_url, "rel": "self", "type": "application/rss+xml"})


def _channel_itunes(channel_el: etree._Element, channel: Channel) -> None:
    if channel.author:
        _add(channel_el, _itunes("author"), _line(channel.author))
    _add(channel_el, _itunes("summary"), channel.description)
    if channel.image:
        _add(channel_el, _itunes("image"), attributes={"href": channel.image})
        # RSS 2.0's own <image> must repeat the channel's title and link.
        image = _add(channel_el, "image")
        _add(image, "url", channel.image)
        _add(image, "title", _line(channel.title))
        _add(image, "link", channel.link)
    _add(channel_el, _itunes("category"), attributes={"text": channel.category})
    _add(channel_el, _itunes("explicit"), "true" if channel.explicit else "false")


def _item(channel_el: etree._Element, episode: Episode) -> None:
    item = _add(channel_el, "item")
    _add(item, "title", _line(episode.title))
    if episode.link:
        _add(item, "link", episode.link)
    if episode.description:
        _add(item, "description", episode.description)
    _add(item, "guid", episode.guid, {"isPermaLink": "false"})
    if episode.time is not None:
        _add(item, "pubDate", format_datetime(episode.time))
    _add(item, "enclosure", attributes={
        "url": episode.audio_url, "length": str(episode.audio_bytes), "type": AUDIO_TYPE})
    _add(item, _itunes("duration"), _duration(episode.duration_ms))
    if episode.description:
        _add(item, _itunes("summary"), episode.description)


def podcast_rss(channel: Channel, episodes: Sequence[Episode], *,
                built: datetime | None = None) -> bytes:
    """The feed as UTF-8 XML with its declaration, items newest first (undated last).

    ``built`` is the lastBuildDate (a naive one is Beijing time); by default it is the newest
    episode's publication time, and the element is left out when no episode has one.
    """
    _check_guids(episodes)
    ordered = _newest_first(episodes)
    if built is None:
        built = ordered[0].time if ordered else None
    elif built.tzinfo is None:
        built = built.replace(tzinfo=CHINA_TIME)
    rss = etree.Element("rss", version="2.0", nsmap=_NSMAP)
    channel_el = _add(rss, "channel")
    _channel_head(channel_el, channel, built)
    _channel_itunes(channel_el, channel)
    for episode in ordered:
        _item(channel_el, episode)
    return etree.tostring(rss, xml_declaration=True, encoding="UTF-8", pretty_print=True)
