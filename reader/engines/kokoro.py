"""The embedded neural voice: Kokoro-82M v1.0 (int8 ONNX) on ONNX Runtime, no network.

It is the default fallback (``edge,kokoro,espeak``): when Microsoft's endpoint cannot be
reached, readers hear a neural Mandarin voice instead of espeak's. Files and their checks are
in ``reader.engines.kokoro_model``, the text front end in ``reader.engines.kokoro_g2p``.

Loading. The session (about a second and a half) is made once per process, on the engine's
worker thread: ``preload()`` starts it in the background right after the service starts (the
service answers at once), a request that comes first waits for it, and a command that never
speaks never loads it. A model that cannot be loaded (a part missing or altered) fails every
request at once with the same clear error, and the chain goes on to the next engine.

Speed. Syntheses run one at a time on the worker thread (ONNX Runtime spreads one over
``READER_KOKORO_THREADS`` cores; two at once would only fight over them). A sentence is
spoken piece by piece, and each piece's MP3 is sent as soon as it is encoded. When a listener
waits (``stream(eager=True)``) the first piece is its first clause, or first words, alone, so
the start of a cold sentence is heard after a fraction of its synthesis time; a clip made
ahead (``synthesize``, a batch) is made in as few pieces as clauses and memory allow, which is
faster (see ``kokoro_g2p``). After each piece ONNX Runtime gives back the memory it took for
it (``kokoro_model.run_options``).

Prosody (edge's scale, ``reader.types.Prosody``):

==========  ==============================================================================
 rate %      the model's ``speed``: 1 + rate/100 (+100% is twice as fast)
 volume %    gain on the samples: 1 + volume/100 (clipped at full scale)
 pitch Hz    resampling by (f0 + pitch) / f0, with ``speed`` divided by the same factor so
             the tempo stays: f0 is 220 Hz for the female voices (``zf_``), 130 Hz for the male
==========  ==============================================================================

Word boundaries. The model's graph is given a durations output (``kokoro_graph``): each word
starts and ends where the model put its phonemes, in the same shape as edge's boundaries.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hashlib
import importlib.metadata
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from reader.audio import ENCODER_DELAY_MS, FRAME_BYTES, FRAME_MS, SAMPLE_RATE, pcm_to_mp3
from reader.engines.base import Engine
from reader.engines.kokoro_g2p import Frontend, Piece, Word, load_readings
from reader.engines.kokoro_graph import DURATIONS, FRAME_SAMPLES
from reader.engines.kokoro_model import (
    MODEL_NAME,
    VoiceFolder,
    part_paths,
    run_options,
    session,
)
from reader.errors import (
    BadAudio,
    ConfigError,
    EngineError,
    EngineRejected,
    EngineUnavailable,
    ReaderError,
)
from reader.types import Audio, Boundary, Prosody, Voice
from reader.words import load_words

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Samples = npt.NDArray[np.float32]

#: Our own part of ``revision``: bump it when this adapter changes how clips sound.
ADAPTER_REVISION = "2"
#: Mean pitch of the voices, for turning a pitch shift in hertz into a ratio.
FEMALE_F0_HZ, MALE_F0_HZ = 220.0, 130.0
#: The model's speed range that still sounds like speech.
SPEED_RANGE = (0.5, 2.0)
#: A sample louder than this is speech (the model's silences stay far below it).
SPEECH_LEVEL = 0.01
#: The model pads every input with about 0.4 s of silence before and 0.8 s after: cut to
#: this much before, and after, to a pause that fits how the piece ends.
LEAD_MS = 80.0  # a soft onset (二 er4) sits under the speech level: keep it
PAUSE_AFTER_MS = {"clause": 180.0, "sentence": 300.0, "words": 20.0}
#: Inputs run once at load, so that the first request does not pay ONNX Runtime's first-run
#: cost (about a second per new input size).
WARM_UP = ("中文", "今天天气很好，我们一起去公园散步吧。")

#: Readings pypinyin must not guess, beside the voices (``voices/kokoro/readings-zh.tsv``).
READINGS_FILE = "readings-zh.tsv"

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class SaidPiece:
    """One piece as said: its samples, and each word's (text, start ms, duration ms)."""

    samples: Samples
    words: tuple[tuple[str, float, float], ...]


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a synthesis needs, loaded once."""

    session: Any  # onnxruntime.InferenceSession
    run_options: Any  # onnxruntime.RunOptions
    frontend: Frontend


def speed_and_ratio(prosody: Prosody, voice: str) -> tuple[float, float]:
    """The model's ``speed`` and the resampling ratio for ``prosody`` (module docstring)."""
    f0 = MALE_F0_HZ if voice.startswith("zm_") else FEMALE_F0_HZ
    ratio = max(f0 + prosody.pitch, 1.0) / f0
    low, high = SPEED_RANGE
    return min(max((1 + prosody.rate / 100) / ratio, low), high), ratio


