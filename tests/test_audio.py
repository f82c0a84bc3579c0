"""reader.audio: the frame walker against ffmpeg's own encodes, and the project format."""

from __future__ import annotations

import array
import math
import random
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reader.audio import (
    BITRATE_KBPS,
    ENCODER_DELAY_MS,
    FRAME_BYTES,
    FRAME_MS,
    SAMPLE_RATE,
    Mp3Info,
    clip_duration_ms,
    concat_mp3,
    decode_mp3,
    ffmpeg_exe,
    pcm_to_mp3,
    probe_mp3,
    require_project_format,
    silence_mp3,
)
from reader.errors import BadAudio

# ---------------------------------------------------------------- helpers


def tone(seconds: float, rate: int = 22_050, hertz: float = 440.0, channels: int = 1) -> bytes:
    """A sine tone as 16-bit PCM (interleaved if stereo)."""
    samples = array.array("h")
    for index in range(round(seconds * rate)):
        value = round(12_000 * math.sin(2 * math.pi * hertz * index / rate))
        samples.extend([value] * channels)
    return samples.tobytes()


def ffmpeg_encode(pcm: bytes, rate: int, channels: int, *options: str) -> bytes:
    """PCM encoded by ffmpeg with ``options`` (the output format's own)."""
    command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "s16le",
               "-ar", str(rate), "-ac", str(channels), "-i", "pipe:0", *options, "pipe:1"]
    return subprocess.run(command, input=pcm, capture_output=True, check=True).stdout


def ffmpeg_encode_file(path: Path, pcm: bytes, rate: int, channels: int, *options: str) -> bytes:
    """Like ``ffmpeg_encode``, through a file: only a seekable output gets ffmpeg's defaults
    in full (an ID3v2 tag and a Xing/Info header frame, written back at the end)."""
    command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "s16le",
               "-ar", str(rate), "-ac", str(channels), "-i", "pipe:0", *options, str(path)]
    subprocess.run(command, input=pcm, capture_output=True, check=True)
    return path.read_bytes()


def decoded_ms(data: bytes) -> float:
    pcm, rate = decode_mp3(data)
    return len(pcm) / 2 * 1000 / rate


def id3v2_tag(payload: bytes, footer: bool = False) -> bytes:
    """An ID3v2.4 tag around ``payload`` (its size written syncsafe)."""
    size = len(payload)
    syncsafe = bytes((size >> 21 & 0x7F, size >> 14 & 0x7F, size >> 7 & 0x7F, size & 0x7F))
    flags = 0x10 if footer else 0x00
    tail = b"3DI\x04\x00" + bytes([flags]) + syncsafe if footer else b""
    return b"ID3\x04\x00" + bytes([flags]) + syncsafe + payload + tail


@pytest.fixture(scope="module")
def clip() -> bytes:
    """1.5 s of tone in the project format."""
    return pcm_to_mp3(tone(1.5), 22_050)


# Encodes the walker must measure as ffmpeg decodes them: (name, rate, channels, options).
# None carries a Xing header, so nothing trims the encoder delay and decoded = frames.
PLAIN_ENCODES = [
    ("mpeg2-l3-24k-mono", 24_000, 1, ("-c:a", "libmp3lame", "-b:a", "48k")),
    ("mpeg2-l3-22k-mono", 22_050, 1, ("-c:a", "libmp3lame", "-b:a", "32k")),
    ("mpeg1-l3-44k-stereo-padded", 44_100, 2, ("-c:a", "libmp3lame", "-b:a", "128k")),
    ("mpeg1-l3-48k-vbr", 48_000, 2, ("-c:a", "libmp3lame", "-q:a", "4")),
    ("mpeg25-l3-8k-mono", 8_000, 1, ("-c:a", "libmp3lame", "-b:a", "16k")),
]
NO_TAGS = ("-id3v2_version", "0", "-write_id3v1", "0", "-write_xing", "0", "-f", "mp3")


