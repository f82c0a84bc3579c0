"""The offline engine: libespeak-ng in-process, through ctypes.

The library and its data (Mandarin ``cmn``, Cantonese ``yue``, English and more) come from the
PyPI package ``espeakng-loader``. libespeak-ng keeps its state in globals and is not
thread-safe, so every call into it runs on one dedicated worker thread per engine, and a lock
per loaded library serialises engines that share it. The library is initialised lazily, on
that thread, at the first synthesis. espeak produces 22,050 Hz PCM; ``reader.audio`` encodes
it to the project's MP3 format with ffmpeg, off the event loop too.

Prosody (edge's scale, see ``reader.types.Prosody``) maps onto espeak's parameters:

==========  ==========================  =====================================================
 Prosody     espeak parameter            mapping
==========  ==========================  =====================================================
 rate %      espeakRATE (words/min)      175 x (1 + rate/100), clamped to 80..450:
                                         0% is espeak's normal 175, +100% is 350, -50% is 88
 volume %    espeakVOLUME (0..200)       100 x (1 + volume/100): 0% is espeak's normal 100
 pitch Hz    espeakPITCH (0..100)        50 + pitch, clamped: one step per hertz, so edge's
                                         -50..+50 Hz spans espeak's whole scale around 50
==========  ==========================  =====================================================

Word and sentence boundaries come from espeak's events; their character positions index the
text the engine was given, and their offsets are shifted by the MP3 encoder's delay so they
line up with the clip as a player decodes it.
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
import os
import threading
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from reader.audio import ENCODER_DELAY_MS, pcm_to_mp3, probe_mp3
from reader.engines.base import Engine
from reader.errors import BadAudio, ConfigError, EngineRejected, EngineUnavailable, ReaderError
from reader.types import Audio, Boundary, Prosody, Voice

#: Our own part of ``revision``: bump it when this adapter changes how clips sound.
ADAPTER_REVISION = "1"

# ---------------------------------------------------------------- speak_lib.h (API revision 12)

AUDIO_OUTPUT_SYNCHRONOUS = 2  # espeak_AUDIO_OUTPUT: return audio through the callback, block
espeakINITIALIZE_DONT_EXIT = 0x8000  # without it, missing data makes the library call exit()
BUFFER_MS = 200  # espeak_Initialize buflength: audio per callback (0 would mean 60 ms)
espeakCHARS_UTF8 = 1  # espeak_Synth flags: the text is UTF-8 (no espeakSSML, no ENDPAUSE)
POS_CHARACTER = 1  # espeak_POSITION_TYPE: "position" counts characters
EE_OK = 0  # espeak_ERROR: success
EE_NOT_FOUND = 2  # espeak_ERROR: espeak_SetVoiceByName knows no such voice
espeakEVENT_LIST_TERMINATED = 0  # espeak_EVENT_TYPE: ends each callback's event list
espeakEVENT_WORD = 1  # start of a word
espeakEVENT_SENTENCE = 2  # start of a sentence
espeakRATE = 1  # espeak_PARAMETER: speed in words per minute
espeakVOLUME = 2  # espeak_PARAMETER: 0 = silent, 100 = normal, up to 200
espeakPITCH = 3  # espeak_PARAMETER: base pitch 0..100, 50 = the voice's normal
espeakRATE_MINIMUM = 80  # words per minute
espeakRATE_MAXIMUM = 450
espeakRATE_NORMAL = 175
VOLUME_NORMAL, VOLUME_MAXIMUM = 100, 200  # espeakVOLUME's normal and top
PITCH_NORMAL, PITCH_MAXIMUM = 50, 100  # espeakPITCH's normal and top
#: espeak_TextToPhonemes phonememode: IPA (bit 1), with a tie (bit 7) given in bits 8-23.
PHONEMES_IPA_TIED = 0x02 | 0x80 | ord("^") << 8
PHONEME_TABLE = "phontab"  # a file every espeak-ng-data folder has; its absence means no data


class _EventId(ctypes.Union):
    """espeak_EVENT.id: a number for WORD/SENTENCE, a name for MARK/PLAY, a phoneme string."""

    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p),
                ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    """espeak_EVENT, field for field."""

    _fields_ = [
        ("type", ctypes.c_int),  # espeak_EVENT_TYPE
        ("unique_identifier", ctypes.c_uint),  # message id from espeak_Synth
        ("text_position", ctypes.c_int),  # characters from the start of the text, from 1
        ("length", ctypes.c_int),  # word length in characters (WORD events)
        ("audio_position", ctypes.c_int),  # ms into the generated audio
        ("sample", ctypes.c_int),  # internal
        ("user_data", ctypes.c_void_p),  # what espeak_Synth was given
        ("id", _EventId),
    ]


#: t_espeak_callback: int SynthCallback(short *wav, int numsamples, espeak_EVENT *events);
#: returns 0 to continue synthesis.
_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))

# ---------------------------------------------------------------- prosody


def espeak_rate(percent: int) -> int:
    """Words per minute for a rate in percent (see the module docstring)."""
    wpm = round(espeakRATE_NORMAL * (1 + percent / 100))
    return min(max(wpm, espeakRATE_MINIMUM), espeakRATE_MAXIMUM)


def espeak_volume(percent: int) -> int:
    """espeakVOLUME for a volume in percent."""
    return min(max(round(VOLUME_NORMAL * (1 + percent / 100)), 0), VOLUME_MAXIMUM)


def espeak_pitch(hertz: int) -> int:
    """espeakPITCH for a pitch shift in hertz."""
    return min(max(PITCH_NORMAL + hertz, 0), PITCH_MAXIMUM)


# ---------------------------------------------------------------- what espeak produced


@dataclass(frozen=True, slots=True)
class Mark:
    """One WORD or SENTENCE event."""

    kind: int  # espeakEVENT_WORD or espeakEVENT_SENTENCE
    position: int  # character position in the text, counted from 1 (espeak's convention)
    length: int  # characters espeak says the word covers (0 for sentences)
    audio_ms: int  # ms into the PCM


@dataclass(frozen=True, slots=True)
class Speech:
    """espeak's output for one text: 16-bit mono PCM and its events."""

    pcm: bytes  # signed 16-bit little-endian samples
    sample_rate: int  # Hz (22,050 for espeak-ng)
    marks: tuple[Mark, ...]  # WORD and SENTENCE events, in the order spoken

    @property
    def duration_ms(self) -> float:
        return len(self.pcm) / 2 * 1000 / self.sample_rate

    def has_words(self) -> bool:
        """Whether espeak spoke anything (punctuation alone gives no WORD event)."""
        return any(mark.kind == espeakEVENT_WORD for mark in self.marks)


