"""MP3 in the project's one format: probing, encoding, decoding, silence and joining.

Every clip has edge-tts's format: MPEG-2 Layer III, 24 kHz, mono, 48 kbit/s CBR, with no ID3
tag and no Xing/Info header. At that rate every frame is exactly 144 bytes and 24 ms long, so
clips join byte for byte and ``duration = bytes * 8 / 48000`` seconds.

ffmpeg comes from the PyPI package ``imageio-ffmpeg`` (there is no ffprobe beside it, so every
call names its formats explicitly). This is the only module that imports pydub; the hot path
(``pcm_to_mp3``) pipes straight through one ffmpeg process instead, because pydub's export
goes through temporary files.
"""

from __future__ import annotations

import functools
import io
import subprocess
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from reader.errors import BadAudio, ConfigError

# ---------------------------------------------------------------- the project format

SAMPLE_RATE = 24_000  # Hz, as edge-tts's "audio-24khz-48kbitrate-mono-mp3"
CHANNELS = 1  # mono
BITRATE_KBPS = 48  # constant bitrate
SAMPLES_PER_FRAME = 576  # MPEG-2 Layer III frames hold 576 samples (MPEG-1 ones 1152)
FRAME_MS = SAMPLES_PER_FRAME * 1000 / SAMPLE_RATE  # 24 ms
FRAME_BYTES = 72 * BITRATE_KBPS * 1000 // SAMPLE_RATE  # 144: MPEG-2 L3 length, never padded
#: Audio an MP3 decoder plays before the first encoded sample: LAME's encoder delay (576
#: samples) plus the decoder's (529), measured at 1105 samples. With no Xing/LAME header
#: nothing tells a player to skip it, so word timings from the PCM shift by this much.
ENCODER_DELAY_MS = 1105 * 1000 / SAMPLE_RATE  # about 46 ms

# ---------------------------------------------------------------- MPEG audio frame headers

_SYNC = 0xFF  # first header byte: the top 8 of the 11 sync bits
_ID3V2_MAGIC = b"ID3"  # an ID3v2 tag starts the file with these bytes
_ID3V2_HEADER_BYTES = 10  # "ID3", version (2), flags (1), syncsafe size (4)
_ID3V2_FOOTER_FLAG = 0x10  # flags bit 4: a 10-byte footer follows the tag
_ID3V1_MAGIC = b"TAG"  # an ID3v1 tag is the file's last 128 bytes, starting "TAG"
_ID3V1_BYTES = 128
_INFO_TAGS = (b"Xing", b"Info")  # the LAME/Xing header frame (VBR and CBR flavours)
_MONO = 3  # channel-mode bits (byte 3, bits 7-6): 3 is single channel

