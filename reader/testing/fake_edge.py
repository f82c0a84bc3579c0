"""A fake of Microsoft Edge's read-aloud service, for tests and benchmarks.

The real ``edge_tts`` client (7.3.1) talks to this server over loopback exactly as it talks to
Microsoft: a WebSocket at Edge's synthesis path and an HTTP voice list. Audio is real MP3 in Edge's
format (24 kHz mono, 48 kbit/s CBR, no ID3 or Xing header), so ``duration = bytes * 8 / 48000``.

Usage::

    async with FakeEdgeServer(first_byte_delay=0.3, speed=20) as server:
        with patch_edge_tts(server):
            server.faults.push(Fault.HTTP_429)            # the next connection is refused
            server.faults.for_text("第二句", Fault.NO_AUDIO)  # any synthesis of a matching text
            ...                                           # drive edge_tts.Communicate
        assert server.stats.count("第一句。", "zh-CN-XiaoxiaoNeural") == 1

    server = FakeEdgeServer().start_in_thread()   # sync tests; or ``with FakeEdgeServer() as s:``
    ...
    server.stop()

Standalone: ``python -m reader.testing.fake_edge --port 8765 --first-byte-ms 300 --speed 20``.

One synthesis on the wire (client -> server, then server -> client)::

    > Path:speech.config   JSON: boundary kinds, output format
    > Path:ssml            <speak><voice name='Microsoft Server Speech ...'><prosody ...>text
    < Path:response, Path:turn.start                       (text frames)
    < Path:audio.metadata  one boundary per frame, offsets in 100 ns ticks, sent ahead of its audio
    < binary frames        2-byte big-endian header length, header lines, then MP3 bytes
    < empty binary frame   no Content-Type: the end of the audio
    < Path:turn.end

An unknown voice or unreadable SSML closes the socket with code 1007, before ``turn.start``, as
Edge does; the client then raises ``NoAudioReceived``.
"""

from __future__ import annotations

import argparse
import asyncio
import enum
import json
import math
import os
import re
import subprocess
import sys
import threading
import uuid
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import formatdate
from time import time
from types import TracebackType
from typing import Protocol, Self, TypedDict, TypeVar
from xml.etree import ElementTree

from aiohttp import WSCloseCode, WSMsgType, web

# --- Edge's addresses and audio format -------------------------------------------------------

EDGE_PATH = "/consumer/speech/synthesize/readaloud/edge/v1"
VOICE_LIST_PATH = "/consumer/speech/synthesize/readaloud/voices/list"
TRUSTED_CLIENT_TOKEN = "6A5AA1D4EAFF4E9FB37E23D68491D6F4"
OUTPUT_FORMAT = "audio-24khz-48kbitrate-mono-mp3"

#: 48 kbit/s constant bit rate: the only format the client asks for.
MP3_BYTES_PER_SECOND = 48_000 // 8
#: One MPEG-2 layer III frame at 24 kHz and 48 kbit/s: 576 samples (24 ms) in exactly 144 bytes,
#: never padded, so clips can be cut and joined on any multiple of 144 bytes.
MP3_FRAME_BYTES = 144
#: Edge's offsets and durations are in 100 ns ticks.
TICKS_PER_SECOND = 10_000_000

AudioSource = Callable[[str, str], bytes]
"""(text, short voice name) -> MP3 bytes in Edge's format; b"" means "nothing to say"."""


def mp3_duration(audio: bytes) -> float:
    """Seconds of audio in an MP3 clip of Edge's format (bytes x 8 / 48000)."""
    return len(audio) / MP3_BYTES_PER_SECOND


# --- How long a text takes to say --------------------------------------------------------------

# CJK unified ideographs (with extension A and the compatibility block): one syllable each.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
# Letters and digits outside CJK: a Latin word, a number.
_ALNUM_CHAR = re.compile(f"[^\\W_{_CJK}]")
# Word boundaries: Chinese has no spaces, so CJK runs are cut into pairs (a rough stand-in for
# two-character words); other scripts are cut at whitespace and punctuation.
_WORD = re.compile(f"[{_CJK}]{{1,2}}|[^\\W_{_CJK}]+")
# Sentence boundaries: a run up to a sentence ender, with any closing quotes or brackets after it.
_SENTENCE = re.compile(r"[^。！？!?.;；…]+[。！？!?.;；…]*[”’」』)）\"']*")

SECONDS_PER_CJK_CHAR = 0.22  # Mandarin newsreaders run at about 4.5 syllables a second
SECONDS_PER_LETTER = 0.06  # English at about 160 words a minute
SECONDS_PER_DIGIT = 0.3  # a digit becomes a syllable or two: 2025 is 二零二五 or 二千零二十五
MIN_CLIP_SECONDS = 0.3  # the floor: a one-letter text still gets a clip of some length


def _speaking_time(text: str) -> float:
    cjk = len(_CJK_CHAR.findall(text))
    alnum = _ALNUM_CHAR.findall(text)
    digits = sum(1 for ch in alnum if ch.isdigit())
    letters = len(alnum) - digits
    return cjk * SECONDS_PER_CJK_CHAR + letters * SECONDS_PER_LETTER + digits * SECONDS_PER_DIGIT


def is_speakable(text: str) -> bool:
    """Whether the text holds anything to say (Edge sends no audio for punctuation alone)."""
    return _speaking_time(text) > 0


def estimate_duration(text: str) -> float:
    """A plausible clip length for the text, in seconds (the default source's target)."""
    return max(MIN_CLIP_SECONDS, _speaking_time(text))


# --- Audio sources ----------------------------------------------------------------------------

_SILENT_FRAME = bytes.fromhex("fff364c4") + bytes(MP3_FRAME_BYTES - 4)
"""MPEG-2 layer III, 48 kbit/s, 24 kHz, mono, no CRC; all-zero side info decodes to silence."""


