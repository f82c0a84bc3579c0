"""The embedded neural voice (kokoro) on this machine: speed, cold first byte, memory.

1. Speed: every segment of the seed article, normalised as the service does, made as an
   editor's batch makes them (``Service.spoken``: ``READER_EDGE_CONNECTIONS`` segments asked
   for at once, which kokoro's worker takes one after another while the last piece is
   encoded; ``synthesize``: whole clauses, nobody waiting for a first byte); seconds of audio
   per second of wall time, with 1 and with 2 ONNX Runtime threads (target >= 2.5x with 2).
   Each run is its own process, so each loads its own session. With ``--streamed`` (on for 2
   threads), the same article again as a listener gets it, one segment after another
   (``stream``: a short first piece, then growing ones), for comparison.
2. Memory: RSS of that process before the model loads, after, and after the article
   (target: growth <= 450 MB), and its peak (the high-water mark while a piece is made).
3. Cold click: `reader serve` with the chain kokoro,espeak (edge unreachable), a registered
   article, then the first audio byte of clips no one has asked for, one sentence of about 25
   characters each, over HTTP (target <= 1.0 s). The model has loaded in the background
   before the first timed request (one untimed request first).

Run: .venv/bin/python bench/kokoro.py [--sentences N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx

from reader.audio import FRAME_BYTES, FRAME_MS

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "fixtures" / "cq-gov-wiie-2025.txt"
#: Sentences of about 25 characters, none in the seed article (cold in a fresh cache).
COLD_SENTENCES = [
    "市交通局发布通知，明天起地铁三号线延长运营时间。",
    "今年秋季全市新增中小学学位两万余个，缓解入学压力。",
    "气象台预计本周末有中到大雨，请市民注意出行安全。",
    "区政府组织专家对老旧小区改造方案进行了集中评审。",
    "图书馆新馆正式开放，市民可凭身份证免费借阅图书。",
    "全市医保定点药店数量增加，群众购药更加方便快捷。",
    "农业农村部门加强秋粮收购监管，保障农民利益不受损。",
    "文化旅游节期间，主城各大景区接待游客超过百万人次。",
    "社区卫生服务中心开设夜间门诊，方便上班族就医看病。",
    "市场监管局抽检食品一千余批次，合格率保持较高水平。",
    "新建的体育公园向市民免费开放，配备了多种健身器材。",
    "高速公路服务区增设充电桩，新能源车出行更加便利。",
]


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident set size (or its peak: ``VmHWM``), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


# ---------------------------------------------------------------- 1 and 2: in a child


async def child_speed(threads: int, streamed: bool) -> dict[str, float]:
    from reader.config import Settings
    from reader.engines.kokoro import KokoroEngine
    from reader.pipeline import TextPipeline
    from reader.types import Prosody
    from reader.voices import load_voices

    cache = Path(tempfile.mkdtemp(prefix="bench-kokoro-"))
    settings = Settings.from_env({"READER_CACHE_DIR": str(cache)})
    text = TextPipeline.load(settings)
    segments = text.segments(text.from_page_text(SEED.read_text(encoding="utf-8")))
    voice = load_voices(settings.voices_dir, "xiaoxiao").default
    before = rss_mb()
    engine = KokoroEngine(settings.voices_dir, threads=threads, cache_dir=cache)
    started = time.perf_counter()
    await engine.loaded()
    load_seconds = time.perf_counter() - started
    loaded = rss_mb()
    speaks = [text.speak_for(segment, engine.level)[0] for segment in segments]
    slots = asyncio.Semaphore(settings.edge_connections)  # as Service.spoken makes an article

    async def made_ahead(speak: str) -> float:
        async with slots:
            return (await engine.synthesize(speak, voice, Prosody())).duration_ms

    started = time.perf_counter()
    audio_ms = sum(await asyncio.gather(*(made_ahead(speak) for speak in speaks)))
    wall = time.perf_counter() - started
    result = {"threads": threads, "segments": len(segments), "audio_s": audio_ms / 1000,
              "wall_s": wall, "load_s": load_seconds, "rss_before_mb": before,
              "rss_loaded_mb": loaded, "rss_after_mb": rss_mb(),
              "rss_peak_mb": rss_mb("VmHWM")}
    if streamed:
        streamed_bytes = 0
        started = time.perf_counter()
        for speak in speaks:
            async for item in engine.stream(speak, voice, Prosody(), eager=True):
                streamed_bytes += len(item) if isinstance(item, bytes) else 0
        result["streamed_audio_s"] = streamed_bytes / FRAME_BYTES * FRAME_MS / 1000
        result["streamed_wall_s"] = time.perf_counter() - started
    await engine.aclose()
    return result


def run_child(threads: int, streamed: bool) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child-threads", str(threads),
                          "--streamed", "yes" if streamed else "no"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------- 3: the service over HTTP


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def first_byte(client: httpx.Client, url: str) -> float:
    started = time.perf_counter()
    elapsed = None
    with client.stream("GET", url) as response:
        response.raise_for_status()
        for _ in response.iter_bytes():  # all of it: the next sentence starts cold
            elapsed = elapsed or time.perf_counter() - started
    if elapsed is None:
        raise RuntimeError(f"{url} sent no audio")
    return elapsed


def cold_clicks(count: int) -> list[float]:
    port = free_port()
    cache = tempfile.mkdtemp(prefix="bench-kokoro-serve-")
    env = {**os.environ, "READER_CACHE_DIR": cache, "READER_ENGINES": "kokoro,espeak",
           "READER_WARM_SEGMENTS": "0", "READER_RATE_LIMIT": "1000", "READER_RATE_BURST": "1000"}
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "reader"), "serve", "--port",
                               str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            for _ in range(300):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            sentences = ["服务启动后的第一句话，用来等待模型加载完成。", *COLD_SENTENCES[:count]]
            body = {"text": "\n".join(sentences), "plain": True}
            manifest = client.post("/api/v1/articles", json=body).json()
            urls = [segment["audio"] for segment in manifest["segments"]]
            first_byte(client, urls[0])  # untimed: waits for the background load if need be
            return [first_byte(client, url) for url in urls[1:]]
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=10)
    parser.add_argument("--child-threads", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--only-clicks", action="store_true", help="skip speed and memory")
    parser.add_argument("--threads", default="1,2", help="thread counts to measure speed with")
    parser.add_argument("--streamed", default="2",
                        help="thread counts to also measure as streamed to a listener")
    args = parser.parse_args()
    if args.child_threads is not None:
        result = asyncio.run(child_speed(args.child_threads, args.streamed == "yes"))
        print(json.dumps(result))
        return
    streamed = {int(n) for n in args.streamed.split(",") if n}
    print(f"kokoro on {os.cpu_count()} cores, the seed article:")
    for threads in () if args.only_clicks else [int(n) for n in args.threads.split(",")]:
        r = run_child(threads, threads in streamed)
        print(f"  {threads} thread(s), made ahead: {r['audio_s']:.1f} s of audio in"
              f" {r['wall_s']:.1f} s = {r['audio_s'] / r['wall_s']:.2f}x real time"
              f" ({int(r['segments'])} segments; model load {r['load_s']:.1f} s)"
              "  (target >= 2.5x with 2 threads)")
        if "streamed_wall_s" in r:
            print(f"     streamed to a listener: {r['streamed_audio_s']:.1f} s of audio in"
                  f" {r['streamed_wall_s']:.1f} s ="
                  f" {r['streamed_audio_s'] / r['streamed_wall_s']:.2f}x real time")
        print(f"     RSS {r['rss_before_mb']:.0f} MB before the model, {r['rss_loaded_mb']:.0f}"
              f" MB loaded, {r['rss_after_mb']:.0f} MB after the article: growth"
              f" {r['rss_after_mb'] - r['rss_before_mb']:.0f} MB  (target <= 450 MB);"
              f" peak {r['rss_peak_mb'] - r['rss_before_mb']:.0f} MB over the start")
    if args.sentences == 0:
        return
    firsts = cold_clicks(args.sentences)
    print(f"cold click through `reader serve` (kokoro,espeak), {len(firsts)} sentences of ~25"
          " characters:")
    print(f"  first audio byte: median {statistics.median(firsts):.2f} s, max {max(firsts):.2f} s"
          "  (target <= 1.0 s)")


if __name__ == "__main__":
    main()