# ---------------------------------------------------------------- probe_mp3


@pytest.mark.parametrize(("name", "rate", "channels", "options"), PLAIN_ENCODES,
                         ids=[encode[0] for encode in PLAIN_ENCODES])
def test_probe_measures_real_encodes_as_ffmpeg_decodes_them(
        name: str, rate: int, channels: int, options: tuple[str, ...]) -> None:
    data = ffmpeg_encode(tone(2.0, rate, channels=channels), rate, channels, *options, *NO_TAGS)
    info = probe_mp3(data)
    frame_ms = (1152 if rate >= 32_000 else 576) * 1000 / rate
    assert abs(info.duration_ms - decoded_ms(data)) <= frame_ms
    assert 2000 <= info.duration_ms <= 2000 + 3 * frame_ms  # the tone, plus encoder delay
    assert (info.sample_rate, info.channels) == (rate, channels)
    assert info.frames == round(info.duration_ms / frame_ms)


def test_probe_reports_bitrate_and_whether_it_is_constant() -> None:
    pcm = tone(2.0, 48_000, channels=2)
    cbr = probe_mp3(ffmpeg_encode(pcm, 48_000, 2, "-c:a", "libmp3lame", "-b:a", "128k", *NO_TAGS))
    vbr = probe_mp3(ffmpeg_encode(pcm, 48_000, 2, "-c:a", "libmp3lame", "-q:a", "4", *NO_TAGS))
    assert (cbr.bitrate_kbps, cbr.constant_bitrate) == (128, True)
    assert not vbr.constant_bitrate and 32 <= vbr.bitrate_kbps <= 320


def test_probe_skips_ffmpegs_default_id3_tag_and_xing_frame(tmp_path: Path) -> None:
    data = ffmpeg_encode_file(tmp_path / "tagged.mp3", tone(2.0, 44_100), 44_100, 1,
                              "-c:a", "libmp3lame", "-b:a", "64k", "-metadata", "title=重庆")
    info = probe_mp3(data)
    assert data.startswith(b"ID3") and info.id3_bytes > 0
    assert info.info_header
    # Xing-aware ffmpeg trims the encoder delay and padding; the frames still hold them.
    assert 0 <= info.duration_ms - decoded_ms(data) <= 2 * 1152 * 1000 / 44_100


def test_probe_reads_layer_ii() -> None:
    data = ffmpeg_encode(tone(1.0, 48_000), 48_000, 1, "-c:a", "mp2", "-b:a", "64k", "-f", "mp2")
    info = probe_mp3(data)
    assert info.sample_rate == 48_000 and info.bitrate_kbps == 64
    assert 1000 <= info.duration_ms <= 1000 + 2 * 24


@pytest.mark.parametrize("footer", [False, True])
def test_probe_skips_a_leading_id3v2_tag(clip: bytes, footer: bool) -> None:
    tag = id3v2_tag(b"TIT2" + bytes(40), footer=footer)
    info = probe_mp3(tag + clip)
    assert info.duration_ms == probe_mp3(clip).duration_ms
    assert info.id3_bytes == len(tag)
    assert not info.is_project_format()


def test_probe_skips_a_trailing_id3v1_tag(clip: bytes) -> None:
    tag = b"TAG" + bytes(125)
    info = probe_mp3(clip + tag)
    assert info.frames == probe_mp3(clip).frames and info.id3_bytes == 128


