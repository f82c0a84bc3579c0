"""A stampede: 200 clients play the same uncached article at once.

The fake Edge server must see exactly one synthesis per segment, and every client must get
identical bytes for every segment.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx2

from reader.api import create_app
from reader.config import Settings
from reader.pipeline import TextPipeline
from reader.testing.fake_edge import FakeEdgeServer, patch_edge_tts

CLIENTS = 200
ARTICLE = ("重庆举行新闻发布会\n"
           "发布会介绍了今年以来全市经济运行情况。一季度，全市地区生产总值稳步增长。\n"
           "工业生产加快，消费市场回暖，外贸进出口保持平稳。\n"
           "下一步，全市将继续抓好稳增长各项政策落实。")


async def _listener(client: httpx2.AsyncClient, manifest_url: str) -> list[bytes]:
    manifest = (await client.get(manifest_url)).json()
    clips = []
    for segment in manifest["segments"]:
        response = await client.get(segment["audio"])
        assert response.status_code == 200, response.text
        assert response.headers["x-reader-engine"] == "edge"
        clips.append(response.content)
    return clips


def test_two_hundred_clients_cause_one_synthesis_per_segment(
    pipeline: TextPipeline, tmp_path: Path
) -> None:
    async def test() -> None:
        async with FakeEdgeServer(first_byte_delay=0.05, speed=50) as server:
            with patch_edge_tts(server):
                settings = Settings.from_env({
                    "READER_CACHE_DIR": str(tmp_path), "READER_ENGINES": "edge",
                    "READER_WARM_SEGMENTS": "0", "READER_RATE_BURST": "100000",
                })
                app = create_app(settings, pipeline=pipeline)
                transport = httpx2.ASGITransport(app=app)
                async with httpx2.AsyncClient(transport=transport, base_url="http://reader",
                                              timeout=60) as client:
                    registered = await client.post("/api/v1/articles", json={"text": ARTICLE})
                    assert registered.status_code == 201
                    segments = registered.json()["segments"]
                    url = registered.headers["location"]
                    results = await asyncio.gather(
                        *(_listener(client, url) for _ in range(CLIENTS)))
                await app.state.service.aclose()
            syntheses = server.stats.syntheses  # (text, voice) -> how many times
            assert len(syntheses) == len(segments) > 3
            assert set(syntheses.values()) == {1}
            assert all(clips == results[0] for clips in results)
            assert all(results[0])

    asyncio.run(test())


def test_listeners_joining_a_synthesis_under_way_are_not_charged_for_it(
    pipeline: TextPipeline, tmp_path: Path
) -> None:
    async def test() -> None:
        async with FakeEdgeServer(first_byte_delay=0.3, speed=50) as server:
            with patch_edge_tts(server):
                first = "发布会介绍了今年以来全市经济运行情况。"
                settings = Settings.from_env({
                    "READER_CACHE_DIR": str(tmp_path), "READER_ENGINES": "edge",
                    "READER_WARM_SEGMENTS": "0", "READER_RATE_BURST": "100000",
                    # Budget for one synthesis of the first sentence, and nothing more.
                    "READER_DAILY_CHARS": str(len(first)),
                })
                app = create_app(settings, pipeline=pipeline)
                transport = httpx2.ASGITransport(app=app)
                async with httpx2.AsyncClient(transport=transport, base_url="http://reader",
                                              timeout=60) as client:
                    registered = await client.post(
                        "/api/v1/articles", json={"text": first, "plain": True})
                    url = registered.json()["segments"][0]["audio"]
                    answers = await asyncio.gather(*(client.get(url) for _ in range(10)))
                await app.state.service.aclose()
            assert [a.status_code for a in answers] == [200] * 10
            assert server.stats.count() == 1

    asyncio.run(test())
