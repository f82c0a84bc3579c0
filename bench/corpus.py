"""Per corpus page: title, characters read, number of segments, first and last segment.

Run: .venv/bin/python bench/corpus.py [CORPUS_DIR]   (default ../shared/corpus)
Read it by eye: the title should be the article's (not the site's) and the first segment after
the title the article's first sentence.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from reader.config import Settings
from reader.errors import ReaderError
from reader.pipeline import TextPipeline
from reader.types import Kind

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS
    with tempfile.TemporaryDirectory() as tmp:
        pipeline = TextPipeline.load(Settings.from_env({"READER_CACHE_DIR": tmp}))
        pages = sorted((corpus / "html").glob("*.html"))
        for page in pages:
            try:
                article = pipeline.from_html(page.read_bytes())
            except ReaderError as exc:
                print(f"{page.name}: ERROR {exc}")
                continue
            segments = pipeline.segments(article)
            body = [s for s in segments if s.kind is Kind.BODY]
            chars = sum(len(s.text) for s in segments)
            print(f"{page.name}")
            print(f"  title:  {article.title}")
            print(f"  read:   {chars} characters in {len(segments)} segments;"
                  f" published {article.published}; source {article.source}")
            if body:
                print(f"  first:  {clip(body[0].text)}")
                print(f"  last:   {clip(body[-1].text)}")


if __name__ == "__main__":
    main()
