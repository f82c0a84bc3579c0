"""Validation before caching: a clip is kept only if it decodes, is non-empty, and lasts about
as long as its text takes to say.

Edge sometimes returns truncated audio without any error (a dropped connection, a cut-short
stream), so the length check is what catches it. The bounds are deliberately loose: a slow
voice reading a short sentence must pass, half a sentence must not.
"""

from __future__ import annotations

import re

from reader.audio import require_project_format
from reader.errors import BadAudio
from reader.types import Audio, Prosody

#: Seconds it takes to say one character at the default rate, by kind of character:
#: Mandarin voices speak 4-5 hanzi a second, English ones 12-15 letters.
SECONDS_PER_HAN = 0.22
SECONDS_PER_LETTER = 0.065
#: A run of digits left as digits (light normalisation) is one number: 2025 is four syllables,
#: 100000000 only two (一亿); count a syllable per digit for the first few, then stop.
SECONDS_PER_DIGIT = 0.22
MAX_DIGITS_COUNTED = 3
#: A clip shorter than this share of the estimate is cut short (a fast voice still passes:
#: 0.6 x 0.22 s is 7.6 hanzi a second; half a sentence does not).
MIN_SHARE = 0.6
#: Nothing spoken lasts less than this at the default rate (a single syllable).
MIN_SECONDS = 0.1
#: Boundaries may run this far past the audio before it counts as cut short.
BOUNDARY_SLACK_MS = 250.0

_DIGIT_RUN = re.compile(r"\d+")


def expected_seconds(text: str, prosody: Prosody) -> float:
    """About how long ``text`` takes to say at ``prosody``'s rate."""
    seconds = 0.0
    for ch in _DIGIT_RUN.sub("", text):
        if ch.isalpha():
            # Latin script (accents too) is spelled fast; everything else is a syllable each.
            seconds += SECONDS_PER_LETTER if ch < "\u0250" else SECONDS_PER_HAN
    for run in _DIGIT_RUN.findall(text):
        seconds += SECONDS_PER_DIGIT * min(len(run), MAX_DIGITS_COUNTED)
    return seconds / _speed(prosody)


def _speed(prosody: Prosody) -> float:
    return 1 + prosody.rate / 100


def check_clip(audio: Audio, text: str, prosody: Prosody) -> None:
    """Raise ``BadAudio`` if ``audio`` is empty, undecodable, or too short for ``text``."""
    # BadAudio for empty data, garbage, a cut-off frame, or another format (clips are joined
    # byte for byte, so one 44.1 kHz stereo clip would break every article it is in).
    info = require_project_format(audio.data)
    seconds = info.duration_ms / 1000
    floor = max(MIN_SECONDS / _speed(prosody), MIN_SHARE * expected_seconds(text, prosody))
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
