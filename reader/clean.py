"""Page text or extracted HTML -> ``Article``: every line classified, offsets kept.

A page is read line by line. Each non-blank line becomes a ``Paragraph`` whose kind says whether
it is read (title, meta, body; captions on request) or is chrome (navigation, login links,
controls, footers, notices, the assistant's greeting, photo credits, duplicates). What counts as
chrome is data: the rules in ``rules/chrome.toml`` (see its header), so an editor can teach the
service a new site's chrome without touching Python.

The end of a page gets one more look (:func:`_mark_closing`): walking back from the last line,
past chrome, the *closing block* is what follows the article's last paragraph. There, rules
marked ``end`` apply too (references, a notice's signature), meta lines are no longer read (a
source line under the article), and two shapes are chrome by position alone: a run of short
headline-like lines (a related-article or product list) and a last line that ends in a colon
(it introduces an image or a QR code the listener cannot see).

Offsets are kept exact: control characters are replaced one for one by spaces, never removed,
so ``Article.text`` has the input's length and every offset points into the input.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from reader.errors import ConfigError, EmptyInput, InputTooLarge, NoArticleFound
from reader.extract import ExtractedPage, iso_datetime
from reader.types import Article, Kind, Paragraph

#: Kinds a rule may assign. Title and body are decided by position, never by a rule.
RULE_KINDS = frozenset(Kind) - {Kind.TITLE, Kind.BODY, Kind.DUPLICATE}

#: A line ending in a full stop (or ; …) is a sentence, so it is body text, not a headline.
#: Question and exclamation marks do end headlines ("……啥来头？", "奖金711万元！").
_STATEMENT_END = re.compile(r"(?:[。；;…]|(?<![A-Z])\.)[”’」』）)\]】》\"']*$")

#: A full stop inside a line means it holds several sentences: a paragraph, not a headline.
_INNER_STOP = re.compile(r"[。；;]|\.\s+[A-Z]")

#: A headline is short: longer first lines are body text that happens to come first.
TITLE_MAX_CHARS = 200

#: Punctuation that may end a caption but carries no words (for caption-repeats-body checks).
_TRAILING_PUNCT = "。！？!?；;，,、 \t"


@dataclass(frozen=True, slots=True)
class Rule:
    """One chrome rule from a rules file."""

    name: str
    kind: Kind
    pattern: re.Pattern[str]
    max_chars: int | None = None  # only lines at most this long
    tail: bool = False  # the match must end the line; what precedes it is a caption
    end: bool = False  # the rule applies only after the article's last paragraph

    def match(self, line: str) -> re.Match[str] | None:
        if self.max_chars is not None and len(line) > self.max_chars:
            return None
        found = self.pattern.search(line)
        if found and self.tail and found.end() != len(line):
            return None
        return found


# ---------------------------------------------------------------- rules files


def parse_rules(text: str, origin: str = "<rules>") -> list[Rule]:
    """Rules from one TOML rules file; a bad rule raises ``ConfigError`` naming it."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML: {exc}") from exc
    return [_rule(entry, origin) for entry in data.get("rule", [])]


def _rule(entry: dict[str, object], origin: str) -> Rule:
    name = str(entry.get("name") or "?")
    where = f"{origin}: rule {name!r}"
    try:
        kind = Kind(str(entry["kind"]))
        pattern = re.compile(str(entry["pattern"]))
    except KeyError as exc:
        raise ConfigError(f"{where}: missing field {exc.args[0]!r}") from exc
    except (ValueError, re.error) as exc:  # an unknown kind, a broken pattern
        raise ConfigError(f"{where}: {exc}") from exc
    if kind not in RULE_KINDS:
        raise ConfigError(f"{where}: kind must be one of {sorted(RULE_KINDS)}, not {kind!r}")
    max_chars = entry.get("max_chars")
    if max_chars is not None and not isinstance(max_chars, int):
        raise ConfigError(f"{where}: max_chars must be a whole number")
    return Rule(name, kind, pattern, max_chars, bool(entry.get("tail", False)),
                bool(entry.get("end", False)))


