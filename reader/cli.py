"""The command line: ``reader segment``, ``say``, ``voices``, ``pregen``, ``lexicon``,
``unpin`` and ``serve``.

Every failure is one line on stderr and a non-zero exit: 2 for bad input or usage,
1 for a problem with configuration or data files.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from reader.audio import concat_mp3, silence_mp3
from reader.batch import MAX_CONCURRENCY, Batch, BatchOptions, Summary, Tally
from reader.cache import write_atomic
from reader.config import Settings
from reader.console import Progress, summary_table
from reader.engines.registry import names as engine_names
from reader.errors import (
    ConfigError,
    InputError,
    LookupMiss,
    ReaderError,
    UnknownEngine,
)
from reader.lexicon import add_entry, load_lexicon, remove_entry
from reader.pipeline import Speaker, Spoken, TextPipeline, checked_prosody
from reader.publish import publish_folder, write_report
from reader.service import Service
from reader.sources import HTML_SUFFIXES, Source, SourceLimits, expand, read_file
from reader.types import Article, Prosody, Segment, Voice
from reader.voices import load_voices


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

    say = commands.add_parser("say", help="speak a text into an MP3 file")
    say.add_argument("text", metavar="TEXT", help="what to say (- for stdin)")
    say.add_argument("-o", "--output", required=True, metavar="FILE",
                     help="MP3 file to write (- for stdout)")
    say.add_argument("--voice", help="voice preset (see `reader voices`; default xiaoxiao)")
    say.add_argument("--engine", help="use only this engine (edge, espeak); default the chain")
    say.add_argument("--rate", type=int, default=0, help="speed in percent, -50..100")
    say.add_argument("--volume", type=int, default=0, help="volume in percent, -50..50")
    say.add_argument("--pitch", type=int, default=0, help="pitch in Hz, -50..50")

    voices = commands.add_parser("voices", help="list the voice presets")
    voices.add_argument("--json", action="store_true", help="one JSON object per line")

    _add_pregen(commands)
    _add_lexicon(commands)

    unpin = commands.add_parser("unpin", help="let pre-generated articles' audio be evicted")
    unpin.add_argument("articles", nargs="+", metavar="ARTICLE",
                       help="an article id, or the file or URL it was pre-generated from")

    serve = commands.add_parser("serve", help="start the HTTP service and its demo page")
    serve.add_argument("--host", help="address to listen on (default READER_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default READER_PORT or 8000)")
    return parser


def _add_pregen(commands: Any) -> None:
    pre = commands.add_parser(
        "pregen", help="pre-generate articles' audio (files, folders, URLs, sitemaps, feeds)")
    pre.add_argument("inputs", nargs="+", metavar="INPUT",
                     help=".txt or .html file, folder, URL, sitemap.xml or RSS/Atom feed")
    pre.add_argument("--voice", help="voice preset (see `reader voices`; default xiaoxiao)")
    pre.add_argument("--rate", type=int, default=0, help="speed in percent, -50..100")
    pre.add_argument("--engine", help="use only this engine (edge, espeak); default the chain")
    pre.add_argument("--concurrency", type=int, metavar="N",
                     help="syntheses at once, 1..16 (default READER_BATCH_CONCURRENCY or 2)")
    pre.add_argument("--dry-run", action="store_true",
                     help="show what would be synthesised and how long, synthesise nothing")
    pre.add_argument("--no-pin", action="store_true",
                     help="do not pin the audio against eviction")
    pre.add_argument("--report", metavar="FILE",
                     help="write the audio check report (HTML) for risky sentences")
    pre.add_argument("--out", metavar="DIR",
                     help="write each article's MP3, captions and manifest, and podcast.xml")
    pre.add_argument("--base-url", metavar="URL",
                     help="where --out will be served from (for podcast.xml's links)")
    pre.add_argument("--quiet", action="store_true", help="no progress, only the summary")


def _add_lexicon(commands: Any) -> None:
    lex = commands.add_parser("lexicon", help="show or edit the pronunciation lexicon")
    actions = lex.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a word and how to say it (or change it)")
    add.add_argument("word", metavar="WORD")
    add.add_argument("say", metavar="SAY", help="how to say it: a homophone, spelled out")
    add.add_argument("--file", help="lexicon file to edit (default: the last of READER_LEXICON)")
    remove = actions.add_parser("remove", help="remove a word's entry")
    remove.add_argument("word", metavar="WORD")
    remove.add_argument("--file", help="lexicon file to edit (default: the last of READER_LEXICON)")
    actions.add_parser("list", help="every entry in force")


# ---------------------------------------------------------------- segment


def _read_input(path: str, limit: int) -> tuple[bytes, str]:
    """The input's bytes and its name; ``-`` is standard input."""
    if path == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    return read_file(path, limit), path


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
    data, name = _read_input(args.path, pipeline.settings.max_html_bytes)
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


