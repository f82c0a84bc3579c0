"""reader.outputs: the timeline, the tagged article MP3, WebVTT and word timings, on real MP3s."""

from __future__ import annotations

import array
import functools
import io
import json
import math
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mutagen.id3 import ID3, CTOCFlags
from mutagen.mp3 import MP3

from reader.audio import (
    FRAME_MS,
    SAMPLE_RATE,
    concat_mp3,
    decode_mp3,
    ffmpeg_exe,
    pcm_to_mp3,
    probe_mp3,
    silence_mp3,
)
from reader.errors import BadAudio
from reader.outputs import (
    DEFAULT_PAUSES,
    Part,
    Pauses,
    Placed,
    Tags,
    article_mp3,
    first_words,
    segment_vtt,
    timeline,
    vtt_time,
    webvtt,
    word_timings,
)
from reader.types import Boundary, Kind

# ---------------------------------------------------------------- helpers

# The real silences of the default pauses: 250, 700 and 900 ms rounded to whole 24 ms frames.
SENTENCE_GAP = 240.0  # 10 frames
PARAGRAPH_GAP = 696.0  # 29 frames
TITLE_GAP = 912.0  # 37.5 frames, rounded to 38


@functools.cache
def tone_mp3(seconds: float, hertz: float = 440.0) -> bytes:
    """A sine tone in the project format."""
    samples = array.array("h", (round(9_000 * math.sin(2 * math.pi * hertz * i / SAMPLE_RATE))
                                for i in range(round(seconds * SAMPLE_RATE))))
    return pcm_to_mp3(samples.tobytes(), SAMPLE_RATE)


def clip(data: bytes, segment: int, paragraph: int, kind: Kind = Kind.BODY) -> tuple[Part, bytes]:
    """A clip and its part, the duration probed."""
    return Part(segment, paragraph, probe_mp3(data).duration_ms, kind), data


@pytest.fixture(scope="module")
def clips() -> list[tuple[Part, bytes]]:
    """A title, a meta line, then two paragraphs of two and one sentences: tones and silences."""
    return [
        clip(tone_mp3(0.5, 330), 0, 0, Kind.TITLE),
        clip(silence_mp3(300), 1, 2, Kind.META),
        clip(tone_mp3(1.2), 2, 3),
        clip(tone_mp3(0.7, 550), 3, 3),
        clip(silence_mp3(1000), 4, 5),
    ]


TEXTS = [
    "重庆市智博会开幕",
    "来源：新华社",
    "第七届中国国际智能产业博览会今天在重庆开幕，展期四天。",
    "本届博览会以“智能化：赋能新型工业化”为主题。",
    "A short closing line about the fair",
]
TAGS = Tags(title="重庆市智博会开幕", site="重庆市人民政府网", date="2025-09-05T20:18:00+08:00",
            url="https://www.cq.gov.cn/ywdt/jrcq/202509/t20250905_测试.html", language="zh-CN")


def id3(data: bytes) -> ID3:
    return ID3(io.BytesIO(data))  # type: ignore[no-untyped-call]  # mutagen is unannotated


def frames(tags: ID3, frame_id: str) -> list[Any]:
    """Every frame of one kind, whatever its key suffix."""
    return list(tags.getall(frame_id))  # type: ignore[no-untyped-call]


def chapters(tags: ID3) -> list[Any]:
    """The CHAP frames in the order the table of contents gives."""
    (toc,) = frames(tags, "CTOC")
    by_id = {chap.element_id: chap for chap in frames(tags, "CHAP")}
    return [by_id[element_id] for element_id in toc.child_element_ids]


# ---------------------------------------------------------------- the timeline


def test_timeline_pauses_by_kind_and_paragraph(clips: list[tuple[Part, bytes]]) -> None:
    placed = timeline([part for part, _ in clips])
    gaps = [after.start_ms - before.end_ms for before, after in pairwise(placed)]
    # title -> meta, meta -> body, sentence -> sentence, body -> next paragraph
    assert gaps == [TITLE_GAP, PARAGRAPH_GAP, SENTENCE_GAP, PARAGRAPH_GAP]
    assert placed[0].start_ms == 0
    assert [p.duration_ms for p in placed] == [part.duration_ms for part, _ in clips]
    assert [(p.segment, p.paragraph, p.kind) for p in placed] == [
        (part.segment, part.paragraph, part.kind) for part, _ in clips]


