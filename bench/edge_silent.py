"""What a silent Edge costs a listener: first audio byte of a cold sentence through the Speaker.

The fake Edge server accepts every request and never answers (``Fault.SILENT``); the chain is
edge then espeak, built from settings as the service builds it. Measured twice, each time with
a fresh speaker (closed breaker, empty cache):

- with the first-byte deadline (``READER_EDGE_FIRST_BYTE_TIMEOUT``, default 3 s): edge gives
  up on the sentence then, and espeak speaks it;
- without it (the deadline set equal to ``READER_EDGE_TIMEOUT``, 15 s): the old behaviour.

Then the next cold sentence, once the first has opened edge's breaker. Target: a silent Edge
costs <= deadline + 1 s.

Run: .venv/bin/python bench/edge_silent.py [FIRST_BYTE_SECONDS]
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from pathlib import Path

from reader.config import Settings
from reader.pipeline import Speaker, TextPipeline
from reader.testing.fake_edge import FakeEdgeServer, Fault, patch_edge_tts
from reader.types import Prosody, Segment

EDGE_TIMEOUT = 15.0
SENTENCES = ("重庆欢迎您，智能产业博览会今天在悦来国际博览中心开幕。",
             "来自五十多个国家和地区的企业带来了最新的智能产品。")
WARM_UP = "开幕之前，先让离线语音准备好。"


async def first_byte(speaker: Speaker, segment: Segment) -> tuple[float, float, str]:
    """Seconds to the first audio byte and to the whole clip, and who spoke it."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    flight = speaker.stream(segment)
    first = 0.0
    async for _chunk in flight.listen():
        first = first or loop.time() - started
    spoken = await flight.result()
    return first, loop.time() - started, spoken.engine


async def measure(server: FakeEdgeServer, text: TextPipeline, first_byte_timeout: float,
                  folder: Path) -> list[tuple[float, float, str]]:
    """Both sentences through a fresh speaker whose edge waits ``first_byte_timeout``."""
    settings = Settings.from_env({
        "READER_CACHE_DIR": str(folder),
        "READER_ENGINES": "edge,espeak",
        "READER_EDGE_URL": server.wss_url,
        "READER_EDGE_VOICE_LIST_URL": server.voice_list_url,
        "READER_EDGE_TIMEOUT": f"{EDGE_TIMEOUT:g}",
        "READER_EDGE_FIRST_BYTE_TIMEOUT": f"{first_byte_timeout:g}",
    })
    speaker = Speaker.load(settings, text)
    try:
        espeak = speaker.engines[-1]
        await espeak.synthesize(WARM_UP, speaker.voices.default, Prosody())  # load, not time
        segments = [text.segments(text.from_plain_text(s))[0] for s in SENTENCES]
        return [await first_byte(speaker, segment) for segment in segments]
    finally:
        await speaker.aclose()


async def main(deadline: float) -> None:
    logging.getLogger("reader").setLevel(logging.ERROR)  # each edge failure logs a warning
    with tempfile.TemporaryDirectory(prefix="edge-silent-") as folder:
        root = Path(folder)
        text = TextPipeline.load(Settings.from_env({"READER_CACHE_DIR": str(root / "text")}))
        async with FakeEdgeServer() as server:
            with patch_edge_tts(server):
                server.faults.always(Fault.SILENT)
                runs = [(f"deadline {deadline:g} s", deadline,
                         await measure(server, text, deadline, root / "with")),
                        (f"no deadline ({EDGE_TIMEOUT:g} s, as before)", EDGE_TIMEOUT,
                         await measure(server, text, EDGE_TIMEOUT, root / "without"))]
    print("a cold sentence through the Speaker, fake Edge server silent, fallback espeak:")
    for label, waited, results in runs:
        (first, whole, engine), (next_first, _, next_engine) = results
        target = f"; target <= {waited + 1:g} s: {'ok' if first <= waited + 1 else 'OVER'}"
        print(f"  {label:<30} first audio byte {first:6.2f} s ({engine}, whole clip"
              f" {whole:.2f} s){target if waited < EDGE_TIMEOUT else ''}")
        print(f"  {'':<30} next sentence    {next_first:6.2f} s ({next_engine}: edge's"
              " breaker is open)")
    print(f"  a silent Edge costs the listener {runs[0][2][0][0]:.2f} s instead of"
          f" {runs[1][2][0][0]:.2f} s")

if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0))