def silence_source(text: str, voice: str) -> bytes:
    """Silent MP3 of ``estimate_duration(text)``, built without ffmpeg (fast, dependency-free)."""
    frames = math.ceil(estimate_duration(text) * MP3_BYTES_PER_SECOND / MP3_FRAME_BYTES)
    return _SILENT_FRAME * frames


class ToneSource:
    """The default audio: a warbling tone as long as the text takes to say, pitched per voice.

    Encoded by ffmpeg (from the imageio-ffmpeg package) in Edge's exact format and cached per
    (text, voice); safe to call from several threads.
    """

    def __init__(self, ffmpeg: str | None = None, max_clips: int = 4096) -> None:
        self._ffmpeg = ffmpeg
        self._max_clips = max_clips
        self._cache: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()

    def __call__(self, text: str, voice: str) -> bytes:
        key = (text, voice)
        with self._lock:
            cached = self._cache.get(key)
        if cached is None:
            cached = self._encode(estimate_duration(text), _voice_pitch(voice))
            with self._lock:
                if len(self._cache) >= self._max_clips:
                    del self._cache[next(iter(self._cache))]  # the oldest: a bench can be long
                self._cache[key] = cached
        return cached

    def _encode(self, seconds: float, hertz: int) -> bytes:
        signal = (
            f"sine=frequency={hertz}:sample_rate=24000:duration={seconds:.3f},"
            "tremolo=f=4:d=0.7,volume=0.5"  # about four "syllables" a second
        )
        command = [self._ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi"]
        command += ["-i", signal, "-ar", "24000", "-ac", "1", "-b:a", "48k"]
        command += ["-id3v2_version", "0", "-write_xing", "0", "-f", "mp3", "-"]
        done = subprocess.run(command, capture_output=True, check=True, timeout=60)
        return done.stdout

    def _ffmpeg_exe(self) -> str:
        if self._ffmpeg is None:
            import imageio_ffmpeg

            self._ffmpeg = str(imageio_ffmpeg.get_ffmpeg_exe())
        return self._ffmpeg


def another_take(audio: bytes) -> bytes:
    """The same clip with every frame's private bit flipped: it decodes the same, but its bytes
    differ from the first frame on (a retry that is not byte for byte the first try)."""
    take = bytearray(audio)
    for start in range(0, len(take) - 3, MP3_FRAME_BYTES):
        if take[start] != 0xFF or take[start + 1] & 0xE0 != 0xE0:
            break  # not Edge's format past here: the first frame is changed, which is enough
        take[start + 2] ^= 0x01
    return bytes(take)


def _voice_pitch(voice: str) -> int:
    """A stable tone per voice (100-299 Hz), so clips of different voices differ."""
    return 100 + zlib.crc32(voice.encode()) % 200


_SHARED_TONES = ToneSource()  # clips are deterministic, so every server can share one cache


# --- Boundaries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Boundary:
    """One entry of an ``audio.metadata`` frame."""

    kind: str  # "WordBoundary" or "SentenceBoundary"
    offset: int  # ticks from the start of the clip
    duration: int  # ticks
    text: str  # as spoken (unescaped)


def boundaries(text: str, seconds: float, kind: str) -> list[Boundary]:
    """Spread the text's words or sentences over ``seconds``, each in proportion to its length."""
    pattern = _WORD if kind == "WordBoundary" else _SENTENCE
    units = [unit.strip() for unit in pattern.findall(text)]
    units = [unit for unit in units if is_speakable(unit)]
    total = sum(_speaking_time(unit) for unit in units)
    result: list[Boundary] = []
    start = 0.0
    for unit in units:
        share = seconds * _speaking_time(unit) / total
        offset, duration = _ticks(start), _ticks(share)
        result.append(Boundary(kind, offset, duration, unit))
        start += share
    return result


def _ticks(seconds: float) -> int:
    return round(seconds * TICKS_PER_SECOND)


# --- Voices -----------------------------------------------------------------------------------


class VoiceTag(TypedDict):
    ContentCategories: list[str]
    VoicePersonalities: list[str]


class VoiceEntry(TypedDict):
    """One voice as Edge's voice list describes it."""

    Name: str
    ShortName: str
    Gender: str
    Locale: str
    SuggestedCodec: str
    FriendlyName: str
    Status: str
    VoiceTag: VoiceTag


def edge_voice(
    short_name: str,
    gender: str,
    language: str,
    categories: Sequence[str] = ("General",),
    personalities: Sequence[str] = ("Friendly",),
) -> VoiceEntry:
    """A voice-list entry; ``language`` ends the friendly name ("Chinese (Mainland)")."""
    locale, _, name = short_name.rpartition("-")
    display = name.removesuffix("Neural")
    return {
        "Name": f"Microsoft Server Speech Text to Speech Voice ({locale}, {name})",
        "ShortName": short_name,
        "Gender": gender,
        "Locale": locale,
        "SuggestedCodec": OUTPUT_FORMAT,
        "FriendlyName": f"Microsoft {display} Online (Natural) - {language}",
        "Status": "GA",
        "VoiceTag": {
            "ContentCategories": list(categories),
            "VoicePersonalities": list(personalities),
        },
    }


DEFAULT_VOICES: tuple[VoiceEntry, ...] = (
    edge_voice("zh-CN-XiaoxiaoNeural", "Female", "Chinese (Mainland)", ["News", "Novel"], ["Warm"]),
    edge_voice("zh-CN-XiaoyiNeural", "Female", "Chinese (Mainland)", ["Cartoon"], ["Lively"]),
    edge_voice("zh-CN-YunxiNeural", "Male", "Chinese (Mainland)", ["Novel"], ["Lively"]),
    edge_voice("zh-CN-YunjianNeural", "Male", "Chinese (Mainland)", ["Sports"], ["Passion"]),
    edge_voice("zh-CN-YunyangNeural", "Male", "Chinese (Mainland)", ["News"], ["Professional"]),
    edge_voice("zh-CN-sichuan-YunxiNeural", "Male", "Chinese (Sichuanese Mandarin)", ["Dialect"]),
    edge_voice("zh-CN-liaoning-XiaobeiNeural", "Female", "Chinese (Northeastern Mandarin)"),
    edge_voice("zh-HK-HiuMaanNeural", "Female", "Chinese (Cantonese Traditional)"),
    edge_voice("zh-HK-WanLungNeural", "Male", "Chinese (Cantonese Traditional)"),
    edge_voice("zh-TW-HsiaoChenNeural", "Female", "Chinese (Taiwanese Mandarin)"),
    edge_voice("zh-TW-YunJheNeural", "Male", "Chinese (Taiwanese Mandarin)"),
    edge_voice("en-US-AriaNeural", "Female", "English (United States)", ["News"], ["Positive"]),
    edge_voice("en-US-GuyNeural", "Male", "English (United States)", ["News"], ["Passion"]),
    edge_voice("en-US-EmmaMultilingualNeural", "Female", "English (United States)"),
)
"""Enough of Edge's list for the project's presets, plus the client's default voice."""


# --- Faults -----------------------------------------------------------------------------------


class Fault(enum.Enum):
    """Something going wrong, at the handshake or in the stream. What the client does with each:

    - ``SKEWED_403``: 403 with a ``Date`` an hour ahead. The client corrects its clock
      (process-wide) and retries once; the retry takes the next fault, if any.
    - ``HTTP_403`` / ``HTTP_429`` / ``HTTP_503``: refused with that status and a correct ``Date``.
      ``aiohttp.WSServerHandshakeError`` with ``.status``. A 403 is still retried once (the
      client cannot tell it from a skew), so push two, or use ``always``, for a hard 403.
    - ``DROP_MID_STREAM``: the TCP connection is aborted after some audio. No error: ``stream()``
      ends quietly with the partial audio.
    - ``CUT_SHORT``: some of the audio, then a normal end of turn. No error, partial audio.
    - ``NO_AUDIO``: ``turn.start`` then ``turn.end``. ``NoAudioReceived``.
    - ``SLOW_FIRST_BYTE``: the first audio waits ``server.slow_first_byte_delay`` (30 s). The
      client waits forever (its ``receive_timeout`` only bounds the handshake).
    - ``SILENT``: the request is accepted and nothing comes back, not even ``turn.start``,
      until the client hangs up (``stats.hung_up`` counts it). The client waits forever.
    - ``ANOTHER_TAKE``: the whole clip, but not byte for byte the usual one (every frame's
      private bit is flipped: it sounds the same). Edge's output for a request is normally
      deterministic; this is the retry that is not.
    - ``MALFORMED_*``: one bad frame after the first audio chunk, then the server waits for the
      client to hang up. ``HEADER_LENGTH`` and ``BINARY_PATH`` -> ``UnexpectedResponse``,
      ``TEXT_PATH`` -> ``UnknownResponse``, ``HEADER_LINE`` -> plain ``ValueError``,
      ``UTF8`` (a text frame that is not UTF-8) -> ``WebSocketError``.
    """

    SKEWED_403 = "skewed_403"
    HTTP_403 = "http_403"
    HTTP_429 = "http_429"
    HTTP_503 = "http_503"
    DROP_MID_STREAM = "drop_mid_stream"
    CUT_SHORT = "cut_short"
    NO_AUDIO = "no_audio"
    SLOW_FIRST_BYTE = "slow_first_byte"
    SILENT = "silent"
    ANOTHER_TAKE = "another_take"
    MALFORMED_HEADER_LENGTH = "malformed_header_length"
    MALFORMED_BINARY_PATH = "malformed_binary_path"
    MALFORMED_TEXT_PATH = "malformed_text_path"
    MALFORMED_HEADER_LINE = "malformed_header_line"
    MALFORMED_UTF8 = "malformed_utf8"

    @property
    def at_handshake(self) -> bool:
        """Whether the fault refuses the connection (before any text is known)."""
        return self in _HANDSHAKE_STATUS

    @property
    def malformed(self) -> bool:
        return self.name.startswith("MALFORMED_")


_HANDSHAKE_STATUS = {
    Fault.SKEWED_403: 403,
    Fault.HTTP_403: 403,
    Fault.HTTP_429: 429,
    Fault.HTTP_503: 503,
}

TextMatch = str | Callable[[str], bool]
"""A substring of the text, or a predicate on it."""


@dataclass
class _Queued:
    fault: Fault
    remaining: int | None  # None: every time, until cleared


@dataclass
class _TextRule:
    matches: Callable[[str], bool]
    fault: Fault
    remaining: int | None


class FaultPlan:
    """The faults to inject, set by a test. Safe to change while the server runs in a thread.

    Queued faults (``push``, ``always``) are taken one per connection, in order, at the handshake;
    once the queue is empty, connections are normal. Text rules (``for_text``) apply to syntheses
    whose text matches, when no queued fault was taken for that connection.
    """

    def __init__(self, allowed: frozenset[Fault] = frozenset(Fault)) -> None:
        self._allowed = allowed
        self._lock = threading.Lock()
        self._queue: deque[_Queued] = deque()
        self._rules: list[_TextRule] = []

    def push(self, fault: Fault, times: int = 1) -> None:
        """The next ``times`` connections (after those already queued) get ``fault``."""
        self._check(fault)
        if times < 1:
            raise ValueError(f"times must be at least 1, not {times}")
        with self._lock:
            self._queue.append(_Queued(fault, times))

    def always(self, fault: Fault) -> None:
        """Every connection (after those already queued) gets ``fault``, until ``clear()``."""
        self._check(fault)
        with self._lock:
            self._queue.append(_Queued(fault, None))

    def for_text(self, match: TextMatch, fault: Fault, times: int | None = None) -> None:
        """Syntheses of matching text get ``fault`` (``times`` times, or every time)."""
        self._check(fault)
        if fault.at_handshake:
            raise ValueError(f"{fault.name} happens before the text is known: use push()")
        matches = match if callable(match) else (lambda text: match in text)
        with self._lock:
            self._rules.append(_TextRule(matches, fault, times))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._rules.clear()

    @property
    def pending(self) -> tuple[Fault, ...]:
        """Queued faults not yet taken (one entry per push)."""
        with self._lock:
            return tuple(queued.fault for queued in self._queue)

    def take_for_connection(self) -> Fault | None:
        with self._lock:
            if not self._queue:
                return None
            head = self._queue[0]
            if head.remaining is not None:
                head.remaining -= 1
                if head.remaining == 0:
                    self._queue.popleft()
            return head.fault

    def take_for_text(self, text: str) -> Fault | None:
        with self._lock:
            for rule in self._rules:
                if rule.remaining != 0 and rule.matches(text):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                    return rule.fault
        return None

    def _check(self, fault: Fault) -> None:
        if fault not in self._allowed:
            raise ValueError(f"{fault.name} cannot happen here")


# --- What the server saw ----------------------------------------------------------------------


@dataclass(frozen=True)
class SynthesisRequest:
    """One SSML request as the server received it."""

    text: str  # unescaped, as it would be spoken
    voice: str  # short name ("zh-CN-XiaoxiaoNeural"); as sent if the voice is unknown
    voice_name: str  # as sent: "Microsoft Server Speech Text to Speech Voice (zh-CN, ...)"
    rate: str  # "+0%"
    volume: str  # "+0%"
    pitch: str  # "+0Hz"
    boundaries: tuple[str, ...]  # boundary kinds asked for in speech.config
    output_format: str
    ssml: str
    connection_id: str
    fault: Fault | None  # the fault this synthesis got, if any


class Stats:
    """Counts of what the server saw; thread-safe, every read is a snapshot.

    ``wait(ready)`` blocks until a condition on the counts holds: what a test waits on instead
    of sleeping (from async code, through ``asyncio.to_thread``: the server may share the loop).
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()  # reentrant: wait()'s condition reads the properties
        self._changed = threading.Condition(self._lock)
        self._connections = 0
        self._hung_up = 0
        self._refused = 0
        self._voice_lists = 0
        self._requests: list[SynthesisRequest] = []
        self._completed: list[tuple[str, str]] = []
        self._active = 0
        self._peak = 0

    @property
    def peak_concurrency(self) -> int:
        """The most syntheses under way at once since the last reset."""
        with self._lock:
            return self._peak

    @property
    def hung_up(self) -> int:
        """Syntheses the client hung up on before their turn ended: it gave up waiting (a
        deadline of its own), or stopped at a malformed frame."""
        with self._lock:
            return self._hung_up

    def wait(self, ready: Callable[[Stats], bool], timeout: float = 10.0) -> bool:
        """Block until ``ready(self)`` holds (True) or ``timeout`` seconds pass (False)."""
        with self._changed:
            return self._changed.wait_for(lambda: ready(self), timeout)

    def _started(self) -> None:
        with self._changed:
            self._active += 1
            self._peak = max(self._peak, self._active)
            self._changed.notify_all()

    def _ended(self) -> None:
        with self._changed:
            self._active -= 1
            self._changed.notify_all()

    @property
    def completed(self) -> Counter[tuple[str, str]]:
        """Syntheses sent whole (every audio frame and turn.end), per (text, voice): a
        request the client gave up on, or that a fault cut, is not among them."""
        with self._lock:
            return Counter(self._completed)

    @property
    def connections(self) -> int:
        """WebSocket handshakes attempted, refused ones included."""
        with self._lock:
            return self._connections

    @property
    def refused(self) -> int:
        """Handshakes answered with an HTTP error instead of a WebSocket."""
        with self._lock:
            return self._refused

    @property
    def voice_list_requests(self) -> int:
        with self._lock:
            return self._voice_lists

    @property
    def requests(self) -> tuple[SynthesisRequest, ...]:
        """Every SSML request, in arrival order."""
        with self._lock:
            return tuple(self._requests)

    @property
    def syntheses(self) -> Counter[tuple[str, str]]:
        """Syntheses asked for, per (text, voice)."""
        with self._lock:
            return Counter((request.text, request.voice) for request in self._requests)

    def count(self, text: str | None = None, voice: str | None = None) -> int:
        """Syntheses asked for, optionally only of ``text`` and/or in ``voice``."""
        with self._lock:
            return sum(
                1
                for request in self._requests
                if text in (None, request.text) and voice in (None, request.voice)
            )

    def reset(self) -> None:
        with self._changed:
            self._connections = self._refused = self._voice_lists = self._hung_up = 0
            self._requests.clear()
            self._completed.clear()
            self._peak = self._active
            self._changed.notify_all()

    def _connection(self, refused: bool) -> None:
        with self._changed:
            self._connections += 1
            self._refused += refused
            self._changed.notify_all()

    def _voice_list(self) -> None:
        with self._changed:
            self._voice_lists += 1
            self._changed.notify_all()

    def _request(self, request: SynthesisRequest) -> None:
        with self._changed:
            self._requests.append(request)
            self._changed.notify_all()

    def _complete(self, text: str, voice: str) -> None:
        with self._changed:
            self._completed.append((text, voice))
            self._changed.notify_all()

    def _hang_up(self) -> None:
        with self._changed:
            self._hung_up += 1
            self._changed.notify_all()


# --- The protocol -----------------------------------------------------------------------------


def parse_text_message(message: str) -> tuple[dict[str, str], str]:
    """Split a text frame into its header lines and its body."""
    head, _, body = message.partition("\r\n\r\n")
    headers: dict[str, str] = {}
    for line in head.split("\r\n"):
        key, colon, value = line.partition(":")
        if colon:
            headers[key] = value
    return headers, body


_SSML_NS = "{http://www.w3.org/2001/10/synthesis}"
_EDGE_VOICE_NAME = re.compile(r"^Microsoft Server Speech Text to Speech Voice \((.+), (.+)\)$")


@dataclass(frozen=True)
class Ssml:
    """What the client's one SSML template carries."""

    voice_name: str
    rate: str
    volume: str
    pitch: str
    text: str  # unescaped

    @property
    def short_voice(self) -> str:
        """``Microsoft ... Voice (zh-CN-sichuan, YunxiNeural)`` -> ``zh-CN-sichuan-YunxiNeural``."""
        match = _EDGE_VOICE_NAME.match(self.voice_name)
        return f"{match[1]}-{match[2]}" if match else self.voice_name


def parse_ssml(ssml: str) -> Ssml:
    """Read the client's SSML; ``ValueError`` if it is not that template."""
    try:
        voice = ElementTree.fromstring(ssml).find(f"{_SSML_NS}voice")
    except ElementTree.ParseError as exc:
        raise ValueError(f"SSML is invalid: {exc}") from exc
    prosody = voice.find(f"{_SSML_NS}prosody") if voice is not None else None
    if voice is None or prosody is None:
        raise ValueError("SSML is invalid: no <voice><prosody>")
    return Ssml(
        voice_name=voice.get("name", ""),
        rate=prosody.get("rate", "+0%"),
        volume=prosody.get("volume", "+0%"),
        pitch=prosody.get("pitch", "+0Hz"),
        text="".join(prosody.itertext()),
    )


def boundary_kinds(speech_config: str) -> tuple[str, ...]:
    """The boundary kinds a ``speech.config`` body asks for."""
    try:
        options = json.loads(speech_config)["context"]["synthesis"]["audio"]["metadataoptions"]
    except (ValueError, KeyError, TypeError):
        return ()
    flags = {"WordBoundary": "wordBoundaryEnabled", "SentenceBoundary": "sentenceBoundaryEnabled"}
    return tuple(kind for kind, flag in flags.items() if str(options.get(flag)) == "true")


def _output_format(speech_config: str) -> str:
    try:
        return str(json.loads(speech_config)["context"]["synthesis"]["audio"]["outputFormat"])
    except (ValueError, KeyError, TypeError):
        return ""


class Frames:
    """The frames Edge sends for one turn, all tagged with the client's ``X-RequestId``."""

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.stream_id = uuid.uuid4().hex.upper()
        self.service_tag = uuid.uuid4().hex

    def text(self, path: str, body: object) -> str:
        return (
            f"X-RequestId:{self.request_id}\r\n"
            "Content-Type:application/json; charset=utf-8\r\n"
            f"Path:{path}\r\n\r\n"
            f"{json.dumps(body, ensure_ascii=False)}"
        )

    def response(self) -> str:
        audio = {"type": "inline", "streamId": self.stream_id}
        return self.text("response", {"context": {"serviceTag": self.service_tag}, "audio": audio})

    def turn_start(self) -> str:
        return self.text("turn.start", {"context": {"serviceTag": self.service_tag}})

    def turn_end(self) -> str:
        return self.text("turn.end", {})

    def metadata(self, boundary: Boundary) -> str:
        data = {
            "Offset": boundary.offset,
            "Duration": boundary.duration,
            # The client unescapes this text; escaped, any text round-trips exactly.
            "text": {
                "Text": _xml_escape(boundary.text),
                "Length": len(boundary.text),
                "BoundaryType": boundary.kind,
            },
        }
        return self.text("audio.metadata", {"Metadata": [{"Type": boundary.kind, "Data": data}]})

    def audio(self, mp3: bytes) -> bytes:
        return self.binary(
            [
                f"X-RequestId:{self.request_id}",
                "Content-Type:audio/mpeg",
                f"X-StreamId:{self.stream_id}",
                "Path:audio",
            ],
            mp3,
        )

    def audio_end(self) -> bytes:
        """The empty audio frame that ends the audio: no Content-Type, no bytes."""
        return self.binary(
            [f"X-RequestId:{self.request_id}", f"X-StreamId:{self.stream_id}", "Path:audio"], b""
        )

    @staticmethod
    def binary(header_lines: Sequence[str], payload: bytes) -> bytes:
        """2-byte big-endian header length, CRLF-terminated header lines, payload.

        The client slices the headers as ``frame[:length]``, length prefix included, so the first
        header line arrives with two junk bytes in its name: ``Path`` must never come first.
        """
        head = "".join(f"{line}\r\n" for line in header_lines).encode()
        return len(head).to_bytes(2, "big") + head + payload

    def malformed(self, fault: Fault) -> tuple[WSMsgType, bytes]:
        """One bad frame of the given kind, as (opcode, bytes)."""
        sample = _SILENT_FRAME
        if fault is Fault.MALFORMED_HEADER_LENGTH:
            frame = self.audio(sample)
            return WSMsgType.BINARY, (len(frame) + 1).to_bytes(2, "big") + frame[2:]
        if fault is Fault.MALFORMED_BINARY_PATH:
            lines = [f"X-RequestId:{self.request_id}", "Content-Type:audio/mpeg", "Path:video"]
            return WSMsgType.BINARY, self.binary(lines, sample)
        if fault is Fault.MALFORMED_HEADER_LINE:
            lines = [f"X-RequestId:{self.request_id}", "no colon here", "Path:audio"]
            return WSMsgType.BINARY, self.binary(lines, sample)
        if fault is Fault.MALFORMED_TEXT_PATH:
            return WSMsgType.TEXT, self.text("turn.sideways", {}).encode()
        if fault is Fault.MALFORMED_UTF8:
            return WSMsgType.TEXT, self.turn_end().encode() + b"\xff\xfe"
        raise ValueError(f"{fault.name} is not a malformed-frame fault")


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _skewed_date(skew_seconds: float) -> str:
    return formatdate(time() + skew_seconds, usegmt=True)


# --- The server -------------------------------------------------------------------------------


@dataclass
class _Connection:
    """One accepted WebSocket and what its client has told it so far."""

    ws: web.WebSocketResponse
    request: web.Request
    connection_id: str
    fault: Fault | None  # taken at the handshake, spent by the first synthesis
    speech_config: str = ""
    turn_open: bool = False  # a synthesis is under way whose turn.end has not been sent

    def end_turn(self) -> None:
        self.turn_open = False

    def take_fault(self) -> Fault | None:
        fault, self.fault = self.fault, None
        return fault


class FakeEdgeServer:
    """Edge's read-aloud service on loopback: synthesis WebSocket and voice list.

    Latency model (plain attributes, change them between tests): ``first_byte_delay`` seconds
    from the SSML to the first audio frame; ``speed`` times real time after that (``math.inf``:
    no pacing), in chunks of ``chunk_bytes``; boundaries go out just ahead of their audio.

    Faults: ``faults`` for synthesis connections, ``voice_list_faults`` (handshake faults only)
    for the voice list. Fault parameters: ``slow_first_byte_delay`` (30 s), ``partial_fraction``
    of the audio sent by ``DROP_MID_STREAM`` and ``CUT_SHORT`` (0.5), ``clock_skew`` of
    ``SKEWED_403``'s ``Date`` (+3600 s).

    ``stats`` counts connections, refusals and syntheses, and keeps every SSML request.
    """

    def __init__(
        self,
        *,
        audio_source: AudioSource | None = None,
        voices: Sequence[VoiceEntry] = DEFAULT_VOICES,
        host: str = "127.0.0.1",
        port: int = 0,
        first_byte_delay: float = 0.0,
        speed: float = math.inf,
        chunk_bytes: int = 28 * MP3_FRAME_BYTES,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, not {speed}")
        self.audio_source: AudioSource = audio_source or _SHARED_TONES
        self.voices: list[VoiceEntry] = list(voices)
        self.host = host
        self.first_byte_delay = first_byte_delay
        self.speed = speed
        self.chunk_bytes = chunk_bytes
        self.slow_first_byte_delay = 30.0
        self.partial_fraction = 0.5
        self.clock_skew = 3600.0
        self.faults = FaultPlan()
        self.voice_list_faults = FaultPlan(frozenset(_HANDSHAKE_STATUS))
        self.stats = Stats()
        self._port = port
        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None
        self._thread_stop: asyncio.Event | None = None

    # -- addresses

    @property
    def port(self) -> int:
        if self._runner is None:
            raise RuntimeError("the server is not running")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def wss_url(self) -> str:
        """For ``edge_tts.communicate.WSS_URL``: the client appends ``&ConnectionId=...``."""
        return f"ws://{self.host}:{self.port}{EDGE_PATH}?TrustedClientToken={TRUSTED_CLIENT_TOKEN}"

    @property
    def voice_list_url(self) -> str:
        """For ``edge_tts.voices.VOICE_LIST``: the client appends ``&Sec-MS-GEC=...``."""
        query = f"trustedclienttoken={TRUSTED_CLIENT_TOKEN}"
        return f"http://{self.host}:{self.port}{VOICE_LIST_PATH}?{query}"

    def reset(self) -> None:
        """Forget faults and counts (latency settings stay)."""
        self.faults.clear()
        self.voice_list_faults.clear()
        self.stats.reset()

    # -- running in the current loop

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get(EDGE_PATH, self._handle_synthesis)
        app.router.add_get(VOICE_LIST_PATH, self._handle_voice_list)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, self.host, self._port).start()
        self._port = int(runner.addresses[0][1])
        self._closing = asyncio.Event()
        self._runner = runner

    async def close(self) -> None:
        """Stop: cut any paced or slow stream short, close sockets, free the port."""
        if self._runner is None:
            return
        assert self._closing is not None
        self._closing.set()
        goodbye = b"server shutting down"
        await asyncio.gather(
            *(ws.close(code=WSCloseCode.GOING_AWAY, message=goodbye) for ws in self._sockets)
        )
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- running in a thread of its own

    def start_in_thread(self) -> Self:
        """Run in a daemon thread with its own loop; returns once the port is open."""
        if self._thread is not None:
            raise RuntimeError("the server is already running in a thread")
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run_thread, args=(ready, failure), name="fake-edge", daemon=True
        )
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop the thread started by ``start_in_thread`` and wait for it."""
        if self._thread is None:
            return
        assert self._thread_loop is not None and self._thread_stop is not None
        self._thread_loop.call_soon_threadsafe(self._thread_stop.set)
        self._thread.join()
        self._thread = None

    def __enter__(self) -> Self:
        return self.start_in_thread()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _run_thread(self, ready: threading.Event, failure: list[BaseException]) -> None:
        async def serve() -> None:
            self._thread_loop = asyncio.get_running_loop()
            self._thread_stop = asyncio.Event()
            try:
                await self.start()
            except BaseException as exc:  # handed to the starting thread
                failure.append(exc)
                return
            finally:
                ready.set()
            await self._thread_stop.wait()
            await self.close()

        asyncio.run(serve())

    # -- voice list

    async def _handle_voice_list(self, request: web.Request) -> web.Response:
        self.stats._voice_list()
        fault = self.voice_list_faults.take_for_connection()
        if fault is not None:
            return self._refusal(fault)
        if request.query.get("trustedclienttoken") != TRUSTED_CLIENT_TOKEN:
            return web.Response(status=403)
        return web.json_response(self.voices)

    # -- synthesis

    async def _handle_synthesis(self, request: web.Request) -> web.StreamResponse:
        fault = self.faults.take_for_connection()
        refusal = self._refusal(fault) if fault and fault.at_handshake else None
        if refusal is None and not _valid_query(request):
            refusal = web.Response(status=403)
        self.stats._connection(refused=refusal is not None)
        if refusal is not None:
            return refusal
        ws = web.WebSocketResponse(timeout=2.0)
        await ws.prepare(request)
        connection = _Connection(ws, request, request.query.get("ConnectionId", ""), fault)
        self._sockets.add(ws)
        try:
            await self._converse(connection)
        except ConnectionError:
            pass  # the client hung up while we were talking
        finally:
            self._sockets.discard(ws)
            assert self._closing is not None
            if connection.turn_open and not self._closing.is_set():
                self.stats._hang_up()
        return ws

    def _refusal(self, fault: Fault) -> web.Response:
        skew = self.clock_skew if fault is Fault.SKEWED_403 else 0.0
        return web.Response(status=_HANDSHAKE_STATUS[fault], headers={"Date": _skewed_date(skew)})

    async def _converse(self, connection: _Connection) -> None:
        async for message in connection.ws:
            if message.type != WSMsgType.TEXT:
                continue
            headers, body = parse_text_message(message.data)
            path = headers.get("Path")
            if path == "speech.config":
                connection.speech_config = body
            elif path == "ssml":
                await self._synthesize(connection, headers.get("X-RequestId", ""), body)

    async def _synthesize(self, connection: _Connection, request_id: str, body: str) -> None:
        self.stats._started()
        try:
            await self._answer(connection, request_id, body)
        finally:
            self.stats._ended()

    async def _answer(self, connection: _Connection, request_id: str, body: str) -> None:
        received = asyncio.get_running_loop().time()
        try:
            ssml = parse_ssml(body)
        except ValueError:
            await connection.ws.close(code=WSCloseCode.INVALID_TEXT, message=b"SSML is invalid")
            return
        fault = connection.take_fault() or self.faults.take_for_text(ssml.text)
        voice = self._find_voice(ssml)
        self.stats._request(self._describe(connection, ssml, voice, body, fault))
        if fault is Fault.SILENT:
            connection.turn_open = True
            return  # nothing, ever: _converse notices when the client hangs up
        if voice is None:
            message = f"Unsupported voice {ssml.voice_name}".encode()
            await connection.ws.close(code=WSCloseCode.INVALID_TEXT, message=message)
            return
        frames = Frames(request_id or uuid.uuid4().hex)
        connection.turn_open = True
        await connection.ws.send_str(frames.response())
        await connection.ws.send_str(frames.turn_start())
        audio = await self._audio(ssml.text, voice, fault)
        if not audio:
            await connection.ws.send_str(frames.turn_end())
            connection.end_turn()
            return
        if await self._play(connection, frames, audio, ssml.text, fault, received):
            self.stats._complete(ssml.text, voice)

    def _find_voice(self, ssml: Ssml) -> str | None:
        for entry in self.voices:
            if ssml.voice_name in (entry["Name"], entry["ShortName"]):
                return entry["ShortName"]
        return None

    @staticmethod
    def _describe(
        connection: _Connection, ssml: Ssml, voice: str | None, body: str, fault: Fault | None
    ) -> SynthesisRequest:
        return SynthesisRequest(
            text=ssml.text,
            voice=voice or ssml.short_voice,
            voice_name=ssml.voice_name,
            rate=ssml.rate,
            volume=ssml.volume,
            pitch=ssml.pitch,
            boundaries=boundary_kinds(connection.speech_config),
            output_format=_output_format(connection.speech_config),
            ssml=body,
            connection_id=connection.connection_id,
            fault=fault,
        )

    async def _audio(self, text: str, voice: str, fault: Fault | None) -> bytes:
        if fault is Fault.NO_AUDIO or not is_speakable(text):
            return b""
        audio = await asyncio.to_thread(self.audio_source, text, voice)
        return another_take(audio) if fault is Fault.ANOTHER_TAKE else audio

    async def _play(
        self,
        connection: _Connection,
        frames: Frames,
        audio: bytes,
        text: str,
        fault: Fault | None,
        received: float,
    ) -> bool:
        """Stream the clip with its boundaries, paced by the latency model, bent by the fault;
        True if it was sent whole."""
        pending = deque(self._boundaries(connection, text, mp3_duration(audio)))
        if fault in (Fault.DROP_MID_STREAM, Fault.CUT_SHORT):
            audio = audio[: self._partial_length(len(audio))]
        slow = fault is Fault.SLOW_FIRST_BYTE
        pace = _Pace(
            received + (self.slow_first_byte_delay if slow else self.first_byte_delay), self.speed
        )
        for start in range(0, len(audio), self.chunk_bytes):
            if not await self._pause_until(pace.due(start)):
                return False
            await _send_chunk(
                connection.ws, frames, audio[: start + self.chunk_bytes], start, pending
            )
            if fault is not None and fault.malformed:
                opcode, frame = frames.malformed(fault)
                await connection.ws.send_frame(frame, opcode)
                return False  # the client raises and hangs up; _converse sees it close
        if fault is Fault.DROP_MID_STREAM:
            connection.end_turn()  # ended by us, not by the client
            _abort(connection.request)
            return False
        if not await self._pause_until(pace.due(len(audio))):
            return False
        await connection.ws.send_bytes(frames.audio_end())
        await connection.ws.send_str(frames.turn_end())
        connection.end_turn()
        return fault is not Fault.CUT_SHORT

    def _boundaries(self, connection: _Connection, text: str, seconds: float) -> list[Boundary]:
        kinds = boundary_kinds(connection.speech_config)
        merged = [b for kind in kinds for b in boundaries(text, seconds, kind)]
        return sorted(merged, key=lambda boundary: boundary.offset)

    def _partial_length(self, length: int) -> int:
        """``partial_fraction`` of the clip, on an MP3 frame boundary, at least one frame."""
        frames = int(length * self.partial_fraction) // MP3_FRAME_BYTES
        return max(1, min(frames, length // MP3_FRAME_BYTES - 1)) * MP3_FRAME_BYTES

    async def _pause_until(self, deadline: float) -> bool:
        """Sleep until ``deadline`` (loop time); False if the server began closing meanwhile."""
        assert self._closing is not None
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining > 0:
            try:
                async with asyncio.timeout(remaining):
                    await self._closing.wait()
            except TimeoutError:
                pass
        return not self._closing.is_set()


def _valid_query(request: web.Request) -> bool:
    """Edge refuses a handshake without its token and the client's DRM parameters (403)."""
    query = request.query
    return query.get("TrustedClientToken") == TRUSTED_CLIENT_TOKEN and all(
        query.get(name) for name in ("ConnectionId", "Sec-MS-GEC", "Sec-MS-GEC-Version")
    )