def test_timeline_gaps_are_the_real_silences() -> None:
    pauses = Pauses(sentence_ms=100, paragraph_ms=500, title_ms=1000)
    parts = [Part(0, 0, 48, Kind.TITLE), Part(1, 0, 48, Kind.TITLE), Part(2, 1, 48),
             Part(3, 1, 48), Part(4, 2, 48)]
    placed = timeline(parts, pauses)
    gaps = [after.start_ms - before.end_ms for before, after in pairwise(placed)]
    expected = [probe_mp3(silence_mp3(ms)).duration_ms for ms in (100, 1000, 100, 500)]
    assert gaps == expected == [96.0, 1008.0, 96.0, 504.0]
    assert all(p.start_ms % FRAME_MS == 0 and p.end_ms % FRAME_MS == 0 for p in placed)


def test_a_two_sentence_title_pauses_as_sentences_then_as_a_title() -> None:
    parts = [Part(0, 0, 24, Kind.TITLE), Part(1, 0, 24, Kind.TITLE), Part(2, 1, 24)]
    placed = timeline(parts)
    assert [p.start_ms for p in placed] == [0, 24 + SENTENCE_GAP, 48 + SENTENCE_GAP + TITLE_GAP]


def test_zero_pauses_join_clips_end_to_end() -> None:
    placed = timeline([Part(0, 0, 24), Part(1, 1, 48)], Pauses(0, 0, 0))
    assert [(p.start_ms, p.end_ms) for p in placed] == [(0, 24), (24, 72)]


def test_empty_timeline_and_clips_too_short_to_place() -> None:
    assert timeline([]) == []
    for duration in (0.0, 0.5, -24.0, math.nan):
        with pytest.raises(ValueError, match="at least"):
            Part(0, 0, duration)


# ---------------------------------------------------------------- the article MP3


def test_article_mp3_is_the_tag_then_the_plain_concatenation(
        clips: list[tuple[Part, bytes]]) -> None:
    mp3 = article_mp3(clips, TAGS, texts=TEXTS)
    data = [d for _, d in clips]
    expected = concat_mp3([data[0], silence_mp3(900), data[1], silence_mp3(700), data[2],
                           silence_mp3(250), data[3], silence_mp3(700), data[4]])
    info = probe_mp3(mp3)
    assert mp3[info.id3_bytes:] == expected
    assert mp3[:3] == b"ID3" and info.id3_bytes == len(mp3) - len(expected)
    total = timeline([p for p, _ in clips])[-1].end_ms
    pauses = TITLE_GAP + PARAGRAPH_GAP + SENTENCE_GAP + PARAGRAPH_GAP
    assert info.duration_ms == total == sum(p.duration_ms for p, _ in clips) + pauses
    assert info.sample_rate == SAMPLE_RATE and info.constant_bitrate and not info.info_header


def test_article_mp3_decodes_through_ffmpeg_to_its_length(
        clips: list[tuple[Part, bytes]]) -> None:
    mp3 = article_mp3(clips, TAGS, texts=TEXTS)
    pcm, rate = decode_mp3(mp3)
    assert len(pcm) // 2 * 1000 / rate == probe_mp3(mp3).duration_ms
    length = MP3(io.BytesIO(mp3)).info.length  # type: ignore[no-untyped-call,attr-defined]
    assert length == pytest.approx(probe_mp3(mp3).duration_ms / 1000)


def test_article_mp3_tags_read_back(clips: list[tuple[Part, bytes]]) -> None:
    tags = id3(article_mp3(clips, TAGS, texts=TEXTS))
    assert tags.version == (2, 4, 0)
    assert str(tags["TIT2"]) == "重庆市智博会开幕"
    for frame in ("TPE1", "TPUB", "TALB"):
        assert str(tags[frame]) == "重庆市人民政府网"
    assert tags["TDRC"].text[0].text == "2025-09-05 20:18:00"  # the zone is dropped
    assert tags["TLAN"].text == ["zho"]
    assert frames(tags, "COMM")[0].text == [TAGS.url]
    assert tags["TLEN"].text == [str(round(probe_mp3(article_mp3(clips, TAGS)).duration_ms))]


