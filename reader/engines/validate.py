"""Validation before caching: a clip is kept only if it decodes, is non-empty, and lasts about
as long as its text takes to say.

Edge sometimes returns truncated audio without any error (a dropped connection, a cut-short
stream), so the length check is what catches it. The bounds are deliberately loose: a slow
voice reading a short sentence must pass, half a sentence must not.
"""

from __future__ import annotations

from reader.audio import probe_mp3
from reader.errors import BadAudio
from reader.types import Audio, Prosody

#: Seconds a neural voice takes per "weight" unit (a Chinese character; a Latin letter is
#: half) at the default rate. Measured speech runs 0.2-0.3 s per hanzi.
SECONDS_PER_UNIT = 0.25
#: A clip shorter than this share of the estimate is cut short.
MIN_SHARE = 0.4
#: Nothing spoken lasts less than this (a single syllable).
MIN_SECONDS = 0.15
#: Boundaries may run this far past the audio before it counts as cut short.
BOUNDARY_SLACK_MS = 250.0


def expected_seconds(text: str, prosody: Prosody) -> float:
    """About how long ``text`` takes to say at ``prosody``'s rate."""
    units = 0.0
    for ch in text:
        if ch.isalnum():
            units += 1.0 if ord(ch) > 0x2E80 else 0.5
    return units * SECONDS_PER_UNIT / (1 + prosody.rate / 100)


def check_clip(audio: Audio, text: str, prosody: Prosody) -> None:
    """Raise ``BadAudio`` if ``audio`` is empty, undecodable, or too short for ``text``."""
    info = probe_mp3(audio.data)  # raises BadAudio for empty, garbage or a cut-off frame
    seconds = info.duration_ms / 1000
    floor = max(MIN_SECONDS, MIN_SHARE * expected_seconds(text, prosody))
    if seconds < floor:
        raise BadAudio(
            f"{audio.engine} returned {seconds:.2f} s of audio for {len(text)} characters"
            f" (expected at least {floor:.2f} s): the clip was cut short",
            audio.engine,
        )
    last = max((b.offset_ms + b.duration_ms for b in audio.boundaries), default=0.0)
    if last > info.duration_ms + BOUNDARY_SLACK_MS:
        raise BadAudio(
            f"{audio.engine} reported words up to {last / 1000:.2f} s but sent only"
            f" {seconds:.2f} s of audio: the clip was cut short",
            audio.engine,
        )