# ---------------------------------------------------------------- say and voices


def _text_argument(text: str, pipeline: TextPipeline) -> str:
    if text != "-":
        return text
    return pipeline.decode_text(sys.stdin.buffer.read())


async def _speak_all(speaker: Speaker, segments: list[Segment], voice: Voice,
                     prosody: Prosody) -> list[Spoken]:
    try:
        return [await speaker.speak(segment, voice, prosody) for segment in segments]
    finally:
        await speaker.aclose()


def _write_output(path: str, data: bytes) -> None:
    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise InputError(f"{path}: cannot write it ({exc.strerror})") from None


def _check_engine(name: str) -> None:
    if name not in engine_names():
        choices = ", ".join(engine_names())
        raise UnknownEngine(f"unknown engine {name!r}; choose one of: {choices}")


def run_say(args: argparse.Namespace, settings: Settings) -> int:
    if args.engine:
        _check_engine(args.engine)
        settings = replace(settings, engines=(args.engine,))
    text = TextPipeline.load(settings)
    speaker = Speaker.load(settings, text)
    voice = speaker.voices.get(args.voice)
    prosody = Prosody(rate=args.rate, volume=args.volume, pitch=args.pitch)
    segments = text.segments(text.from_plain_text(_text_argument(args.text, text)))
    spoken = asyncio.run(_speak_all(speaker, segments, voice, prosody))
    _write_output(args.output, _join_with_pauses([s.audio.data for s in spoken]))
    seconds = sum(s.audio.duration_ms for s in spoken) / 1000
    engines = ", ".join(sorted({f"{s.engine} ({s.audio.voice})" for s in spoken}))
    sys.stderr.write(f"reader: wrote {args.output}: {seconds:.1f} s in {len(spoken)} clip(s),"
                     f" spoken by {engines}\n")
    return 0


#: Silence between sentences in `reader say` output, in milliseconds.
SENTENCE_PAUSE_MS = 300


def _join_with_pauses(clips: list[bytes]) -> bytes:
    pause = silence_mp3(SENTENCE_PAUSE_MS)
    joined: list[bytes] = []
    for clip in clips:
        joined += [pause, clip] if joined else [clip]
    return concat_mp3(joined)