def test_article_mp3_chapters_per_paragraph(clips: list[tuple[Part, bytes]]) -> None:
    mp3 = article_mp3(clips, TAGS, texts=TEXTS)
    tags = id3(mp3)
    placed = timeline([p for p, _ in clips])
    total = round(probe_mp3(mp3).duration_ms)
    found = chapters(tags)
    # Paragraph starts: clips 0, 1, 2 (with 3 in the same paragraph) and 4. Chapters tile
    # the audio: each ends where the next begins, the last at the end.
    starts = [round(placed[i].start_ms) for i in (0, 1, 2, 4)]
    assert [(c.start_time, c.end_time) for c in found] == list(
        zip(starts, [*starts[1:], total], strict=True))
    assert [str(c.sub_frames["TIT2"]) for c in found] == [
        "重庆市智博会开幕", "来源：新华社", "第七届中国国际智能产业博览会今天在重庆开幕，展…",
        "A short closing line…"]
    assert {c.start_offset for c in found} == {0xFFFFFFFF}
    (toc,) = frames(tags, "CTOC")
    assert toc.flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    assert toc.child_element_ids == [f"chp{n}" for n in range(4)]


def test_ffmpeg_reads_the_chapters_too(clips: list[tuple[Part, bytes]]) -> None:
    """A second, independent reader of the tag."""
    mp3 = article_mp3(clips, TAGS, texts=TEXTS)
    command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "mp3", "-i", "pipe:0",
               "-f", "ffmetadata", "pipe:1"]
    found = subprocess.run(command, input=mp3, capture_output=True, check=True).stdout.decode()
    spans = sorted((int(a), int(b)) for a, b in re.findall(r"START=(\d+)\nEND=(\d+)", found))
    assert spans == sorted((c.start_time, c.end_time) for c in chapters(id3(mp3)))
    assert "title=重庆市智博会开幕" in found and "publisher=重庆市人民政府网" in found


def test_chapters_without_texts_are_numbered_and_can_be_left_out(
        clips: list[tuple[Part, bytes]]) -> None:
    numbered = chapters(id3(article_mp3(clips, TAGS)))
    assert [str(c.sub_frames["TIT2"]) for c in numbered] == ["1", "2", "3", "4"]
    bare = id3(article_mp3(clips, TAGS, chapters=False))
    assert not frames(bare, "CHAP") and not frames(bare, "CTOC")


def test_minimal_tags() -> None:
    tags = id3(article_mp3([clip(silence_mp3(48), 0, 0)], Tags(title="标题")))
    assert sorted(tags) == ["CHAP:chp0", "CTOC:toc", "TIT2", "TLAN", "TLEN"]


@pytest.mark.parametrize(("language", "code"), [
    ("zh", "zho"), ("zh-HK", "zho"), ("en-US", "eng"), ("fra", "fra"), ("x-klingon", "und")])
def test_language_is_iso_639_2(language: str, code: str) -> None:
    mp3 = article_mp3([clip(silence_mp3(48), 0, 0)], Tags("t", language=language))
    assert id3(mp3)["TLAN"].text == [code]


@pytest.mark.parametrize(("date", "stamp"), [
    ("2025-09-05", "2025-09-05"), ("2025-09-05 20:18", "2025-09-05 20:18"),
    ("2025-09-05T20:18:30.5Z", "2025-09-05 20:18:30"), ("2025", "2025"), ("昨天", None)])
def test_dates_become_id3_timestamps(date: str, stamp: str | None) -> None:
    tags = id3(article_mp3([clip(silence_mp3(48), 0, 0)], Tags("t", date=date)))
    assert (tags["TDRC"].text[0].text if "TDRC" in tags else None) == stamp


def test_article_mp3_refuses_bad_input(clips: list[tuple[Part, bytes]]) -> None:
    with pytest.raises(ValueError, match="at least one clip"):
        article_mp3([], TAGS)
    with pytest.raises(ValueError, match="2 texts for 5 clips"):
        article_mp3(clips, TAGS, texts=["a", "b"])
    part, data = clips[0]
    with pytest.raises(ValueError, match="timeline would drift"):
        article_mp3([(Part(0, 0, part.duration_ms + 24), data)], TAGS)
    tagged = article_mp3([clips[1]], TAGS)
    with pytest.raises(BadAudio, match="tagged"):
        article_mp3([(clips[1][0], tagged)], TAGS)