class KokoroEngine(Engine):
    """Kokoro-82M: a neural Mandarin voice that needs no network."""

    name = "kokoro"
    level = "full"  # numbers, dates and symbols come spelled out; it reads only words

    def __init__(self, voices_dir: Path, threads: int = 0,
                 model_parts: Sequence[Path] | None = None,
                 cache_dir: Path | None = None) -> None:
        """``voices_dir`` holds ``kokoro/`` (voices, vocabulary); ``model_parts`` replaces the
        installed packages' parts (tests); ``cache_dir`` keeps jieba's dictionary cache."""
        self.voices = VoiceFolder(voices_dir / "kokoro")
        self.threads = threads
        self._model_parts = tuple(model_parts) if model_parts is not None else None
        self._cache_dir = cache_dir
        self.readings = self.voices.path / READINGS_FILE
        self.revision = (f"{ADAPTER_REVISION}+{MODEL_NAME}+pypinyin-{_version('pypinyin')}"
                         f"+readings-{_digest(self.readings)}")
        self._worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kokoro")
        self._loading: concurrent.futures.Future[Loaded] | None = None
        self._styles: dict[str, Samples] = {}
        self._closed = False

    # ------------------------------------------------------------ loading

    def preload(self) -> None:
        """Start loading the model in the background (idempotent, returns at once)."""
        self._load_started()

    def state(self) -> str:
        """"not loaded", "loading", "ready", or "unavailable: why" (a broken install)."""
        if self._closed:
            return "closed"
        if self._loading is None:
            return "not loaded"
        if not self._loading.done():
            return "loading"
        if self._loading.cancelled():
            return "unavailable: loading was cancelled"
        problem = self._loading.exception()
        return f"unavailable: {problem}" if problem else "ready"

    def _load_started(self) -> concurrent.futures.Future[Loaded]:
        if self._closed:
            raise EngineUnavailable("the kokoro engine is closed", self.name)
        if self._loading is None:
            self._loading = self._worker.submit(self._load)
        return self._loading

    def _load(self) -> Loaded:
        paths = self._model_parts if self._model_parts is not None else part_paths()
        folder = self._cache_dir / "kokoro" if self._cache_dir is not None else None
        loaded_session = session(paths, self.threads, folder)
        readings = load_readings(self.readings) if self.readings.is_file() else {}
        frontend = Frontend(self.voices.vocabulary(), _word_splitter(self._cache_dir, readings))
        loaded = Loaded(loaded_session, run_options(), frontend)
        self._warm_up(loaded)
        return loaded

    def _warm_up(self, loaded: Loaded) -> None:
        """Run ``WARM_UP`` once (it also loads pypinyin's dictionaries), with the first voice
        that is intact: one altered voice file must not make the others unavailable."""
        for voice in self.voices.names():
            try:
                style = self._style(voice)
            except EngineUnavailable:
                continue
            for text in WARM_UP:
                for piece in loaded.frontend.pieces(text):
                    self._speak_piece(loaded, piece, style, 1.0, 1.0, 1.0)
            return

    async def loaded(self) -> Loaded:
        """The model, waiting for the load (started now if nobody started it). A waiter that
        is cancelled leaves the load alone: others wait for the same one."""
        try:
            return await asyncio.shield(asyncio.wrap_future(self._load_started()))
        except EngineError:
            raise
        except (ReaderError, OSError, ValueError, RuntimeError) as exc:  # a bad readings file
            raise EngineUnavailable(f"kokoro could not load: {exc}", self.name) from exc

    # ------------------------------------------------------------ speaking

    async def synthesize(self, text: str, voice: Voice, prosody: Prosody) -> Audio:
        chunks: list[bytes] = []
        boundaries: list[Boundary] = []
        async for item in self.stream(text, voice, prosody, eager=False):
            if isinstance(item, Boundary):
                boundaries.append(item)
            else:
                chunks.append(item)
        data = b"".join(chunks)
        duration = len(data) / FRAME_BYTES * FRAME_MS
        return Audio(data, duration, self.name, self._kokoro_voice(voice), tuple(boundaries))

    async def stream(self, text: str, voice: Voice, prosody: Prosody, *,
                     eager: bool = True) -> AsyncIterator[bytes | Boundary]:
        kokoro_voice = self._kokoro_voice(voice)
        model = await self.loaded()
        style = await self._on_worker(self._style, kokoro_voice)
        # On the worker: espeak-ng (English words) may be busy with the espeak engine.
        pieces = await self._on_worker(model.frontend.pieces, text, eager)  # or EngineRejected
        speed, ratio = speed_and_ratio(prosody, kokoro_voice)
        gain = 1 + prosody.volume / 100
        made_ms = 0.0
        for piece in pieces:
            said = await self._on_worker(self._speak_piece, model, piece, style, speed,
                                         ratio, gain)
            if not len(said.samples):
                continue  # nothing the model could say in this piece (marks only)
            data = await self._encode(said.samples)
            for word, start, duration in said.words:
                yield Boundary("word", word, made_ms + ENCODER_DELAY_MS + start, duration)
            yield data
            made_ms += len(data) / FRAME_BYTES * FRAME_MS
        yield Boundary("sentence", text.strip(), ENCODER_DELAY_MS, made_ms - ENCODER_DELAY_MS)

    def _kokoro_voice(self, voice: Voice) -> str:
        name = self.voice_name(voice)
        if not name:
            raise EngineRejected(f"voice {voice.id!r} has no kokoro voice", self.name)
        return name

    def _style(self, voice: str) -> Samples:
        if (found := self._styles.get(voice)) is None:
            found = self._styles[voice] = self.voices.style(voice)
        return found

    def _speak_piece(self, model: Loaded, piece: Piece, style: Samples, speed: float,
                     ratio: float, gain: float) -> SaidPiece:
        """One piece's samples at 24 kHz and its words' times (on the worker thread)."""
        import numpy as np

        tokens, words = model.frontend.encoded(piece)
        if not tokens:
            return SaidPiece(np.zeros(0, dtype=np.float32), ())
        inputs = {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),  # 0 pads both ends
            "style": style[min(len(tokens), len(style) - 1)].reshape(1, -1),
            "speed": np.array([speed], dtype=np.float32),
        }
        try:
            audio, durations = model.session.run(["audio", DURATIONS], inputs,
                                                 model.run_options)
        except Exception as exc:  # onnxruntime's own error classes
            raise EngineUnavailable(f"kokoro failed to synthesise: {exc}", self.name) from exc
        samples, cut = _trimmed(audio.astype(np.float32).ravel(), piece.ending)
        times = _word_times(words, durations.ravel(), (cut, cut + len(samples)), ratio)
        return SaidPiece(_shaped(samples, ratio, gain), times)

    async def _encode(self, samples: Samples) -> bytes:
        import numpy as np

        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        try:
            return await asyncio.to_thread(pcm_to_mp3, pcm, SAMPLE_RATE)
        except ConfigError as exc:
            raise EngineUnavailable(f"kokoro cannot encode MP3: {exc}", self.name) from exc
        except BadAudio as exc:
            raise BadAudio(str(exc), self.name) from exc

    async def _on_worker(self, work: Callable[..., _T], *args: object) -> _T:
        if self._closed:
            raise EngineUnavailable("the kokoro engine is closed", self.name)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._worker, functools.partial(work, *args))
        except ReaderError:
            raise
        except (OSError, ValueError, RuntimeError) as exc:
            raise EngineUnavailable(f"kokoro failed: {exc}", self.name) from exc

    async def aclose(self) -> None:
        """Let the piece being made finish, then stop the worker thread."""
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self._worker.shutdown, True, cancel_futures=True)


