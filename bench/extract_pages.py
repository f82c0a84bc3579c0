"""Extract every page of the HTML corpus and time it.

For each page: its title, the characters of extracted text, the first and last paragraph
(truncated) and the median time of ``decode_html`` + ``extract_html`` after a warm-up run.
The last line gives the slowest page's median.

Usage: .venv/bin/python bench/extract_pages.py [CORPUS_DIR] [--runs N]
(CORPUS_DIR defaults to ../shared/corpus/html beside the repository).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reader.errors import ReaderError  # noqa: E402
from reader.extract import ExtractedPage, decode_html, extract_html  # noqa: E402

DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "html"
SHOWN_CHARS = 40  # of the first and last paragraph


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--runs", type=int, default=7, help="timed runs per page (default 7)")
    args = parser.parse_args()
    pages = sorted(args.corpus.glob("*.html"))
    if not pages:
        print(f"no *.html pages in {args.corpus}", file=sys.stderr)
        return 2
    medians = {page.name: bench_page(page, args.runs) for page in pages}
    slowest = max(medians, key=lambda name: medians[name])
    print(
        f"{len(pages)} pages; max median {medians[slowest] * 1000:.1f} ms ({slowest}); "
        f"mean of medians {statistics.mean(medians.values()) * 1000:.1f} ms"
    )
    return 0


def bench_page(page: Path, runs: int) -> float:
    data = page.read_bytes()
    try:
        result = run(data)  # warm-up, and the result shown
    except ReaderError as error:
        print(f"{page.name}: {type(error).__name__}: {error}\n")
        return 0.0
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run(data)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    show(page.name, result, median)
    return median


def run(data: bytes) -> ExtractedPage:
    return extract_html(decode_html(data))


def show(name: str, page: ExtractedPage, median: float) -> None:
    chars = sum(len(paragraph) for paragraph in page.paragraphs)
    print(f"{name}  {median * 1000:.1f} ms  {chars} chars in {len(page.paragraphs)} paragraphs")
    print(f"  title:     {page.title}")
    print(f"  published: {page.published}   source: {page.source}")
    print(f"  first:     {truncate(page.paragraphs[0])}")
    print(f"  last:      {truncate(page.paragraphs[-1])}")
    print()


def truncate(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


if __name__ == "__main__":
    sys.exit(main())
