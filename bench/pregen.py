"""Pre-generation of the corpus pages against the fake Edge server, next to edge-tts's own CLI.

The fake server (its own process) waits 300 ms before the first audio frame of every request
and then streams at 20x real time: Edge's typical behaviour. Three ways to read every page of
``../shared/corpus/html/`` (or the first ``--pages`` of them):

- ``reader pregen DIR --concurrency 1`` and ``--concurrency 4``, each into an empty cache:
  wall time, clips per second;
- the ``edge-tts`` command line once per article (the article's text as extracted by reader,
  one ``--text``), one after another, pointed at the same server: wall time.

The ratio is reader's wall time over edge-tts's. Both make the same audio from the same
server; reader makes a clip per sentence (so each can start playing at once, and an edit
remakes only its sentence), edge-tts one file per article.

Run: .venv/bin/python bench/pregen.py [--pages N]   (the whole corpus takes ~20 minutes)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reader.config import Settings
from reader.pipeline import TextPipeline
from reader.types import READ_KINDS

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "html"
FIRST_BYTE_MS = 300
SPEED = 20
VOICE = "zh-CN-XiaoxiaoNeural"

#: edge-tts's CLI reads its endpoints from module constants; point them at the fake server.
EDGE_TTS_CLI = """
import sys, edge_tts.communicate, edge_tts.voices
edge_tts.communicate.WSS_URL = sys.argv.pop(1)
edge_tts.voices.VOICE_LIST = sys.argv.pop(1)
from edge_tts.util import main
main()
"""


def start_fake_edge() -> tuple[subprocess.Popen[str], str, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "reader.testing.fake_edge", "--first-byte-ms", str(FIRST_BYTE_MS),
         "--speed", str(SPEED)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    wss = process.stdout.readline().strip().removeprefix("WSS_URL=")
    voices = process.stdout.readline().strip().removeprefix("VOICE_LIST=")
    return process, wss, voices


def environment(cache: Path, wss: str, voices: str, concurrency: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if "proxy" not in k.lower() and not k.startswith("READER_")}
    return {**env, "READER_CACHE_DIR": str(cache), "READER_EDGE_URL": wss,
            "READER_EDGE_VOICE_LIST_URL": voices, "READER_ENGINES": "edge",
            "READER_EDGE_CONNECTIONS": str(max(4, concurrency))}


def run_pregen(pages: Path, wss: str, voices: str, concurrency: int) -> tuple[float, int, str]:
    """Seconds, clips made, and the summary's totals line."""
    with tempfile.TemporaryDirectory(prefix="bench-pregen-") as cache:
        env = environment(Path(cache), wss, voices, concurrency)
        # jieba's dictionary cache is built on the first start: not part of the measurement.
        subprocess.run([sys.executable, "-m", "reader.cli", "segment", "-"], input=b"x",
                       env=env, capture_output=True, check=False)
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "reader.cli", "pregen", str(pages), "--quiet",
             "--concurrency", str(concurrency)], env=env, capture_output=True, text=True,
            check=False)
        seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"pregen failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    totals = next(line for line in result.stdout.splitlines() if " articles, " in line)
    made = int(totals.split()[-3])  # segments, new, reused, minutes: "new"
    return seconds, made, re.sub(r"\s+", " ", totals)


def article_texts(pages: list[Path]) -> list[str]:
    """Each page's readable text as reader extracts it: the same words both ways."""
    with tempfile.TemporaryDirectory() as cache:
        pipeline = TextPipeline.load(Settings.from_env({"READER_CACHE_DIR": cache}))
        texts = []
        for page in pages:
            article = pipeline.from_html(page.read_bytes())
            texts.append("\n".join(p.text for p in article.paragraphs if p.kind in READ_KINDS))
    return texts


def run_edge_tts(texts: list[str], wss: str, voices: str) -> float:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    with tempfile.TemporaryDirectory(prefix="bench-edge-tts-") as folder:
        started = time.perf_counter()
        for number, text in enumerate(texts):
            subprocess.run([sys.executable, "-c", EDGE_TTS_CLI, wss, voices, "--voice", VOICE,
                            "--text", text, "--write-media", f"{folder}/{number}.mp3"],
                           env=env, check=True, capture_output=True)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, help="only the first N corpus pages")
    args = parser.parse_args()
    pages = sorted(CORPUS.glob("*.html"))[: args.pages]
    server, wss, voices = start_fake_edge()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-pages-") as folder:
            for page in pages:
                shutil.copy(page, folder)
            print(f"{len(pages)} corpus pages; fake Edge server: {FIRST_BYTE_MS} ms to the first"
                  f" byte, then {SPEED}x real time")
            texts = article_texts(pages)
            cli = run_edge_tts(texts, wss, voices)
            print(f"  edge-tts CLI, once per article:  {cli:7.1f} s")
            for concurrency in (1, 4):
                seconds, made, totals = run_pregen(Path(folder), wss, voices, concurrency)
                print(f"  reader pregen --concurrency {concurrency}:  {seconds:7.1f} s,"
                      f" {made / seconds:5.2f} clips/s, {seconds / cli:4.2f}x the CLI's time"
                      f"   ({totals})")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
