"""The command line: ``reader segment`` and ``reader serve``.

Every failure is one line on stderr and a non-zero exit: 2 for bad input or usage,
1 for a problem with configuration or data files.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from reader.config import Settings
from reader.errors import ConfigError, InputError, ReaderError
from reader.pipeline import TextPipeline
from reader.types import Article, Segment

#: File suffixes read as HTML; anything else is text.
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml", ".shtml"})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reader", description="Listen to this article.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    seg = commands.add_parser("segment", help="print an article's segments (sentences)")
    seg.add_argument("path", metavar="PATH", help=".txt or .html file, or - for stdin")
    seg.add_argument("--json", action="store_true", help="one JSON object per line")
    seg.add_argument("--format", choices=("auto", "page", "plain", "html"), default="auto",
                     help="page: scraped page text; plain: editor's text; default: by suffix")
    seg.add_argument("--title", help="the article's title (plain text has none otherwise)")
    seg.add_argument("--captions", action="store_true", help="read photo captions too")
    seg.add_argument("--level", choices=("full", "light"), default="full",
                     help="normalisation: full (offline engine) or light (edge)")
    seg.add_argument("--max-chars", type=int, help="segment length limit (default 80)")

    serve = commands.add_parser("serve", help="start the HTTP service and its demo page")
    serve.add_argument("--host", help="address to listen on (default READER_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default READER_PORT or 8000)")
    return parser


# ---------------------------------------------------------------- segment


def _read_input(path: str) -> tuple[bytes, str]:
    """The input's bytes and its name; ``-`` is standard input."""
    if path == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    try:
        return Path(path).read_bytes(), path
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder; give a .txt or .html file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror})") from None


#: How HTML on standard input starts: a doctype, a comment, or a common tag.
_HTML_START = re.compile(
    rb"<(?:!doctype\s+html|!--|html|head|body|meta|title|link|script|style|div|p|article"
    rb"|section|main|header|span|table|h[1-6])[\s>/]",
    re.IGNORECASE,
)


def _looks_like_html(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    return _HTML_START.match(head) is not None


def _article(pipeline: TextPipeline, args: argparse.Namespace) -> Article:
    data, name = _read_input(args.path)
    kind = args.format
    if kind == "auto":
        html = Path(name).suffix.lower() in HTML_SUFFIXES or (name == "<stdin>"
                                                              and _looks_like_html(data))
        kind = "html" if html else "page"
    if kind == "html":
        return pipeline.from_html(data, title=args.title)
    text = pipeline.decode_text(data)
    if kind == "plain":
        return pipeline.from_plain_text(text, title=args.title)
    return pipeline.from_page_text(text, title=args.title)


def segment_record(segment: Segment) -> dict[str, object]:
    """A segment as the JSON object ``reader segment --json`` prints."""
    return {
        "index": segment.index,
        "kind": segment.kind.value,
        "text": segment.text,
        "speak": segment.speak,
        "paragraph": segment.paragraph,
        "start": segment.start,
        "end": segment.end,
        "lexicon": [list(entry) for entry in segment.lexicon],
    }


def _print_segments(segments: list[Segment], as_json: bool, out: TextIO) -> None:
    for segment in segments:
        if as_json:
            out.write(json.dumps(segment_record(segment), ensure_ascii=False) + "\n")
            continue
        out.write(f"{segment.index:4d} {segment.kind.value:<8} {segment.text}\n")
        if segment.speak != segment.text:
            out.write(f"{'':4} {'speak':<8} {segment.speak}\n")


def run_segment(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    if args.max_chars is not None:
        if args.max_chars < 10:
            raise InputError("--max-chars must be at least 10")
        settings = replace(settings, max_sentence_chars=args.max_chars)
    pipeline = TextPipeline.load(settings)
    article = _article(pipeline, args)
    segments = pipeline.segments(article, level=args.level, captions=args.captions or None)
    _print_segments(segments, args.json, out)
    return 0


# ---------------------------------------------------------------- serve


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from reader.api import create_app

    app = create_app(settings)
    uvicorn.run(app, host=args.host or settings.host, port=args.port or settings.port)
    return 0


# ---------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
        for name in sorted(settings.extra):
            sys.stderr.write(f"reader: warning: unknown setting {name} is ignored\n")
        if args.command == "segment":
            return run_segment(args, settings, sys.stdout)
        return run_serve(args, settings)
    except InputError as exc:
        sys.stderr.write(f"reader: {exc}\n")
        return 2
    except ConfigError as exc:
        sys.stderr.write(f"reader: configuration: {exc}\n")
        return 1
    except ReaderError as exc:
        sys.stderr.write(f"reader: {exc}\n")
        return 1
    except BrokenPipeError:  # `reader segment x | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