def _trimmed(samples: Samples, ending: str) -> tuple[Samples, int]:
    """``samples`` with the silence cut to ``LEAD_MS`` before the speech and the pause that
    suits ``ending`` after it, and how many samples were cut at the start."""
    import numpy as np

    loud = np.flatnonzero(np.abs(samples) > SPEECH_LEVEL)
    if not len(loud):
        return samples, 0
    start = max(int(loud[0] - LEAD_MS * SAMPLE_RATE / 1000), 0)
    stop = int(loud[-1] + PAUSE_AFTER_MS[ending] * SAMPLE_RATE / 1000)
    tail = max(stop - len(samples), 0)  # the model's own pause was shorter: add silence
    return np.concatenate([samples[start:stop], np.zeros(tail, dtype=np.float32)]), start


def _shaped(samples: Samples, ratio: float, gain: float) -> Samples:
    """``samples`` resampled by ``ratio`` (pitch) and scaled by ``gain`` (volume)."""
    import numpy as np

    if ratio != 1.0 and len(samples) > 1:
        positions = np.arange(0, len(samples) - 1, ratio, dtype=np.float64)
        samples = np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)
    if gain != 1.0:
        samples = np.clip(samples * gain, -1.0, 1.0).astype(np.float32)
    return samples


def _word_times(words: Iterable[tuple[Word, int, int]], durations: npt.NDArray[np.int64],
                kept: tuple[int, int], ratio: float) -> tuple[tuple[str, float, float], ...]:
    """Each spoken word's (text, start ms, duration ms) in the trimmed, resampled piece, from
    the model's frames per token (``words`` are token spans; position 0 is the leading pad;
    ``kept`` is the span of the model's samples the piece kept)."""
    import numpy as np

    ends = np.cumsum(durations) * FRAME_SAMPLES
    first_kept, last_kept = kept
    per_sample = 1000 / SAMPLE_RATE / ratio  # ms
    times = []
    for word, first, last in words:
        if not word.spoken or first == last:
            continue
        # ends[first] is where token ``first`` starts: the position before it ends there.
        start = min(max(int(ends[first]), first_kept), last_kept) - first_kept
        stop = min(int(ends[last]), last_kept) - first_kept
        times.append((word.text, start * per_sample, max(stop - start, 0) * per_sample))
    return tuple(times)


def _word_splitter(cache_dir: Path | None, known: Iterable[str]) -> Callable[[str], list[str]]:
    """Word boundaries for Han text: jieba (misaki's v1.0 front end puts a space between
    words, and the model was trained on that), with the ``known`` words kept whole (the
    readings table's: 千行百业 must reach pypinyin as one word)."""
    words = load_words(cache_dir or Path(tempfile.gettempdir()), extra_words=known)
    return lambda text: [token.word for token in words.tokens(text)]


def _digest(path: Path) -> str:
    """A short digest of a data file, for the revision ("none" when it is absent)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:8]
    except OSError:
        return "none"


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "missing"
