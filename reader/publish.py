"""Publishing outputs of pre-generated articles: files for a static site, the podcast feed,
and the audio check report for editors.

``reader pregen --out DIR`` writes, per article, ``<id>.mp3`` (ID3 tags, a chapter per
paragraph), ``<id>.vtt`` and ``<id>.json`` (the manifest the widget reads), and
``podcast.xml`` when it knows the address the folder will be served from. The service serves
the same things: ``/api/v1/podcast.xml`` lists every pinned article, each enclosure pointing at
the whole-article MP3's content address (immutable, ranges, never evicted while pinned).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path

from reader.articles import StoredArticle
from reader.batch import State, Summary
from reader.cache import write_atomic
from reader.errors import InputError, ReaderError
from reader.pipeline import Spoken
from reader.podcast import Channel, Episode, podcast_rss
from reader.report import (
    CheckedArticle,
    CheckRow,
    check_report,
    data_uri,
    entry_word,
    risks_of,
)
from reader.service import API, Service
from reader.types import Kind, Segment

#: The files ``--out`` writes per article.
OUTPUT_SUFFIXES = (".mp3", ".vtt", ".json")
#: Characters of the article's opening used as an episode's description.
DESCRIPTION_CHARS = 200


def channel(service: Service, base_url: str, feed_url: str) -> Channel:
    """The podcast's channel from the ``READER_PODCAST_*`` settings."""
    settings = service.settings
    title = settings.podcast_title
    return Channel(
        title=title,
        link=settings.podcast_link or base_url,
        description=settings.podcast_description or f"{title}: articles read aloud",
        language=service.speaker.voices.default.language,
        feed_url=feed_url,
        author=settings.podcast_author,
        image=settings.podcast_image,
    )


def opening(stored: StoredArticle, limit: int = DESCRIPTION_CHARS) -> str:
    """The first body sentences, up to about ``limit`` characters."""
    text = ""
    for segment in stored.segments:
        if segment.kind is Kind.BODY:
            text += segment.text
            if len(text) >= limit:
                return text[:limit] + "…"
    return text


