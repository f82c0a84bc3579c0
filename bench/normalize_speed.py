"""Normalisation speed: segment + normalise the seed page and the largest corpus page.

bench/pipeline.py times the seed page's text and the largest page's extraction (which does not
normalise); this times the speech text of both pages, at full and light level, so a change to
reader/normalize.py can be compared before and after (issue 11: no more than 20 % slower).
Run: .venv/bin/python bench/normalize_speed.py [CORPUS_DIR]
To compare with an older commit: git archive REV | tar -x -C /tmp/old, then run this file with
PYTHONPATH=/tmp/old (the older tree's reader/ is imported instead).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from pipeline import CORPUS, median_ms  # bench/pipeline.py, beside this file

import reader
from reader.config import Settings
from reader.pipeline import TextPipeline


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS
    with tempfile.TemporaryDirectory() as tmp:
        pipeline = TextPipeline.load(Settings.from_env({"READER_CACHE_DIR": tmp}))
        seed = pipeline.from_page_text(
            (corpus / "text" / "cq-gov-wiie-2025.txt").read_text(encoding="utf-8"))
        pages = sorted((corpus / "html").glob("*.html"), key=lambda page: page.stat().st_size)
        largest = pipeline.from_html(pages[-1].read_bytes())
        print(f"reader from {Path(reader.__file__).parent}")
        for label, article in (("seed page", seed), (f"largest page {pages[-1].name}", largest)):
            chars = sum(len(paragraph.text) for paragraph in article.paragraphs)
            for level in ("full", "light"):
                ms = median_ms(lambda a=article, lv=level: pipeline.segments(a, lv))
                print(f"{label} ({chars:,} chars), segment+normalise ({level}): "
                      f"{ms:.2f} ms median of 30")


if __name__ == "__main__":
    main()