# Version bits (byte 1, bits 4-3) -> name; 1 is reserved.
_VERSIONS = {3: "1", 2: "2", 0: "2.5"}
# Layer bits (byte 1, bits 2-1) -> layer number; 0 is reserved.
_LAYERS = {3: 1, 2: 2, 1: 3}
# Bitrate index (byte 2, bits 7-4) -> kbit/s, per (version family, layer). Index 0 is "free
# format" (unsupported here) and 15 is invalid, so neither is listed.
_BITRATES = {
    ("1", 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    ("1", 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    ("1", 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    ("2", 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    ("2", 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    ("2", 3): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
# Sample-rate index (byte 2, bits 3-2) -> Hz, per version; 3 is reserved.
_SAMPLE_RATES = {
    "1": (44_100, 48_000, 32_000),
    "2": (22_050, 24_000, 16_000),
    "2.5": (11_025, 12_000, 8_000),
}


@dataclass(frozen=True, slots=True)
class _FrameKind:
    """What header bytes 1 and 2 say about a frame."""

    length: int  # bytes, header and padding included
    samples: int  # samples per channel
    sample_rate: int  # Hz
    bitrate_kbps: int
    side_info_offset: int  # where a Xing/Info tag would start, for mono (header + side info)


def _frame_kind(version: str, layer: int, protected: bool, bitrate: int, rate: int,
                padded: bool) -> _FrameKind:
    """Length and sample count of one frame (ISO 11172-3 and 13818-3 formulas)."""
    bits_per_second = bitrate * 1000
    if layer == 1:
        # 384 samples of 32-bit slots: 12 * bitrate / rate slots, padding adds one slot.
        length = (12 * bits_per_second // rate + padded) * 4
        samples = 384
    elif layer == 2 or version == "1":
        # 1152 samples of 8-bit slots: 1152 / 8 = 144 bytes per bit/s per Hz.
        length = 144 * bits_per_second // rate + padded
        samples = 1152
    else:
        # MPEG-2/2.5 Layer III halves the frame: 576 samples, 72 bytes per bit/s per Hz.
        length = 72 * bits_per_second // rate + padded
        samples = 576
    # Mono side information is 17 bytes in MPEG-1 and 9 in MPEG-2/2.5; a CRC adds 2.
    side_info = 17 if version == "1" else 9
    return _FrameKind(length, samples, rate, bitrate, 4 + side_info + 2 * protected)


def _build_frame_table() -> dict[int, _FrameKind]:
    """Every valid (header byte 1, header byte 2) pair, keyed as ``byte1 << 8 | byte2``."""
    table: dict[int, _FrameKind] = {}
    for byte1 in range(0xE0, 0x100):  # the top three bits are the rest of the sync word
        version = _VERSIONS.get(byte1 >> 3 & 0b11)
        layer = _LAYERS.get(byte1 >> 1 & 0b11)
        if version is None or layer is None:
            continue
        family = "1" if version == "1" else "2"  # MPEG-2.5 uses MPEG-2's bitrates
        protected = not byte1 & 1  # protection bit 0 means a 16-bit CRC follows the header
        for byte2 in range(0x100):
            bitrate_index, rate_index, padded = byte2 >> 4, byte2 >> 2 & 0b11, byte2 >> 1 & 1
            if not 1 <= bitrate_index <= 14 or rate_index == 3:
                continue
            bitrate = _BITRATES[family, layer][bitrate_index - 1]
            rate = _SAMPLE_RATES[version][rate_index]
            table[byte1 << 8 | byte2] = _frame_kind(
                version, layer, protected, bitrate, rate, bool(padded))
    return table


_FRAME_TABLE = _build_frame_table()


@dataclass(frozen=True, slots=True)
class Mp3Info:
    """What a walk over an MP3's frame headers found."""

    duration_ms: float  # audio frames x samples per frame / sample rate
    frames: int  # audio frames (a Xing/Info header frame is not counted)
    sample_rate: int  # Hz
    channels: int  # 1 or 2
    bitrate_kbps: int  # the bitrate of every frame if constant, else the mean
    constant_bitrate: bool = True  # every audio frame has the same bitrate
    id3_bytes: int = 0  # bytes of ID3 tags (v2 at the start, v1 at the end) skipped
    info_header: bool = False  # the first frame is a Xing/Info header, not audio

    def is_project_format(self) -> bool:
        """24 kHz mono 48 kbit/s CBR with no tags and no header frame: joinable byte for byte."""
        return (self.sample_rate == SAMPLE_RATE and self.channels == CHANNELS
                and self.bitrate_kbps == BITRATE_KBPS and self.constant_bitrate
                and self.id3_bytes == 0 and not self.info_header)


def _id3v2_length(data: bytes) -> int:
    """Bytes of a leading ID3v2 tag, or 0 if there is none."""
    if len(data) < _ID3V2_HEADER_BYTES or not data.startswith(_ID3V2_MAGIC):
        return 0
    size = 0
    for byte in data[6:10]:  # "syncsafe": 7 bits per byte, the top bit always 0
        if byte & 0x80:
            raise BadAudio("the ID3v2 tag at the start of the MP3 has a corrupt size")
        size = size << 7 | byte
    footer = _ID3V2_HEADER_BYTES if data[5] & _ID3V2_FOOTER_FLAG else 0
    return _ID3V2_HEADER_BYTES + size + footer


def _id3v1_length(data: bytes, start: int) -> int:
    """Bytes of a trailing ID3v1 tag, or 0 if there is none."""
    tag_start = len(data) - _ID3V1_BYTES
    if tag_start >= start and data[tag_start:tag_start + 3] == _ID3V1_MAGIC:
        return _ID3V1_BYTES
    return 0


def _is_info_frame(data: bytes, start: int, kind: _FrameKind) -> bool:
    """Whether the frame at ``start`` is a Xing/Info header rather than audio."""
    channels = 1 if data[start + 3] >> 6 == _MONO else 2
    # Stereo side information is 32 bytes (MPEG-1) or 17 (MPEG-2), not 17 or 9.
    offset = kind.side_info_offset
    if channels == 2:
        offset += 15 if kind.samples == 1152 else 8
    return data[start + offset:start + offset + 4] in _INFO_TAGS


def probe_mp3(data: bytes) -> Mp3Info:
    """Walk the MPEG audio frames of ``data``; ``BadAudio`` unless it is whole, valid audio.

    Raises for empty data, data with no frames, anything that is not a frame where a frame
    should start (garbage, a stream cut and glued), and a last frame cut short. A leading
    ID3v2 tag, a trailing ID3v1 tag and a Xing/Info header frame are skipped and reported.
    """
    if not data:
        raise BadAudio("the MP3 is empty")
    start = _id3v2_length(data)
    end = len(data) - _id3v1_length(data, start)
    if start >= end:
        raise BadAudio("the MP3 holds an ID3 tag but no audio frames")
    table, position = _FRAME_TABLE, start
    first = _frame_at(data, position, end, table)
    info_header = _is_info_frame(data, position, first)
    mono = data[position + 3] >> 6 == _MONO
    if info_header:
        position += first.length
    frames = samples = audio_bytes = 0
    constant = True
    while position < end:
        kind = _frame_at(data, position, end, table)
        if kind.sample_rate != first.sample_rate or (data[position + 3] >> 6 == _MONO) != mono:
            raise BadAudio(f"the MP3 changes format at byte {position}: it was glued together")
        constant = constant and kind.bitrate_kbps == first.bitrate_kbps
        frames += 1
        samples += kind.samples
        audio_bytes += kind.length
        position += kind.length
    if not frames:
        raise BadAudio("the MP3 has a header frame but no audio frames")
    duration_ms = samples * 1000 / first.sample_rate
    bitrate = first.bitrate_kbps if constant else round(audio_bytes * 8 / duration_ms)
    return Mp3Info(duration_ms, frames, first.sample_rate, 1 if mono else 2,
                   bitrate, constant, start + len(data) - end, info_header)


def _frame_at(data: bytes, position: int, end: int, table: dict[int, _FrameKind]) -> _FrameKind:
    """The frame starting at ``position``; ``BadAudio`` if there is none or it is cut short."""
    if position + 4 > end:
        raise BadAudio(f"the MP3's last frame is cut short at byte {position}: partial audio")
    kind = table.get(data[position + 1] << 8 | data[position + 2])
    if data[position] != _SYNC or kind is None:
        where = "start" if position == 0 else f"byte {position}"
        raise BadAudio(f"no MPEG audio frame at the {where} of the data: not an MP3, or corrupt")
    if position + kind.length > end:
        raise BadAudio(f"the MP3's last frame is cut short at byte {position}: partial audio")
    return kind


def require_project_format(data: bytes) -> Mp3Info:
    """``probe_mp3``, and ``BadAudio`` unless the clip is in the project format."""
    info = probe_mp3(data)
    if not info.is_project_format():
        raise BadAudio(
            f"the MP3 is {info.sample_rate} Hz, {info.channels} channel(s),"
            f" {info.bitrate_kbps} kbit/s{'' if info.constant_bitrate else ' VBR'}"
            f"{', tagged' if info.id3_bytes else ''}{', with a header frame' * info.info_header};"
            f" clips must be {SAMPLE_RATE} Hz mono {BITRATE_KBPS} kbit/s CBR with no tags")
    return info


# ---------------------------------------------------------------- ffmpeg


@functools.cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg that ships with ``imageio-ffmpeg``; pydub is pointed at it too.

    Runs once, on first use: importing pydub looks for ffmpeg on PATH and imports the
    deprecated ``audioop``, so its warnings are silenced here rather than at import time.
    """
    try:
        import imageio_ffmpeg

        exe = str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError) as exc:
        raise ConfigError(
            f"ffmpeg is not available ({exc}); install it with: pip install imageio-ffmpeg"
        ) from exc
    _pydub_segment_class().converter = exe
    return exe


def _pydub_segment_class() -> Any:
    """pydub's ``AudioSegment``, imported quietly (see ``ffmpeg_exe``)."""
    with warnings.catch_warnings():
        # "Couldn't find ffmpeg" (RuntimeWarning), audioop's DeprecationWarning, and
        # SyntaxWarnings from pydub's regexes when it is compiled on Python 3.12+.
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", SyntaxWarning)
        from pydub import AudioSegment
    return AudioSegment


def _run_ffmpeg(arguments: Iterable[str], stdin: bytes, what: str) -> bytes:
    """Run ffmpeg with ``stdin`` piped in; its stdout, or ``BadAudio`` saying what failed."""
    command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", *arguments]
    try:
        result = subprocess.run(command, input=stdin, capture_output=True, check=False)
    except OSError as exc:
        raise BadAudio(f"ffmpeg could not be started to {what}: {exc}") from exc
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise BadAudio(f"ffmpeg could not {what}: {message[-1] if message else 'no message'}")
    return result.stdout


# Raw PCM sample formats ffmpeg reads, by sample width in bytes.
_PCM_FORMATS = {1: "u8", 2: "s16le", 4: "s32le"}

# ffmpeg output options that produce the project format.
_PROJECT_MP3_OPTIONS = (
    "-ar", str(SAMPLE_RATE), "-ac", str(CHANNELS),  # resample and downmix
    "-c:a", "libmp3lame", "-b:a", f"{BITRATE_KBPS}k",  # LAME, constant bitrate
    "-id3v2_version", "0", "-write_id3v1", "0",  # no ID3 tags at either end
    "-write_xing", "0",  # no Xing/Info frame: the first bytes are an audio frame
    "-f", "mp3", "pipe:1",
)


def pcm_to_mp3(pcm: bytes, sample_rate: int, channels: int = 1, sample_width: int = 2) -> bytes:
    """Encode raw little-endian PCM to the project format with one ffmpeg process (pipes only)."""
    if sample_width not in _PCM_FORMATS:
        raise ValueError(f"sample_width must be 1, 2 or 4 bytes, not {sample_width}")
    if not pcm:
        raise BadAudio("there is no audio to encode")
    source = ("-f", _PCM_FORMATS[sample_width], "-ar", str(sample_rate), "-ac", str(channels),
              "-i", "pipe:0")
    mp3 = _run_ffmpeg((*source, *_PROJECT_MP3_OPTIONS), pcm, "encode PCM to MP3")
    if not mp3:
        raise BadAudio("ffmpeg encoded the PCM to nothing")
    return mp3


def decode_mp3(data: bytes) -> tuple[bytes, int]:
    """Decode an MP3 (through pydub) to 16-bit mono PCM at its own sample rate, and that rate.

    For tests and level checks. Nothing is trimmed: an MP3 without a Xing header decodes to
    whole frames, the encoder delay (``ENCODER_DELAY_MS``) included.
    """
    probe_mp3(data)  # refuse garbage with a clear message before ffmpeg sees it
    ffmpeg_exe()
    segment_class = _pydub_segment_class()
    try:
        # format and codec both given: pydub then never calls ffprobe, which does not exist.
        segment = segment_class.from_file(io.BytesIO(data), format="mp3", codec="mp3")
    except Exception as exc:  # pydub raises CouldntDecodeError or plain errors
        raise BadAudio(f"ffmpeg could not decode the MP3: {exc}") from exc
    mono = segment.set_channels(1).set_sample_width(2)
    return bytes(mono.raw_data), int(mono.frame_rate)


# ---------------------------------------------------------------- silence and joining

# One silent frame of the project format, built by hand so it never changes with ffmpeg:
# FF F3 = sync, MPEG-2, Layer III, no CRC; 64 = 48 kbit/s, 24 kHz, no padding;
# C4 = mono, not copyrighted, original, no emphasis (the header LAME writes for edge's format).
# The 140 zero bytes are side information with no main data (main_data_begin 0, every
# granule's part2_3_length 0): the frame decodes to 576 zero samples and borrows no bits
# from the frame before it, so it can go anywhere in a stream.
_SILENT_FRAME = bytes((0xFF, 0xF3, 0x64, 0xC4)) + bytes(FRAME_BYTES - 4)


def silence_mp3(ms: float) -> bytes:
    """``ms`` milliseconds of silence in the project format, rounded to whole 24 ms frames."""
    if ms < 0:
        raise ValueError(f"silence cannot last {ms} ms")
    return _SILENT_FRAME * round(ms / FRAME_MS)


def concat_mp3(clips: Iterable[bytes]) -> bytes:
    """Join project-format clips into one stream, byte for byte.

    Valid because every clip is CBR with no tags and no header frame, and each clip's first
    frame borrows no bits from before it; the duration of the result is the sum.
    """
    return b"".join(clips)


def clip_duration_ms(data: bytes) -> float:
    """The duration of a project-format clip from its size alone (no parsing)."""
    return len(data) // FRAME_BYTES * FRAME_MS