@pytest.mark.parametrize("cut", [1, 3, FRAME_BYTES // 2, FRAME_BYTES - 1, FRAME_BYTES + 70])
def test_probe_rejects_a_last_frame_cut_short(clip: bytes, cut: int) -> None:
    with pytest.raises(BadAudio, match="cut short"):
        probe_mp3(clip[:-cut])


def test_probe_accepts_a_cut_on_a_frame_boundary(clip: bytes) -> None:
    assert probe_mp3(clip[:-FRAME_BYTES]).frames == probe_mp3(clip).frames - 1


@pytest.mark.parametrize("data", [
    b"\x00" * 1000,
    "重庆欢迎您。".encode() * 50,
    b"<html><body>503 Service Unavailable</body></html>",
    b"RIFF\x24\x00\x00\x00WAVEfmt ",
    random.Random(7).randbytes(30_000),
    b"\xff\xf3",  # a sync word and nothing else
    b"\xff\xff\xff\xff" * 10,  # sync bits with reserved version and layer
], ids=["zeros", "text", "html", "wav", "random", "sync-only", "all-ones"])
def test_probe_rejects_garbage(data: bytes) -> None:
    with pytest.raises(BadAudio):
        probe_mp3(data)


def test_probe_rejects_empty_data_and_a_tag_alone() -> None:
    with pytest.raises(BadAudio, match="empty"):
        probe_mp3(b"")
    with pytest.raises(BadAudio, match="no audio frames"):
        probe_mp3(id3v2_tag(b"TIT2" + bytes(20)))


def test_probe_rejects_garbage_between_frames(clip: bytes) -> None:
    middle = FRAME_BYTES * 10
    with pytest.raises(BadAudio, match=f"byte {middle}"):
        probe_mp3(clip[:middle] + b"junk" + clip[middle:])


def test_probe_rejects_clips_of_different_formats_glued_together(clip: bytes) -> None:
    other = ffmpeg_encode(tone(0.5, 44_100), 44_100, 1, "-c:a", "libmp3lame", *NO_TAGS)
    with pytest.raises(BadAudio, match="changes format"):
        probe_mp3(clip + other)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_probe_raises_only_bad_audio_on_arbitrary_bytes(data: bytes) -> None:
    try:
        info = probe_mp3(data)
    except BadAudio:
        return
    assert info.frames >= 1 and info.duration_ms > 0


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_probe_accepts_exactly_the_frame_aligned_prefixes(clip: bytes, data: st.DataObject) -> None:
    size = data.draw(st.integers(min_value=1, max_value=len(clip)))
    prefix = clip[:size]
    if size % FRAME_BYTES:
        with pytest.raises(BadAudio):
            probe_mp3(prefix)
    else:
        assert probe_mp3(prefix).frames == size // FRAME_BYTES


def test_probe_is_fast_on_a_30_kb_clip(clip: bytes) -> None:
    data = (clip * 10)[:FRAME_BYTES * (30_000 // FRAME_BYTES)]
    fastest = min(_seconds(probe_mp3, data) for _ in range(30))
    assert fastest < 0.0005  # the target is 0.2 ms; leave room for slow CI machines


def _seconds(work: object, data: bytes) -> float:
    assert callable(work)
    start = time.perf_counter()
    work(data)
    return time.perf_counter() - start


# ---------------------------------------------------------------- encoding and decoding


@pytest.mark.parametrize(("rate", "channels", "width"), [
    (22_050, 1, 2), (24_000, 1, 2), (16_000, 1, 2), (44_100, 2, 2), (48_000, 1, 4), (8_000, 1, 1),
])
def test_pcm_to_mp3_writes_exactly_the_project_format(rate: int, channels: int,
                                                      width: int) -> None:
    pcm = _widen(tone(0.8, rate, channels=channels), width)
    data = pcm_to_mp3(pcm, rate, channels=channels, sample_width=width)
    info = require_project_format(data)
    assert (info.sample_rate, info.channels, info.bitrate_kbps) == (SAMPLE_RATE, 1, BITRATE_KBPS)
    assert data[:2] == b"\xff\xf3"  # a frame sync (MPEG-2 Layer III): no ID3 tag first
    assert not any(tag in data[:FRAME_BYTES] for tag in (b"Xing", b"Info", b"LAME"))
    assert len(data) % FRAME_BYTES == 0 and not data.endswith(b"\x00" * 3 + b"TAG")
    assert clip_duration_ms(data) == info.duration_ms == len(data) * 8 / BITRATE_KBPS


def _widen(pcm16: bytes, width: int) -> bytes:
    """16-bit PCM as unsigned 8-bit or signed 32-bit (ffmpeg's u8 and s32le)."""
    samples = array.array("h", pcm16)
    if width == 1:
        return bytes((value >> 8) + 128 for value in samples)
    if width == 4:
        return array.array("i", (value << 16 for value in samples)).tobytes()
    return pcm16


def test_pcm_to_mp3_refuses_nothing_and_odd_widths() -> None:
    with pytest.raises(BadAudio, match="no audio"):
        pcm_to_mp3(b"", 22_050)
    with pytest.raises(ValueError, match="sample_width"):
        pcm_to_mp3(tone(0.1), 22_050, sample_width=3)


def test_decode_round_trip_keeps_the_duration(clip: bytes) -> None:
    pcm, rate = decode_mp3(clip)
    seconds = len(pcm) / 2 / rate
    assert rate == SAMPLE_RATE
    assert seconds * 1000 == probe_mp3(clip).duration_ms  # whole frames, nothing trimmed
    assert 1.5 <= seconds <= 1.5 + 3 * FRAME_MS / 1000
    assert max(array.array("h", pcm)) > 6000  # the tone survived


def test_decode_refuses_garbage() -> None:
    with pytest.raises(BadAudio):
        decode_mp3(b"not an mp3 at all")


def test_encoder_delay_is_what_decoders_add() -> None:
    # A click at 500 ms of 22,050 Hz PCM is heard at 500 ms + ENCODER_DELAY_MS.
    rate = 22_050
    samples = array.array("h", bytes(rate * 2))
    for index in range(rate // 2, rate // 2 + 200):
        samples[index] = 20_000 if index // 10 % 2 else -20_000
    pcm, decoded_rate = decode_mp3(pcm_to_mp3(samples.tobytes(), rate))
    decoded = array.array("h", pcm)
    first = next(index for index, value in enumerate(decoded) if abs(value) > 3000)
    assert first * 1000 / decoded_rate == pytest.approx(500 + ENCODER_DELAY_MS, abs=1.0)


# ---------------------------------------------------------------- silence and joining


@pytest.mark.parametrize(("asked", "frames"), [(0, 0), (11, 0), (13, 1), (24, 1), (100, 4),
                                                (500, 21), (1000, 42)])
def test_silence_lasts_whole_frames_closest_to_the_request(asked: int, frames: int) -> None:
    data = silence_mp3(asked)
    assert len(data) == frames * FRAME_BYTES
    if frames:
        info = require_project_format(data)
        assert info.duration_ms == frames * FRAME_MS


def test_silence_decodes_to_zeros() -> None:
    pcm, rate = decode_mp3(silence_mp3(480))
    assert rate == SAMPLE_RATE and len(pcm) == 20 * 576 * 2
    assert not any(pcm)


def test_silence_refuses_negative_durations() -> None:
    with pytest.raises(ValueError):
        silence_mp3(-1)


def test_concatenation_lasts_the_sum_and_decodes_whole(clip: bytes) -> None:
    other = pcm_to_mp3(tone(0.7, 16_000, hertz=300), 16_000)
    parts = [clip, silence_mp3(300), other, silence_mp3(300), clip]
    joined = concat_mp3(parts)
    info: Mp3Info = require_project_format(joined)
    total = sum(probe_mp3(part).duration_ms for part in parts)
    assert info.duration_ms == total
    assert decoded_ms(joined) == total


def test_require_project_format_names_what_is_wrong(tmp_path: Path) -> None:
    data = ffmpeg_encode_file(tmp_path / "tagged.mp3", tone(0.5, 44_100), 44_100, 1,
                              "-c:a", "libmp3lame", "-b:a", "64k")
    with pytest.raises(BadAudio, match="44100 Hz.*tagged.*header frame"):
        require_project_format(data)