def _is_edge_character(character: str) -> bool:
    """Whitespace, punctuation and control characters: trimmed from a word's text."""
    return unicodedata.category(character)[0] in "PZC"


def _word_marks(marks: Sequence[Mark]) -> list[Mark]:
    """WORD marks that start a written word.

    espeak reads some written words as several spoken ones (a number, "2025", becomes
    "two thousand ... five"); their marks point inside the first one's extent and are merged
    into it. In Chinese, ``length`` is 1 even for a two-character word, so a word runs to the
    next word's start, not to its ``length``.
    """
    starts: list[Mark] = []
    reach = 0  # one past the last character the current word claims
    for mark in marks:
        if mark.kind != espeakEVENT_WORD or (starts and mark.position < reach):
            continue
        starts.append(mark)
        reach = mark.position + max(mark.length, 1)
    return starts


def _spans(text: str, marks: Sequence[Mark], end_ms: float, shift_ms: float,
           kind: str) -> list[Boundary]:
    """Boundaries for ``marks``: each runs to the next one's start, in text and in time."""
    boundaries = []
    for index, mark in enumerate(marks):
        following = marks[index + 1] if index + 1 < len(marks) else None
        stop = following.position - 1 if following else len(text)
        words = text[mark.position - 1:stop]
        spoken = words.strip() if kind == "sentence" else _trim(words)
        until = following.audio_ms if following else end_ms
        if spoken:
            boundaries.append(Boundary(kind, spoken, mark.audio_ms + shift_ms,
                                       max(until - mark.audio_ms, 0.0)))
    return boundaries


