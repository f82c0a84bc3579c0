"""Time to the first audio byte through the edge engine, against the fake Edge server.

The server waits 300 ms before its first audio frame (Edge's typical first-byte delay) and
streams at 20x real time. What the engine adds on top (connection, handshake, SSML, the
client's parsing) is our own cost: target <= 30 ms, i.e. first byte <= 330 ms.

Run: .venv/bin/python bench/edge_first_byte.py [N]
"""

from __future__ import annotations

import asyncio
import statistics
import sys

from reader.engines.edge import EdgeEngine
from reader.testing.fake_edge import FakeEdgeServer, patch_edge_tts
from reader.types import Prosody, Voice

FIRST_BYTE = 0.300
SPEED = 20.0
VOICE = Voice("xiaoxiao", "晓晓", "zh-CN", {"edge": "zh-CN-XiaoxiaoNeural", "espeak": "cmn"})


async def first_byte(engine: EdgeEngine, text: str) -> tuple[float, float]:
    """Seconds to the first audio chunk and to the last."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    first = 0.0
    async for item in engine.stream(text, VOICE, Prosody()):
        if isinstance(item, bytes):  # audio, not a word boundary
            first = first or loop.time() - started
    return first, loop.time() - started


async def main(count: int) -> None:
    async with FakeEdgeServer(first_byte_delay=FIRST_BYTE, speed=SPEED) as server:
        with patch_edge_tts(server):
            engine = EdgeEngine()
            sentences = [f"这是第{n}个用来测量首字节时间的句子，长度和新闻里的一句话差不多。"
                         for n in range(count + 3)]
            for text in sentences[:3]:  # warm-up: voice list, imports, tone cache
                server.audio_source(text, "zh-CN-XiaoxiaoNeural")
                await first_byte(engine, text)
            for text in sentences[3:]:  # make the audio before timing: it is the server's work
                server.audio_source(text, "zh-CN-XiaoxiaoNeural")
            results = [await first_byte(engine, text) for text in sentences[3:]]
    firsts = sorted(r[0] for r in results)
    median = statistics.median(firsts)
    p90 = firsts[int(0.9 * (len(firsts) - 1))]
    print(f"edge engine against the fake server ({FIRST_BYTE * 1000:.0f} ms first byte,"
          f" {SPEED:g}x real time), {count} sentences, one at a time:")
    print(f"  time to first audio byte: median {median * 1000:.1f} ms, p90 {p90 * 1000:.1f} ms"
          f"  (target <= {FIRST_BYTE * 1000 + 30:.0f} ms)")
    print(f"  our own cost on top of the server's delay: median"
          f" {(median - FIRST_BYTE) * 1000:.1f} ms  (target <= 30 ms)")
    print(f"  whole sentence: median {statistics.median(r[1] for r in results) * 1000:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 30))