@pytest.mark.parametrize(("text", "short"), [
    ("短标题", "短标题"),
    ("一二三四五六七八九十" * 3, "一二三四五六七八九十一二三四五六七八九十一二三…"),
    ("The quick brown fox jumps over the lazy dog", "The quick brown fox…"),
    ("  two\n lines  ", "two lines"),
])
def test_first_words(text: str, short: str) -> None:
    assert first_words(text) == short
    assert len(first_words(text)) <= 24


# ---------------------------------------------------------------- WebVTT

_TIMESTAMP = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMINGS = re.compile(rf"{_TIMESTAMP}[ \t]+-->[ \t]+{_TIMESTAMP}")
_REFERENCE = re.compile(r"&(?:amp|lt|gt|lrm|rlm|nbsp|#\d+|#[xX][0-9a-fA-F]+);")
_UNESCAPE = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}


@dataclass(frozen=True)
class Cue:
    id: str
    start_ms: int
    end_ms: int
    text: str  # unescaped


def _millis(groups: Sequence[str | None]) -> int:
    hours, minutes, seconds, millis = (int(g or 0) for g in groups)
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis


def _text_line(line: str) -> str:
    """A payload line, strictly: no "-->", no markup, every & a character reference."""
    assert "-->" not in line and "<" not in line and ">" not in line, line
    rest = _REFERENCE.sub("", line)
    assert "&" not in rest, f"bare ampersand in {line!r}"
    return _REFERENCE.sub(lambda m: _UNESCAPE.get(m.group(), m.group()), line)


def _cue(block: list[str]) -> Cue:
    """One cue block (no blank line in it): optional id, timings, payload lines."""
    ident = ""
    if "-->" not in block[0]:
        ident, block = block[0], block[1:]
    assert block, "a cue needs a timings line"
    timings = _TIMINGS.fullmatch(block[0])
    assert timings, f"bad timings line {block[0]!r}"
    start, end = _millis(timings.groups()[:4]), _millis(timings.groups()[4:])
    assert end > start, f"cue {ident!r} ends at or before its start"
    return Cue(ident, start, end, "\n".join(_text_line(line) for line in block[1:]))


def parse_vtt(text: str) -> list[Cue]:
    """A strict reader of the WebVTT file syntax, for files with cues only (no regions, no
    styles, no notes, no cue settings): what ``webvtt`` promises to write."""
    assert "\0" not in text and "\r" not in text  # we write LF only
    header, *blocks = re.split(r"\n{2,}", text)  # blocks part at one or more blank lines
    assert re.fullmatch(r"\ufeff?WEBVTT(?:[ \t][^\n]*)?", header), f"bad header {header!r}"
    cues = [_cue(block.split("\n")) for block in blocks if block]
    ids = [cue.id for cue in cues if cue.id]
    assert len(ids) == len(set(ids)), "cue ids must be unique"
    assert all(a.start_ms <= b.start_ms for a, b in pairwise(cues)), "cues out of order"
    return cues


def test_webvtt_golden() -> None:
    placed = [Placed(0, 0, Kind.TITLE, 0, 1200), Placed(1, 1, Kind.BODY, 2112, 3_725_004.4)]
    assert webvtt(placed, ["标题 <b>&</b>", "a --> b\n\nc"]) == (
        "WEBVTT\n\n"
        "0\n00:00:00.000 --> 00:00:01.200\n标题 &lt;b&gt;&amp;&lt;/b&gt;\n\n"
        "1\n00:00:02.112 --> 01:02:05.004\na --&gt; b c\n\n")


def test_webvtt_of_the_article_matches_the_mp3(clips: list[tuple[Part, bytes]]) -> None:
    placed = timeline([p for p, _ in clips])
    cues = parse_vtt(webvtt(placed, TEXTS))
    assert [c.id for c in cues] == ["0", "1", "2", "3", "4"]
    assert [c.text for c in cues] == TEXTS
    assert cues[-1].end_ms == probe_mp3(article_mp3(clips, TAGS)).duration_ms
    found = chapters(id3(article_mp3(clips, TAGS)))
    assert [c.start_time for c in found] == [cues[i].start_ms for i in (0, 1, 2, 4)]


def test_segment_vtt() -> None:
    assert segment_vtt("一句话。", 1_944) == (
        "WEBVTT\n\n0\n00:00:00.000 --> 00:00:01.944\n一句话。\n\n")
    assert parse_vtt(segment_vtt("", 24)) == [Cue("0", 0, 24, "")]


