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

#: Seconds it takes to say one character at the default rate, by kind of character:
#: Mandarin voices speak 4-5 hanzi a second, English ones 12-15 letters; a digit left as a
#: digit (light normalisation) becomes a syllable or two.
SECONDS_PER_HAN = 0.22
SECONDS_PER_LETTER = 0.065
SECONDS_PER_DIGIT = 0.3
#: A clip shorter than this share of the estimate is cut short (a fast voice still passes:
#: 0.6 x 0.22 s is 7.6 hanzi a second; half a sentence does not).
MIN_SHARE = 0.6
#: Nothing spoken lasts less than this (a single syllable).
MIN_SECONDS = 0.15
#: Boundaries may run this far past the audio before it counts as cut short.
BOUNDARY_SLACK_MS = 250.0


def expected_seconds(text: str, prosody: Prosody) -> float:
    """About how long ``text`` takes to say at ``prosody``'s rate."""
    seconds = 0.0
    for ch in text:
        if ch.isdigit():
            seconds += SECONDS_PER_DIGIT
        elif ch.isalpha():
            seconds += SECONDS_PER_LETTER if ch.isascii() else SECONDS_PER_HAN
    return seconds / (1 + prosody.rate / 100)


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