def load_rules(paths: Iterable[Path]) -> list[Rule]:
    """All rules of the files in order; an unreadable file raises ``ConfigError``."""
    rules: list[Rule] = []
    for path in paths:
        try:
            rules.extend(parse_rules(path.read_text(encoding="utf-8"), str(path)))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read rules file {path}: {exc}") from exc
    return rules


# ---------------------------------------------------------------- text hygiene


def sanitize(text: str) -> str:
    """Replace control characters (but newline and tab) with spaces, one for one.

    Keeping the length keeps every offset valid. ``\\r`` becomes a space, so Windows line
    ends read as ordinary ones.
    """
    if text.isprintable():
        return text
    return "".join(" " if _is_control(ch) else ch for ch in text)


def _is_control(ch: str) -> bool:
    # Format characters go too (zero-width spaces, direction marks), but the zero-width
    # joiner stays: it holds emoji sequences together, and normalisation drops those whole.
    return ch not in "\n\t\u200d" and unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co"}


def check_size(text: str, max_chars: int) -> None:
    """Raise ``InputTooLarge`` or ``EmptyInput`` for text the service will not read."""
    if len(text) > max_chars:
        raise InputTooLarge(
            f"the text is {len(text):,} characters; the limit is {max_chars:,}."
            " Split the article, or raise READER_MAX_INPUT_CHARS."
        )
    if not text.strip():
        raise EmptyInput("the input is empty: there is no text to read")


def _with_title(text: str, title: str | None) -> str:
    """``text``, with ``title`` and a blank line in front unless one of its lines is the title."""
    if title is None or not title.strip():
        return text
    wanted = _squash(title)
    if any(_squash(line) == wanted for line in text.splitlines()):
        return text
    return f"{sanitize(title.strip())}\n\n{text}"


def _squash(text: str) -> str:
    """Text with all whitespace removed: how lines are compared for duplicates."""
    return "".join(text.split())


# ---------------------------------------------------------------- lines


@dataclass(slots=True)
class _Line:
    start: int
    end: int
    text: str
    kind: Kind = Kind.BODY
    rule: str | None = None


def _lines(text: str) -> Iterator[_Line]:
    """Non-blank lines of ``text``, trimmed, with their offsets."""
    for found in re.finditer(r"[^\n]+", text):
        raw = found.group()
        stripped = raw.strip()
        if stripped:
            start = found.start() + (len(raw) - len(raw.lstrip()))
            yield _Line(start, start + len(stripped), stripped)


def _apply_rules(line: _Line, rules: list[Rule]) -> None:
    for rule in rules:
        if rule.end:
            continue
        found = rule.match(line.text)
        if found is None:
            continue
        line.rule = rule.name
        if rule.tail:
            _split_credit(line, found.start())
            _recheck_credit(line, rules)
        else:
            line.kind = rule.kind
        return


def _recheck_credit(line: _Line, rules: list[Rule]) -> None:
    """What is left after cutting a credit may be a credit too (图片来源：每经记者 张三 摄)."""
    if line.kind is not Kind.CAPTION:
        return
    for rule in rules:
        if rule.kind is Kind.CREDIT and not rule.tail and rule.match(line.text):
            line.kind, line.rule = Kind.CREDIT, rule.name
            return
        if rule.kind is Kind.CREDIT and rule.tail and rule.pattern.fullmatch(line.text):
            line.kind, line.rule = Kind.CREDIT, rule.name
            return


def _split_credit(line: _Line, credit_at: int) -> None:
    """A line ending in a photo credit is a caption without it, or a credit if nothing is left."""
    caption = line.text[:credit_at].rstrip()
    if not any(ch.isalnum() for ch in caption):
        line.kind = Kind.CREDIT
        return
    line.kind = Kind.CAPTION
    line.end = line.start + len(caption)
    line.text = caption


def _mark_duplicates(lines: list[_Line]) -> None:
    seen: set[str] = set()
    for line in lines:
        key = _squash(line.text)
        if key in seen:
            line.kind, line.rule = Kind.DUPLICATE, "repeated-line"
        seen.add(key)