def episode_guid(service: Service, stored: StoredArticle) -> str:
    """An episode's id: the same for every edit of a page (its source, voice and speed), so
    a podcast app updates the episode instead of listing each edit as a new one; the
    article id for an article with no source to follow."""
    source = service.store.source_of(stored.id)
    if source is None:
        return stored.id
    payload = json.dumps([source, stored.voice, stored.prosody.key()], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def episode(service: Service, stored: StoredArticle, audio_url: str, size: int,
            duration_ms: float) -> Episode:
    return Episode(guid=episode_guid(service, stored), title=stored.title or stored.id,
                   audio_url=audio_url,
                   audio_bytes=size, duration_ms=round(duration_ms), published=stored.published,
                   link=stored.url, description=opening(stored) or None)


def service_feed(service: Service, base_url: str) -> bytes:
    """The podcast feed of every pinned article whose whole-article MP3 is made."""
    base = base_url.rstrip("/")
    episodes = [episode(service, p.article, f"{base}{API}/audio/{p.key}.mp3", p.size,
                        p.duration_ms) for p in service.store.published()]
    return podcast_rss(channel(service, base, f"{base}{API}/podcast.xml"), episodes)


# ---------------------------------------------------------------- a folder for a static site


async def publish_folder(service: Service, summary: Summary, folder: Path,
                         base_url: str | None) -> list[str]:
    """Write the outputs of every article the batch finished; notes for the user."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{folder}: cannot create it ({exc.strerror})") from None
    episodes: list[Episode] = []
    notes: list[str] = []
    base = (base_url or "").rstrip("/")
    for tally in summary.tallies:
        if tally.state is State.PARTIAL:
            notes.append(f"{tally.label}: outputs not written: some sentences have only the"
                         " fallback voice; run again when the primary voice is back")
        if tally.state is not State.DONE or tally.article is None:
            continue
        if tally.replaces:  # the page was edited: its old files go
            _remove_outputs(folder, tally.replaces)
        try:
            episodes.append(await _write_article(service, service.article(tally.article),
                                                 folder, base))
        except ReaderError as exc:  # one article's outputs, not the others'
            notes.append(f"{tally.label}: outputs not written: {exc}")
    if not base:
        notes.append("podcast.xml not written: give --base-url (or READER_PUBLIC_URL), the"
                     " address the folder will be served from; feeds need absolute links")
        return notes
    feed = podcast_rss(channel(service, base, f"{base}/podcast.xml"), episodes)
    _write(folder / "podcast.xml", feed)
    return notes


def _remove_outputs(folder: Path, ident: str) -> None:
    for suffix in OUTPUT_SUFFIXES:
        (folder / f"{ident}{suffix}").unlink(missing_ok=True)


async def _write_article(service: Service, stored: StoredArticle, folder: Path,
                         base: str) -> Episode:
    """``<id>.mp3``, ``<id>.vtt`` and ``<id>.json``; the article's podcast episode."""
    made = await service.article_audio(stored, None)
    captions = await service.captions(stored, None)
    manifest = await asyncio.to_thread(service.manifest, stored)
    _write(folder / f"{stored.id}.mp3", made.data)
    _write(folder / f"{stored.id}.vtt", captions.encode("utf-8"))
    _write(folder / f"{stored.id}.json",
           json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
    return episode(service, stored, f"{base}/{stored.id}.mp3" if base else f"{stored.id}.mp3",
                   len(made.data), made.duration_ms)


def _write(path: Path, data: bytes) -> None:
    """Atomically: a reader of the folder never sees half a file."""
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise InputError(f"{path}: cannot write it ({exc.strerror})") from None


# ---------------------------------------------------------------- the audio check report


def checked_article(service: Service, stored: StoredArticle, label: str, *,
                    inline: bool) -> CheckedArticle:
    """The article's risky sentences with what was spoken and their audio: the clip itself
    (``inline``, for a report file) or its URL (the report served by the service). ``label``
    says where it came from (a path or URL)."""
    speaker = service.speaker
    voice = speaker.voices.get(stored.voice)
    rows: list[CheckRow] = []
    for registered in stored.segments:
        # The lexicon in force now, not the one the article was registered under: the
        # report is read right after `reader lexicon add`.
        speak_full, used = service.text.speak_for(registered, "full")
        segment = dataclasses.replace(registered, speak=speak_full, lexicon=used)
        if not (risks := risks_of(segment)):
            continue
        found, speak = speaker.heard(segment, voice, stored.prosody)
        tokens = [(t.word, t.start, t.end) for t in service.text.words.tokens(segment.text)]
        rows.append(CheckRow(segment, speak, risks, _player_source(service, stored, segment,
                                                                   found, inline),
                             found.engine if found else None,
                             round(found.audio.duration_ms) if found else None,
                             entry_word(segment.text, risks[0], tokens)))
    return CheckedArticle(title=stored.title or stored.id, label=label,
                          segments=len(stored.segments), rows=tuple(rows))


def _player_source(service: Service, stored: StoredArticle, segment: Segment,
                   found: Spoken | None, inline: bool) -> str | None:
    """The clip itself (a report file works offline) or its URL (the service makes it when
    the player asks, if it is not cached)."""
    if found is not None:
        return data_uri(found.audio.data) if inline else f"{API}/audio/{found.key}.mp3"
    if inline:
        return None
    voice = service.speaker.voices.get(stored.voice)
    return f"{API}/audio/{service.speaker.primary_key(segment, voice, stored.prosody)}.mp3"


def report_html(service: Service, articles: Sequence[tuple[StoredArticle, str]], *,
                inline: bool) -> str:
    """The report for these (article, where it came from) pairs."""
    checked = [checked_article(service, stored, label, inline=inline)
               for stored, label in articles]
    generated = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    return check_report(checked, generated=generated,
                        lexicon_files=[str(p) for p in service.settings.lexicon_files])


async def write_report(service: Service, summary: Summary, path: Path) -> None:
    """The report file for every article the batch read (clips inlined: it works offline)."""
    read = [(service.article(t.article), t.label) for t in summary.tallies if t.article]
    html = await asyncio.to_thread(report_html, service, read, inline=True)
    _write(path, html.encode("utf-8"))