@dataclass(frozen=True)
class _Pace:
    """When each byte of a clip is due: the first at ``first_byte_at``, the rest at ``speed``."""

    first_byte_at: float  # loop time
    speed: float

    def due(self, offset: int) -> float:
        return self.first_byte_at + offset / MP3_BYTES_PER_SECOND / self.speed


async def _send_chunk(
    ws: web.WebSocketResponse,
    frames: Frames,
    sent_so_far: bytes,
    start: int,
    pending: deque[Boundary],
) -> None:
    """Send ``sent_so_far[start:]``, preceded by the boundaries that begin inside it."""
    end_ticks = _ticks(mp3_duration(sent_so_far))
    while pending and pending[0].offset < end_ticks:
        await ws.send_str(frames.metadata(pending.popleft()))
    await ws.send_bytes(frames.audio(sent_so_far[start:]))


def _abort(request: web.Request) -> None:
    """Drop the TCP connection without a WebSocket close: what a network failure looks like."""
    transport = request.transport
    if transport is not None:
        transport.abort()


# --- Pointing the client at the server --------------------------------------------------------


class EdgeEndpoints(Protocol):
    """Anything with Edge's two URLs: a ``FakeEdgeServer``, or ``Endpoints`` of one elsewhere."""

    @property
    def wss_url(self) -> str: ...

    @property
    def voice_list_url(self) -> str: ...