def _trim(words: str) -> str:
    """A word's text without the spaces and punctuation around it."""
    start, stop = 0, len(words)
    while start < stop and _is_edge_character(words[start]):
        start += 1
    while stop > start and _is_edge_character(words[stop - 1]):
        stop -= 1
    return words[start:stop]


def boundaries(text: str, speech: Speech,
               shift_ms: float = ENCODER_DELAY_MS) -> tuple[Boundary, ...]:
    """Sentence and word boundaries of ``speech``, offsets shifted by ``shift_ms``."""
    sentences = [mark for mark in speech.marks if mark.kind == espeakEVENT_SENTENCE]
    found = (_spans(text, sentences, speech.duration_ms, shift_ms, "sentence")
             + _spans(text, _word_marks(speech.marks), speech.duration_ms, shift_ms, "word"))
    return tuple(sorted(found, key=lambda b: (b.offset_ms, b.kind != "sentence")))


# ---------------------------------------------------------------- the library


class _Collector:
    """Gathers one synthesis's PCM and marks from the callback."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.marks: list[Mark] = []

    def take(self, wav: ctypes._Pointer[ctypes.c_short], samples: int,
             events: ctypes._Pointer[_Event]) -> None:
        if wav and samples > 0:
            self.chunks.append(ctypes.string_at(wav, samples * 2))  # 2 bytes per sample
        index = 0
        while events[index].type != espeakEVENT_LIST_TERMINATED:
            event = events[index]
            if event.type in (espeakEVENT_WORD, espeakEVENT_SENTENCE):
                self.marks.append(Mark(event.type, event.text_position, event.length,
                                       event.audio_position))
            index += 1


class Libespeak:
    """One loaded libespeak-ng: its functions, and the lock and state every user shares."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()  # held for every call that touches the library's globals
        self._lib = ctypes.CDLL(path)  # OSError if missing or not a library
        self._declare_functions()
        self._data_path: str | None = None  # what it was initialised with, if it was
        self._sample_rate = 0
        self._collector: _Collector | None = None
        self._callback = _SynthCallback(self._on_synth)  # kept alive as long as the library

    def _declare_functions(self) -> None:
        lib = self._lib
        lib.espeak_Info.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p,
                                          ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint,
                                     ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                     ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.argtypes = []
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_Terminate.argtypes = []
        lib.espeak_Terminate.restype = ctypes.c_int
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int,
                                              ctypes.c_int]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p

    def version(self) -> str:
        """The library's version ("1.52.0"); safe before initialisation."""
        with self.lock:
            raw: bytes = self._lib.espeak_Info(None)
        return raw.decode("ascii", "replace")

    def _on_synth(self, wav: ctypes._Pointer[ctypes.c_short], samples: int,
                  events: ctypes._Pointer[_Event]) -> int:
        if self._collector is not None:
            self._collector.take(wav, samples, events)
        return 0  # continue synthesis

    def _initialise(self, data_path: str) -> None:
        """Load ``data_path`` into the library (again, if it held other data)."""
        if self._data_path == data_path:
            return
        if not Path(data_path, PHONEME_TABLE).is_file():
            raise EngineUnavailable(
                f"espeak-ng data not found in {data_path} (no {PHONEME_TABLE});"
                " reinstall espeakng-loader or pass EspeakEngine(data_path=...)", "espeak")
        rate = self._lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, BUFFER_MS,
                                           os.fsencode(data_path), espeakINITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise EngineUnavailable(f"libespeak-ng failed to initialise from {data_path}",
                                    "espeak")
        self._sample_rate, self._data_path = rate, data_path
        self._lib.espeak_SetSynthCallback(self._callback)

    def speak(self, text: str, voice: str, settings: tuple[int, int, int],
              data_path: str) -> Speech:
        """Synthesise ``text`` with ``voice`` and (rate, volume, pitch); blocks."""
        with self.lock:
            self._initialise(data_path)
            self._select_voice(voice)
            for parameter, value in zip((espeakRATE, espeakVOLUME, espeakPITCH), settings,
                                        strict=True):
                self._lib.espeak_SetParameter(parameter, value, 0)  # 0: absolute value
            return self._synthesise(text)

    def _select_voice(self, voice: str) -> None:
        result = self._lib.espeak_SetVoiceByName(voice.encode("utf-8"))
        if result == EE_NOT_FOUND:
            raise EngineRejected(f"espeak has no voice named {voice!r}", "espeak")
        if result != EE_OK:
            raise EngineUnavailable(f"espeak could not load voice {voice!r} (error {result})",
                                    "espeak")

    def _synthesise(self, text: str) -> Speech:
        encoded = text.replace("\0", " ").encode("utf-8")  # NUL would end the C string early
        self._collector = collector = _Collector()
        try:
            result = self._lib.espeak_Synth(encoded, len(encoded) + 1, 0, POS_CHARACTER, 0,
                                            espeakCHARS_UTF8, None, None)
            self._lib.espeak_Synchronize()
        finally:
            self._collector = None
        if result != EE_OK:
            raise EngineUnavailable(f"espeak_Synth failed (error {result})", "espeak")
        return Speech(b"".join(collector.chunks), self._sample_rate, tuple(collector.marks))

    def phonemes(self, text: str, voice: str, data_path: str) -> str:
        """``text``'s phonemes in IPA as ``voice`` would say them, a tie (``^``) inside
        multi-letter phonemes ("d^ʒ"), clauses separated by spaces; blocks."""
        with self.lock:
            self._initialise(data_path)
            self._select_voice(voice)
            source = ctypes.create_string_buffer(text.replace("\0", " ").encode("utf-8"))
            position = ctypes.c_void_p(ctypes.addressof(source))
            clauses = []
            while position.value:  # one clause per call; the library moves the pointer on
                found: bytes | None = self._lib.espeak_TextToPhonemes(
                    ctypes.byref(position), espeakCHARS_UTF8, PHONEMES_IPA_TIED)
                clauses.append((found or b"").decode("utf-8", "replace"))
            return " ".join(c for c in clauses if c)

    def terminate(self) -> None:
        """Free the library's data; the next ``speak`` initialises it again."""
        with self.lock:
            if self._data_path is not None:
                self._lib.espeak_Terminate()
                self._data_path = None