def _mark_caption_repeats(lines: list[_Line]) -> None:
    """A caption that repeats body text word for word is not read twice, even with captions on."""
    body = "".join(_squash(line.text) for line in lines if line.kind is Kind.BODY)
    for line in lines:
        core = _squash(line.text).rstrip(_TRAILING_PUNCT)
        if line.kind is Kind.CAPTION and core and core in body:
            line.kind, line.rule = Kind.DUPLICATE, "caption-repeats-body"


def _mark_title(lines: list[_Line], title: str | None) -> str | None:
    """Mark the headline line; return the title."""
    if title is not None:
        wanted = _squash(title)
        for line in lines:
            if line.kind is Kind.BODY and _squash(line.text) == wanted:
                line.kind = Kind.TITLE
        return title
    for line in lines:
        if line.kind is not Kind.BODY:
            continue
        if _is_headline(line.text):
            line.kind = Kind.TITLE
            return line.text
        return None
    return None


def _is_headline(text: str) -> bool:
    """Short, not a statement, not several sentences."""
    return (len(text) <= TITLE_MAX_CHARS and not _STATEMENT_END.search(text)
            and not _INNER_STOP.search(text))


# ---------------------------------------------------------------- the closing block

#: Kinds the closing block may hold and that stay as they are: chrome, and captions (a photo
#: under the last paragraph). Meta lines there are chrome too, but change kind.
_PASSED_KINDS = frozenset(Kind) - {Kind.TITLE, Kind.BODY, Kind.META}

#: Chrome: a line of one of these kinds announces a list below it (相关推荐).
_CHROME_KINDS = _PASSED_KINDS - {Kind.CAPTION}

#: A related-article or product list is at least this many lines when nothing announces it ...
LIST_MIN_LINES = 3

#: ... of lines at most this long, like headlines ...
LIST_ITEM_MAX_CHARS = 40

#: ... that do not end as a sentence or a clause does, and hold no full stop.
_CLAUSE_END = re.compile(r"[。；;，,、：:…]|(?<![A-Z])\.")

#: A paragraph ends as a sentence (the line above a list must, or be chrome).
_SENTENCE_END = re.compile(r"[。！？!?…][”’」』）)\]】》\"']*$")

#: A last line ending in a colon introduces what the page shows below it.
_LEAD_IN = re.compile(r"[：:]$")

#: Lead-in lines are short; a long one is a paragraph that happens to end oddly.
LEAD_IN_MAX_CHARS = 60


def _mark_closing(lines: list[_Line], rules: list[Rule]) -> None:
    """Mark what follows the article's last paragraph, walking back from the end."""
    end_rules = [rule for rule in rules if rule.end]
    first_body = next((i for i, line in enumerate(lines) if line.kind is Kind.BODY), len(lines))
    index = len(lines)
    while index > first_body + 1:  # the first body line is the article's, whatever it looks like
        line = lines[index - 1]
        if line.kind in _PASSED_KINDS:
            index -= 1
        elif line.kind is Kind.META:
            line.kind, line.rule = Kind.FOOTER, "closing-meta"
            index -= 1
        elif _mark_end_rule(line, end_rules):
            index -= 1
        elif (count := _list_lines(lines, index, first_body + 1)) > 0:
            for item in lines[index - count : index]:
                item.kind, item.rule = Kind.FOOTER, "closing-list"
            index -= count
        elif _is_lead_in(line):
            line.kind, line.rule = Kind.FOOTER, "closing-lead-in"
            index -= 1
        else:
            return


def _mark_end_rule(line: _Line, end_rules: list[Rule]) -> bool:
    if line.kind is not Kind.BODY:
        return False
    for rule in end_rules:
        if rule.match(line.text):
            line.kind, line.rule = rule.kind, rule.name
            return True
    return False