def test_vtt_time() -> None:
    assert vtt_time(0) == "00:00:00.000"
    assert vtt_time(59_999.6) == "00:01:00.000"
    assert vtt_time(360_000_000) == "100:00:00.000"


def test_webvtt_needs_one_text_per_clip() -> None:
    with pytest.raises(ValueError, match="1 texts for 0"):
        webvtt([], ["a"])


def test_the_parser_is_strict() -> None:
    cue = "1\n00:00:01.000 --> 00:00:02.000\nx\n\n"
    good = "WEBVTT\n\n" + cue
    assert parse_vtt(good) == [Cue("1", 1000, 2000, "x")]
    bad = {
        "header": good.replace("WEBVTT", "WEBVTX"),
        "bare ampersand": good.replace("x\n", "a & b\n"),
        "markup": good.replace("x\n", "<i>\n"),
        "arrow in text": good.replace("x\n", "x --> y\n"),
        "blank line in a cue": good.replace("x\n", "x\n\ny\n"),
        "empty cue": good.replace("02.000", "01.000"),
        "short hours": good.replace("00:00:01.000 ", "0:00:01.000 "),
        "duplicate id": good + cue.replace("01.000", "03.000").replace("02.000", "04.000"),
        "out of order": good + cue.replace("1\n", "2\n").replace("00:01.000", "00:00.000"),
    }
    for name, text in bad.items():
        with pytest.raises(AssertionError):
            parse_vtt(text)
            pytest.fail(f"accepted: {name}")


_parts = st.lists(st.tuples(st.integers(1, 400), st.booleans(), st.booleans()), max_size=30)


@settings(max_examples=200, deadline=None)
@given(shape=_parts, texts=st.data())
def test_any_texts_give_a_valid_file_with_increasing_cues(
        shape: list[tuple[int, bool, bool]], texts: st.DataObject) -> None:
    parts, paragraph = [], 0
    for index, (frames, new_paragraph, title) in enumerate(shape):
        paragraph += new_paragraph
        kind = Kind.TITLE if title and paragraph == 0 else Kind.BODY
        parts.append(Part(index, paragraph, frames * FRAME_MS, kind))
    said = texts.draw(st.lists(st.text(), min_size=len(parts), max_size=len(parts)))
    placed = timeline(parts, DEFAULT_PAUSES)
    cues = parse_vtt(webvtt(placed, said))
    assert [c.id for c in cues] == [str(p.segment) for p in placed]
    assert [c.text for c in cues] == [" ".join(t.split()).replace("\0", "\ufffd") for t in said]
    assert all(c.start_ms < c.end_ms for c in cues)
    assert all(a.end_ms < b.start_ms for a, b in pairwise(cues))  # the pauses part them
    assert [(c.start_ms, c.end_ms) for c in cues] == [
        (round(p.start_ms), round(p.end_ms)) for p in placed]


# ---------------------------------------------------------------- word timings


def test_word_timings_are_in_article_time() -> None:
    placed = timeline([Part(0, 0, 480, Kind.TITLE), Part(1, 1, 960), Part(2, 1, 240)])
    boundaries = [
        [Boundary("sentence", "标题", 0, 400), Boundary("word", "标题", 50, 400)],
        [Boundary("word", "今天", 12.5, 300), Boundary("word", "开幕", 320, 700)],  # overruns
        [],
    ]
    found = word_timings(placed, boundaries)
    start = 480 + TITLE_GAP
    assert found == [
        {"index": 0, "start_ms": 0, "end_ms": 480,
         "words": [{"text": "标题", "start_ms": 50, "end_ms": 450}]},
        {"index": 1, "start_ms": round(start), "end_ms": round(start + 960),
         "words": [{"text": "今天", "start_ms": round(start + 12.5),
                    "end_ms": round(start + 312.5)},
                   {"text": "开幕", "start_ms": round(start + 320), "end_ms": round(start + 960)}]},
        {"index": 2, "start_ms": round(start + 960 + SENTENCE_GAP),
         "end_ms": round(start + 1200 + SENTENCE_GAP), "words": []},
    ]
    assert json.loads(json.dumps(found)) == found


def test_word_timings_need_one_list_per_clip() -> None:
    with pytest.raises(ValueError, match="0 boundary lists for 1"):
        word_timings(timeline([Part(0, 0, 24)]), [])