@functools.cache
def open_library(path: str) -> Libespeak:
    """The process's one ``Libespeak`` for ``path`` (a library is loaded once per process)."""
    return Libespeak(path)


def english_phonemes(text: str) -> str:
    """IPA for English ``text`` (American), from the library espeakng-loader ships;
    ``EngineUnavailable`` if it cannot be loaded."""
    try:
        library, data = _loader_paths()
        return open_library(os.path.realpath(library)).phonemes(text, "en-us", data)
    except (ImportError, RuntimeError, OSError) as exc:
        raise EngineUnavailable(f"espeak-ng is not usable for English words: {exc}",
                                "espeak") from exc


def _loader_paths() -> tuple[str, str]:
    """The library and data folder shipped by ``espeakng-loader``."""
    import espeakng_loader

    library: str = espeakng_loader.get_library_path()
    data: str = espeakng_loader.get_data_path()  # RuntimeError if the folder is missing
    return library, data


# ---------------------------------------------------------------- the engine

_T = TypeVar("_T")


class EspeakEngine(Engine):
    """Offline speech with libespeak-ng: robotic, but always there."""

    name = "espeak"

    def __init__(self, library_path: str | os.PathLike[str] | None = None,
                 data_path: str | os.PathLike[str] | None = None) -> None:
        """Load the library (not its data) now; problems surface as ``EngineUnavailable``
        from ``synthesize``, so a machine without espeak still starts."""
        self._library: Libespeak | None = None
        self._problem: str | None = None
        self.library_path, self.data_path = self._resolve_paths(library_path, data_path)
        if self._problem is None:
            self._load()
        version = self._library.version() if self._library else "unavailable"
        self.revision = f"{ADAPTER_REVISION}+libespeak-ng-{version}"
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="espeak")
        self._closed = False

    def _resolve_paths(self, library_path: str | os.PathLike[str] | None,
                       data_path: str | os.PathLike[str] | None) -> tuple[str, str]:
        if library_path is not None and data_path is not None:
            return os.fspath(library_path), os.fspath(data_path)
        try:
            default_library, default_data = _loader_paths()
        except (ImportError, RuntimeError) as exc:
            self._problem = f"espeakng-loader is not usable ({exc}); pip install espeakng-loader"
            default_library = default_data = ""
        return (os.fspath(library_path) if library_path is not None else default_library,
                os.fspath(data_path) if data_path is not None else default_data)

    def _load(self) -> None:
        try:
            self._library = open_library(os.path.realpath(self.library_path))
        except OSError as exc:
            self._problem = f"libespeak-ng could not be loaded from {self.library_path}: {exc}"

    async def synthesize(self, text: str, voice: Voice, prosody: Prosody) -> Audio:
        espeak_voice = self._espeak_voice(voice)
        if not text.strip():
            raise EngineRejected("espeak was given no text to speak", self.name)
        speech = await self.speak_pcm(text, espeak_voice, prosody)
        if not speech.has_words():
            raise EngineRejected(f"espeak found nothing to speak in {text!r}", self.name)
        data = await self._encode(speech)
        try:
            info = probe_mp3(data)
        except BadAudio as exc:
            raise BadAudio(f"espeak's encoded clip is invalid: {exc}", self.name) from exc
        return Audio(data, info.duration_ms, self.name, espeak_voice, boundaries(text, speech))

    async def speak_pcm(self, text: str, espeak_voice: str, prosody: Prosody) -> Speech:
        """espeak's raw output for ``text``, made on the worker thread (no MP3 encoding)."""
        settings = (espeak_rate(prosody.rate), espeak_volume(prosody.volume),
                    espeak_pitch(prosody.pitch))
        library = self._usable_library()
        return await self._on_worker(library.speak, text, espeak_voice, settings, self.data_path)

    def _espeak_voice(self, voice: Voice) -> str:
        espeak_voice = self.voice_name(voice)
        if not espeak_voice:
            raise EngineRejected(f"voice {voice.id!r} has no espeak voice", self.name)
        return espeak_voice

    def _usable_library(self) -> Libespeak:
        if self._closed:
            raise EngineUnavailable("the espeak engine is closed", self.name)
        if self._library is None:
            raise EngineUnavailable(self._problem or "libespeak-ng is not loaded", self.name)
        return self._library

    async def _on_worker(self, work: Callable[..., _T], *args: object) -> _T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._worker, functools.partial(work, *args))
        except ReaderError:
            raise
        except (OSError, ValueError, RuntimeError) as exc:  # ctypes and executor failures
            raise EngineUnavailable(f"espeak failed: {exc}", self.name) from exc

    async def _encode(self, speech: Speech) -> bytes:
        """MP3 in the project format, encoded off the event loop (ffmpeg runs in parallel
        with the next synthesis on the worker)."""
        try:
            return await asyncio.to_thread(pcm_to_mp3, speech.pcm, speech.sample_rate)
        except ConfigError as exc:
            raise EngineUnavailable(f"espeak cannot encode MP3: {exc}", self.name) from exc
        except BadAudio as exc:
            raise BadAudio(str(exc), self.name) from exc

    async def aclose(self) -> None:
        """Finish queued work, free the library's data, and stop the worker thread."""
        if self._closed:
            return
        self._closed = True
        if self._library is not None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._worker, self._library.terminate)
        self._worker.shutdown(wait=True)