def _list_lines(lines: list[_Line], end: int, floor: int) -> int:
    """How many list items end at ``end`` (none start before ``floor``): a run of short
    headline-like body lines under a chrome line (相关推荐) or, if at least
    ``LIST_MIN_LINES`` long, under a sentence."""
    start = end
    while (start > floor and lines[start - 1].kind is Kind.BODY
           and _is_list_item(lines[start - 1])):
        start -= 1
    count = end - start
    if count == 0:
        return 0
    above = lines[start - 1]
    if above.kind in _CHROME_KINDS:
        return count
    if (count >= LIST_MIN_LINES and above.kind is Kind.BODY
            and _SENTENCE_END.search(above.text)):
        return count
    return 0


def _is_list_item(line: _Line) -> bool:
    return len(line.text) <= LIST_ITEM_MAX_CHARS and not _CLAUSE_END.search(line.text)


def _is_lead_in(line: _Line) -> bool:
    """A short body line ending in a colon (the walk has found nothing read below it)."""
    return (line.kind is Kind.BODY and len(line.text) <= LEAD_IN_MAX_CHARS
            and _LEAD_IN.search(line.text) is not None)


# ---------------------------------------------------------------- metadata


def _meta_fields(lines: list[_Line], rules: list[Rule]) -> tuple[str | None, str | None]:
    """The first publication time and source found in meta lines."""
    published: str | None = None
    source: str | None = None
    meta_rules = [rule for rule in rules if rule.kind is Kind.META]
    for line in lines:
        if line.kind is not Kind.META:
            continue
        for rule in meta_rules:
            found = rule.pattern.search(line.text)
            groups = found.groupdict() if found else {}
            if published is None and groups.get("published"):
                published = iso_datetime(groups["published"])
            if source is None and groups.get("source"):
                source = groups["source"]
    return published, source


# ---------------------------------------------------------------- building articles


def clean_text(
    text: str,
    rules: list[Rule],
    *,
    title: str | None = None,
    origin: str = "page",
    max_chars: int = 200_000,
) -> Article:
    """Scraped page text (or text built from extracted HTML) -> ``Article``.

    A ``title`` the text does not contain is put in front of it, a blank line apart, so the
    title is still read first; offsets then count from the start of that combined text.
    """
    check_size(text, max_chars)
    text = _with_title(sanitize(text), title)
    lines = list(_lines(text))
    for line in lines:
        _apply_rules(line, rules)
    _mark_duplicates(lines)
    _mark_caption_repeats(lines)
    title = _mark_title(lines, title)
    published, source = _meta_fields(lines, rules)
    _mark_closing(lines, rules)
    return _article(text, lines, title, published, source, origin)


def clean_plain(text: str, *, title: str | None = None, max_chars: int = 200_000) -> Article:
    """Article text typed by an editor: no chrome rules; the first line may be the title
    (a given ``title`` the text does not contain is put in front of it, as in ``clean_text``)."""
    check_size(text, max_chars)
    text = _with_title(sanitize(text), title)
    lines = list(_lines(text))
    if title is not None or len(lines) > 1:  # a single line is the text, not its title
        title = _mark_title(lines, title)
    return _article(text, lines, title, None, None, "plain")


def clean_extracted(page: ExtractedPage, rules: list[Rule], max_chars: int = 200_000) -> Article:
    """An extracted web page -> ``Article``; its text is the title and paragraphs, a blank
    line apart, and chrome rules still apply to every paragraph."""
    article = clean_text("\n\n".join(page.paragraphs), rules, title=page.title, origin="html",
                         max_chars=max_chars)
    return Article(
        text=article.text,
        title=article.title,
        published=article.published or page.published,
        source=article.source or page.source,
        paragraphs=article.paragraphs,
        origin="html",
    )


def _article(
    text: str,
    lines: list[_Line],
    title: str | None,
    published: str | None,
    source: str | None,
    origin: str,
) -> Article:
    paragraphs = tuple(
        Paragraph(i, line.kind, line.text, line.start, line.end, line.rule)
        for i, line in enumerate(lines)
    )
    article = Article(text, title, published, source, paragraphs, origin)
    if not any(p.kind is Kind.BODY for p in paragraphs):
        raise NoArticleFound(
            "no article text found: every line looks like page chrome (navigation, footer,"
            " controls). Pass the article's own text, or check the rules file."
        )
    return article