@dataclass(frozen=True)
class Endpoints:
    """The URLs of a fake server in another process (``python -m reader.testing.fake_edge``)."""

    wss_url: str
    voice_list_url: str


_Server = TypeVar("_Server", bound=EdgeEndpoints)


@contextmanager
def patch_edge_tts(server: _Server) -> Iterator[_Server]:
    """Point the real ``edge_tts`` client at ``server``; restore everything on exit.

    Sets ``WSS_URL`` and ``VOICE_LIST`` where the client reads them (``edge_tts.communicate`` and
    ``edge_tts.voices`` import them by name), removes proxy variables from the environment (the
    client uses ``trust_env=True``), and restores the process-wide clock correction that a
    ``SKEWED_403`` leaves behind in ``edge_tts.drm.DRM``.
    """
    import edge_tts.communicate
    import edge_tts.drm
    import edge_tts.voices

    addresses = [
        (edge_tts.communicate, "WSS_URL", server.wss_url),
        (edge_tts.voices, "VOICE_LIST", server.voice_list_url),
    ]
    saved = [(module, name, getattr(module, name)) for module, name, _ in addresses]
    saved_skew = edge_tts.drm.DRM.clock_skew_seconds
    proxies = {name: os.environ.pop(name) for name in list(os.environ) if _is_proxy_var(name)}
    for module, name, value in addresses:
        setattr(module, name, value)
    try:
        yield server
    finally:
        for module, name, value in saved:
            setattr(module, name, value)
        edge_tts.drm.DRM.clock_skew_seconds = saved_skew
        os.environ.update(proxies)


