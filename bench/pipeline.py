"""Pipeline speed: seed page text, the largest corpus HTML page, and start-up time.

Targets (issue 2): <= 20 ms median for the seed page's text (clean + segment + normalise),
<= 150 ms median to extract a ~400 KB HTML page, <= 1.5 s start-up with jieba's dictionary
cached. Run: .venv/bin/python bench/pipeline.py [CORPUS_DIR]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from reader.config import Settings
from reader.pipeline import TextPipeline

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def median_ms(work: Callable[[], object], runs: int = 30, warmup: int = 3) -> float:
    for _ in range(warmup):
        work()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def startup_seconds(cache: Path) -> float:
    """A fresh interpreter: import, load rules, lexicon and jieba (cached), segment one line."""
    code = ("import time; t = time.perf_counter();"
            "from reader.config import Settings; from reader.pipeline import TextPipeline;"
            f"p = TextPipeline.load(Settings.from_env({{'READER_CACHE_DIR': {str(cache)!r}}}));"
            "p.segments(p.from_plain_text('标题\\n正文。'));"
            "print(time.perf_counter() - t)")
    runs = [float(subprocess.check_output([sys.executable, "-c", code], text=True))
            for _ in range(5)]
    return statistics.median(runs)


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        pipeline = TextPipeline.load(Settings.from_env({"READER_CACHE_DIR": str(cache)}))
        seed = (corpus / "text" / "cq-gov-wiie-2025.txt").read_text(encoding="utf-8")
        seed_ms = median_ms(lambda: pipeline.segments(pipeline.from_page_text(seed)))
        light_ms = median_ms(lambda: pipeline.segments(pipeline.from_page_text(seed), "light"))
        pages = {page.name: page.read_bytes() for page in sorted((corpus / "html").glob("*.html"))}
        html_ms = {name: median_ms(lambda d=data: pipeline.from_html(d), runs=11)
                   for name, data in pages.items()}
        largest = max(pages, key=lambda name: len(pages[name]))
        near_400k = max((n for n in pages if len(pages[n]) <= 420_000), key=lambda n: len(pages[n]))
        slowest = max(html_ms, key=lambda name: html_ms[name])
        startup = startup_seconds(cache)
    print(f"seed page text ({len(seed):,} chars), clean+segment+normalise (full): "
          f"{seed_ms:.1f} ms median  (target <= 20 ms)")
    print(f"seed page text, light normalisation: {light_ms:.1f} ms median")
    for label, name in (("~400 KB page", near_400k), ("largest page", largest),
                        ("slowest page", slowest)):
        print(f"{label} {name} ({len(pages[name]) / 1024:.0f} KB), decode+extract+clean: "
              f"{html_ms[name]:.1f} ms median  (target <= 150 ms)")
    print(f"all {len(pages)} corpus pages: mean of medians "
          f"{statistics.mean(html_ms.values()):.1f} ms")
    print(f"start-up with jieba's dictionary cached: {startup:.2f} s median of 5"
          "  (target <= 1.5 s)")


if __name__ == "__main__":
    main()