def run_voices(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    book = load_voices(settings.voices_dir, settings.default_voice)
    for voice in book:
        if args.json:
            record = {"id": voice.id, "label": voice.label, "language": voice.language,
                      "gender": voice.gender, "engines": dict(voice.engines),
                      "default": voice is book.default, "description": voice.description}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            continue
        mark = "*" if voice is book.default else " "
        engines = "  ".join(f"{engine}={name}" for engine, name in voice.engines.items())
        out.write(f"{mark} {voice.id:<10} {voice.language:<6} {voice.label}\n"
                  f"  {'':<10} {'':<6} {engines}\n")
    return 0


# ---------------------------------------------------------------- pregen


def _batch_settings(args: argparse.Namespace, settings: Settings) -> Settings:
    if args.engine:
        _check_engine(args.engine)
        settings = replace(settings, engines=(args.engine,))
    if args.concurrency is not None and not 1 <= args.concurrency <= MAX_CONCURRENCY:
        raise InputError(f"--concurrency must be 1..{MAX_CONCURRENCY}, not {args.concurrency}")
    if args.base_url and not re.match(r"https?://[^/\s]+", args.base_url):
        raise InputError(f"--base-url must be an absolute http(s) URL, not {args.base_url!r}")
    if args.base_url and not args.out:
        raise InputError("--base-url says where --out's folder is served from; give --out DIR")
    if args.dry_run and (args.out or args.report):
        raise InputError("a dry run makes no audio, so no --out files or --report; drop"
                         " --dry-run to make them")
    return settings


def run_pregen(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    settings = _batch_settings(args, settings)
    service = Service.load(settings)
    voice = service.speaker.voices.get(args.voice)
    prosody = checked_prosody(Prosody(rate=args.rate))
    options = BatchOptions(voice=voice, prosody=prosody, pin=not args.no_pin,
                           concurrency=args.concurrency or settings.batch_concurrency,
                           dry_run=args.dry_run)
    try:
        summary = asyncio.run(_pregen(service, options, args))
    except KeyboardInterrupt:
        sys.stderr.write("reader: interrupted; every clip already made is kept: run the same"
                         " command again to go on from there\n")
        return 130
    out.write(summary_table(summary))
    return 1 if summary.failures else 0


async def _pregen(service: Service, options: BatchOptions, args: argparse.Namespace) -> Summary:
    settings = service.settings
    try:
        limits = SourceLimits(max_articles=settings.max_batch_articles,
                              max_feed_bytes=settings.max_feed_bytes)
        sources, problems = await expand(args.inputs, service.fetch_policy, limits)
        tallies = [Tally(source.label) for source in sources]
        progress = Progress(tallies, sys.stderr, live=sys.stderr.isatty(),
                            dry_run=options.dry_run)
        batch = Batch(service, options, listener=None if args.quiet else progress.update)
        try:
            summary = await batch.run(sources, problems, tallies)
        finally:
            progress.close()
        if args.out and not options.dry_run:
            for note in await publish_folder(service, summary, Path(args.out),
                                             args.base_url or settings.public_url):
                sys.stderr.write(f"reader: {note}\n")
        if args.report and not options.dry_run:
            await write_report(service, summary, Path(args.report))
        return summary
    finally:
        await service.aclose()


def run_unpin(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    service = Service.load(settings)
    try:
        for name in args.articles:
            for ident in asyncio.run(_pinned_as(service, name)):
                if not service.store.is_pinned(ident):
                    out.write(f"{ident} was not pinned\n")
                    continue
                released = service.unpin(ident)
                out.write(f"unpinned {ident}: {released} clips may now be evicted\n")
    finally:
        asyncio.run(service.aclose())
    return 0


async def _pinned_as(service: Service, name: str) -> list[str]:
    """The articles ``name`` stands for: an article id, or the file, folder or URL they
    were pre-generated from (one article per voice)."""
    if re.fullmatch(r"[0-9a-f]{32}", name):
        if not service.store.exists(name):
            raise InputError(f"{name}: no such article")
        return [name]
    sources = [Source(name, url=name)] if re.match(r"https?://", name) else (
        await expand([name], service.fetch_policy))[0]
    found = [ident for source in sources
             for ident in service.store.article_for(source.identity or name)]
    if not found:
        raise InputError(f"{name}: no pre-generated article; give an article id (see the"
                         " manifest) or the file, folder or URL `reader pregen` read")
    return found


# ---------------------------------------------------------------- lexicon


def _lexicon_file(args: argparse.Namespace, settings: Settings) -> Path:
    return Path(args.file) if args.file else settings.lexicon_files[-1]


def run_lexicon(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    if args.action == "list":
        for word, say in load_lexicon(settings.lexicon_files).entries.items():
            out.write(f"{word}\t{say}\n")
        return 0
    path = _lexicon_file(args, settings)
    if args.action == "remove":
        removed = remove_entry(path, args.word)
        if removed is None:
            raise InputError(f"{args.word!r} is not in {path}{_found_in(args.word, settings)}")
        out.write(f"removed {args.word} → {removed} from {path}\n")
    else:
        previous = add_entry(path, args.word, args.say)
        change = f" (was {previous})" if previous is not None else ""
        out.write(f"{args.word} → {args.say.strip()}{change} in {path}\n")
    if path.resolve() not in {p.resolve() for p in settings.lexicon_files}:
        sys.stderr.write(f"reader: note: {path} is not in READER_LEXICON, so it is not read;"
                         " add it there\n")
    else:
        out.write("run `reader pregen` again: only the sentences with this word are made"
                  " anew (restart the service to read the lexicon)\n")
    return 0


def _found_in(word: str, settings: Settings) -> str:
    """Where else a word's entry is, for a remove aimed at the wrong file."""
    for path in settings.lexicon_files:
        if path.exists() and word in load_lexicon([path]).entries:
            return f"; it is in {path} (use --file {path})"
    return ""


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
    logging.basicConfig(format="reader: %(message)s", level=logging.WARNING)
    try:
        settings = Settings.from_env(os.environ)
        for name in sorted(settings.extra):
            sys.stderr.write(f"reader: warning: unknown setting {name} is ignored\n")
        if args.command == "segment":
            return run_segment(args, settings, sys.stdout)
        if args.command == "say":
            return run_say(args, settings)
        if args.command == "voices":
            return run_voices(args, settings, sys.stdout)
        if args.command == "pregen":
            return run_pregen(args, settings, sys.stdout)
        if args.command == "lexicon":
            return run_lexicon(args, settings, sys.stdout)
        if args.command == "unpin":
            return run_unpin(args, settings, sys.stdout)
        return run_serve(args, settings)
    except (InputError, LookupMiss) as exc:
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