def _is_proxy_var(name: str) -> bool:
    """aiohttp with ``trust_env`` reads every ``<scheme>_proxy`` variable, in either case."""
    lowered = name.lower()
    return lowered.endswith("_proxy") and lowered != "no_proxy"


# --- Standalone -------------------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m reader.testing.fake_edge",
        description="Run a fake Edge read-aloud server on loopback until interrupted.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("--first-byte-ms", type=float, default=0.0, help="default: 0")
    parser.add_argument("--speed", type=float, default=math.inf, help="x real time (default: inf)")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME[:TIMES]",
        help=f"queue a fault ({', '.join(f.value for f in Fault)}); repeatable",
    )
    return parser.parse_args(argv)


def _queue_fault(plan: FaultPlan, spec: str) -> None:
    name, _, times = spec.partition(":")
    plan.push(Fault(name.lower()), int(times or 1))


async def _serve_forever(args: argparse.Namespace) -> None:
    server = FakeEdgeServer(
        host=args.host,
        port=args.port,
        first_byte_delay=args.first_byte_ms / 1000,
        speed=args.speed,
    )
    for spec in args.fault:
        _queue_fault(server.faults, spec)
    async with server:
        sys.stdout.write(f"WSS_URL={server.wss_url}\nVOICE_LIST={server.voice_list_url}\n")
        sys.stdout.flush()
        await asyncio.Event().wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        asyncio.run(_serve_forever(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
