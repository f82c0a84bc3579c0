"""A web page's bytes -> the article's title, metadata and main-text paragraphs.

Two public steps:

* :func:`decode_html` turns bytes into text. Chinese pages come in UTF-8, GBK/GB18030, Big5 and
  now and then UTF-16, and their declared charset is not always true, so the bytes themselves
  are trusted first (byte-order mark, strict UTF-8), then what the server and the page say,
  then the two Chinese encodings (GB18030 or Big5-HKSCS, whichever reads as more common
  Chinese characters), and only then charset-normalizer's guess, which takes a short Chinese
  text for Korean. :func:`decode_text` does the same for text files and typed text, without
  the clues only HTML has, and lets a few control characters through to the cleaning stage.
* :func:`extract_html` turns the page into an :class:`ExtractedPage`:

  1. the title is chosen among ``<title>``, headings and ``og:title``, without the site name;
  2. the *content root*, the element holding the most paragraph text (links, list items and
     comment or recommendation blocks not counted), is found with a small text-density score;
  3. trafilatura extracts the text lines of that root only (the whole page as a fallback),
     which keeps portal navigation, "hot news" lists and footers out of the body;
  4. leading lines that are not the article (the headline again, "原标题：...", app promotion,
     a byline, a photo caption) and trailing chrome ("责任编辑：...", copyright, "相关推荐",
     comment and follow prompts) are trimmed;
  5. the publication time and the source are read from meta tags and from the text between
     the headline and the body ("2019-09-07 13:43:45　来源: 新京报"); trafilatura's date
     (htmldate) is the last resort for the time.

Trimming here only touches the two ends of the body; line-level cleaning of what is left is
the next stage's job.
"""

from __future__ import annotations

import codecs
import copy
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher
from functools import cache

import trafilatura
from charset_normalizer import from_bytes
from lxml.etree import strip_tags  # type: ignore[import-untyped, unused-ignore]
from lxml.html import Element, HtmlElement  # type: ignore[import-untyped, unused-ignore]

from reader.errors import EmptyInput, NoArticleFound, UndecodableInput

__all__ = ["ExtractedPage", "decode_html", "decode_text", "extract_html"]


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """What a web page says about its article."""

    title: str | None  # the article's headline, not the site's name
    published: str | None  # ISO 8601 "2025-09-05T20:18", or just "2025-09-05", if the page has it
    source: str | None  # the source or publisher ("新华社", "澎湃新闻") if the page states it
    paragraphs: tuple[str, ...]  # main-text paragraphs in order, each stripped, none empty


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------

#: Byte-order marks, longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

#: File signatures of things people paste or upload by mistake, named for the error message.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x00\x00\x01\x00", "an icon file"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a zip archive or an Office document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"BZh", "bzip2-compressed data"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "a Linux program"),
    (b"OggS", "an Ogg audio file"),
    (b"ID3", "an MP3 audio file"),
    (b"fLaC", "a FLAC audio file"),
    (b"wOFF", "a web font"),
    (b"wOF2", "a web font"),
    (b"SQLite format 3\x00", "an SQLite database"),
)

#: RIFF containers name their kind in bytes 8-12.
_RIFF_KINDS: dict[bytes, str] = {b"WEBP": "a WebP image", b"WAVE": "a WAV audio file"}

#: Labels that all mean "GB 2312 or one of its supersets": gb18030 decodes every one of them.
_GB_LABELS = frozenset(
    "gb2312 gb_2312 gb_2312-80 csgb2312 euc-cn euccn x-euc-cn gbk x-gbk cp936 ms936 "
    "windows-936 gb18030 chinese iso-ir-58".split()
)

#: Labels for Big5; big5hkscs is the superset Hong Kong and Taiwan pages actually use.
_BIG5_LABELS = frozenset(
    {"big5", "big-5", "csbig5", "x-x-big5", "cn-big5", "big5-hkscs", "big5hkscs", "cp950"}
)

#: Labels servers send by default (Tomcat, old Apache) whatever the page is: a Latin-1 header
#: is believed only after the page's own meta charset.
_WEAK_LABELS = frozenset(
    "iso-8859-1 iso8859-1 latin-1 latin1 l1 us-ascii ascii windows-1252 cp1252".split()
)

#: How far into the page to look for a meta charset. The HTML standard says 1024 bytes, but
#: Chinese portals often put long scripts before it.
_CHARSET_SNIFF_BYTES = 8192

#: ``<meta charset="gbk">`` and ``<meta http-equiv="Content-Type" content="...; charset=gbk">``.
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)

#: ``<?xml version="1.0" encoding="gbk"?>`` on XHTML pages.
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)

#: Control characters that never occur in text: C0 except tab, newline, vertical tab, form
#: feed and carriage return; DEL; C1 (what binary data turns into when read as Latin-1).
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")

#: How much of the decoded text the control-character check reads.
_CONTROL_SAMPLE_CHARS = 65536

#: How many bytes are read to recognise UTF-16 without a byte-order mark.
_UTF16_SNIFF_BYTES = 256

#: A multi-byte character cut off by truncation leaves at most this many bytes at the end.
_MAX_TRUNCATED_TAIL = 3

#: The Chinese encodings, tried after UTF-8 and any declared charset but before detection, each
#: with the codec and code ranges of its common characters: for GB 2312, the punctuation and
#: symbol rows (A1A1-A3FE) and level 1 (B0A1-D7F9, the 3,755 characters of everyday simplified
#: Chinese); for Big5, the symbols (A140-A3BF) and the frequently used characters (A440-C67E,
#: 5,401 traditional ones). A statistical detector needs more text than a headline or a
#: sentence: it reads 今天天气很好。 in GBK as Korean (쏟莖莖폭붤봤。).
_CHINESE_ENCODINGS: tuple[tuple[str, str, tuple[tuple[int, int], ...]], ...] = (
    ("gb18030", "gb2312", ((0xA1A1, 0xA3FE), (0xB0A1, 0xD7F9))),
    ("big5hkscs", "big5", ((0xA140, 0xA3BF), (0xA440, 0xC67E))),
)

#: A decoding is Chinese when at least this share of its non-ASCII characters are common
#: characters of its encoding, and the one with the larger share wins (GB on a tie). Chinese
#: text scores 0.9 and more in its own encoding and about half as much in the other; bytes in
#: Latin-1, Cyrillic or Shift JIS score near nothing and are left to detection. Known limit:
#: Korean (EUC-KR) and Japanese (EUC-JP) land in the common blocks, so an undeclared page in
#: either is read as Chinese.
_MIN_COMMON_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class _Input:
    """What is being decoded: which clues to its encoding it carries and how to speak of it."""

    noun: str  # its name in messages: "the page", "the text"
    kind: str  # what binary data is not: "a web page", "text"
    instead: str  # what to send instead of binary data
    save_as: str  # what to do when no encoding fits
    markup: bool  # HTML: meta charset and XML declaration read, UTF-16 known by its first "<"
    max_control_share: float  # above this share of control characters, it is binary data


#: Web pages hold no control characters: over 1% of them means binary data.
_PAGE = _Input(
    noun="the page",
    kind="a web page",
    instead="send the page's HTML instead",
    save_as="save it as UTF-8, or pass its charset from the HTTP Content-Type header",
    markup=True,
    max_control_share=0.01,
)

#: Text files and typed text: text copied from documents and terminals carries stray control
#: characters, which the cleaning stage turns into spaces; over a tenth of them means binary.
_TEXT = _Input(
    noun="the text",
    kind="text",
    instead="send the article as plain text instead",
    save_as="save it as UTF-8",
    markup=False,
    max_control_share=0.10,
)


def decode_html(data: bytes, declared: str | None = None) -> str:
    """Decode a web page's bytes, whatever common Chinese encoding they are in.

    ``declared`` is the charset from the HTTP ``Content-Type`` header, if any. Raises
    ``EmptyInput`` for empty or whitespace-only data and ``UndecodableInput`` for binary data
    or text in no encoding we can identify.
    """
    return _decode(data, declared, _PAGE)


def decode_text(data: bytes) -> str:
    """Decode a text file or typed text (``reader segment file.txt``, standard input).

    The encodings are found as for :func:`decode_html`, without the clues only HTML has.
    Raises ``EmptyInput`` for empty or whitespace-only data and ``UndecodableInput`` for binary
    data (NUL bytes, a known file signature, over 10% control characters) or text in no
    encoding we can identify. A few control characters are left for the cleaning stage.
    """
    return _decode(data, None, _TEXT)


def _decode(data: bytes, declared: str | None, what: _Input) -> str:
    if not data.strip():
        raise EmptyInput(f"{what.noun} is empty: there is nothing to read")
    _reject_binary_signature(data, what)
    text = _decode_by_bom(data, what)
    if text is None and what.markup:
        text = _decode_utf16_markup(data)
    if text is None:
        _reject_nul_bytes(data, what)
        text = _decode_by_guessing(data, declared, what)
    _reject_control_characters(text, what)
    if not text.strip():
        raise EmptyInput(f"{what.noun} is empty: there is nothing to read")
    return text


def _binary_data(what: _Input, kind: str | None = None) -> UndecodableInput:
    guess = f" ({kind}?)" if kind else ""
    return UndecodableInput(
        f"this looks like binary data{guess}, not {what.kind}; {what.instead}"
    )


def _reject_binary_signature(data: bytes, what: _Input) -> None:
    kind = _binary_kind(data)
    if kind is not None:
        raise _binary_data(what, kind)


def _binary_kind(data: bytes) -> str | None:
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    if data.startswith(b"RIFF"):
        return _RIFF_KINDS.get(data[8:12], "a RIFF media file")
    if data[4:8] == b"ftyp":  # ISO media: MP4, MOV, HEIC
        return "a video or HEIC image"
    return None


def _decode_by_bom(data: bytes, what: _Input) -> str | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = _decode_strictly(data[len(bom) :], encoding)
            if text is None:
                raise UndecodableInput(
                    f"{what.noun} starts with a {encoding.upper()} byte-order mark but is not "
                    f"valid {encoding.upper()}; save it again as UTF-8"
                )
            return text
    return None


def _decode_utf16_markup(data: bytes) -> str | None:
    """UTF-16 without a byte-order mark, recognised by markup ("<") as its first character."""
    for encoding in ("utf-16-le", "utf-16-be"):
        head = data[:_UTF16_SNIFF_BYTES].decode(encoding, errors="ignore").lstrip()
        if head.startswith("<"):
            return _decode_strictly(data, encoding)
    return None


def _reject_nul_bytes(data: bytes, what: _Input) -> None:
    # No text encoding we accept puts NUL bytes in text, short of UTF-16/32 handled above.
    if b"\x00" in data:
        raise _binary_data(what)


def _decode_by_guessing(data: bytes, declared: str | None, what: _Input) -> str:
    text = _decode_strictly(data, "utf-8")
    if text is not None:  # text that is valid UTF-8 is UTF-8, whatever its meta tag says
        return text
    labels = _charset_labels(data, declared, what.markup)
    for label in labels:
        text = _decode_strictly(data, label)
        if text is not None:
            return text
    text = _decode_as_chinese(data)
    if text is not None:
        return text
    text = _decode_as_detected(data)
    if text is not None:
        return text
    chinese = [encoding for encoding, *_ in _CHINESE_ENCODINGS if encoding not in labels]
    tried = ", ".join(["UTF-8", *labels, *chinese])
    raise UndecodableInput(
        f"could not tell which character encoding {what.noun} is in (tried {tried} and detection); "
        f"{what.save_as}"
    )


def _charset_labels(data: bytes, declared: str | None, markup: bool) -> list[str]:
    """Codec names to try, in order: the HTTP header's (unless weak), the page's, the weak one."""
    header = _codec_name(declared) if declared else None
    weak = declared is not None and declared.strip().lower() in _WEAK_LABELS
    page = _codec_name(_page_charset(data)) if markup else None
    ordered = [page, header] if weak else [header, page]
    labels: list[str] = []
    for label in ordered:
        if label is not None and label not in labels and label != "utf-8":
            labels.append(label)
    return labels


def _page_charset(data: bytes) -> str | None:
    head = data[:_CHARSET_SNIFF_BYTES]
    match = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    return match.group(1).decode("ascii") if match else None


def _codec_name(label: str | None) -> str | None:
    """A Python codec for a charset label, with GB and Big5 widened to their supersets."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _GB_LABELS:
        return "gb18030"
    if label in _BIG5_LABELS:
        return "big5hkscs"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _decode_as_chinese(data: bytes) -> str | None:
    """The decoding in a Chinese encoding with the largest share of common characters, if any
    reaches :data:`_MIN_COMMON_SHARE`; on a tie the first (simplified) wins."""
    best: tuple[float, str] | None = None
    for encoding, codec, ranges in _CHINESE_ENCODINGS:
        text = _decode_strictly(data, encoding)
        if text is None:
            continue
        share = _common_share(text, _common_characters(codec, ranges))
        if share >= _MIN_COMMON_SHARE and (best is None or share > best[0]):
            best = share, text
    return best[1] if best is not None else None


def _common_share(text: str, common: frozenset[str]) -> float:
    """The share of the non-ASCII characters of ``text`` that are in ``common``."""
    wide = [char for char in text if char > "\x7f"]
    return sum(char in common for char in wide) / len(wide) if wide else 0.0


@cache
def _common_characters(codec: str, ranges: tuple[tuple[int, int], ...]) -> frozenset[str]:
    """The characters a two-byte codec has in the code ``ranges`` (first and last code of each),
    read from the codec's own table on first use."""
    characters: set[str] = set()
    for first, last in ranges:
        for code in range(first, last + 1):
            try:
                characters.add(code.to_bytes(2, "big").decode(codec))
            except UnicodeDecodeError:  # an unassigned code, or a byte the codec does not use
                continue
    return frozenset(characters)


def _decode_as_detected(data: bytes) -> str | None:
    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        return None
    encoding = _codec_name(best.encoding)
    return _decode_strictly(data, encoding) if encoding else None


def _decode_strictly(data: bytes, encoding: str) -> str | None:
    """Decode without replacement; a character cut off at the very end is dropped, not fatal."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        if error.end < len(data) or error.start < len(data) - _MAX_TRUNCATED_TAIL:
            return None  # a bad byte inside the text, not a character cut off at its end
        try:
            return data[: error.start].decode(encoding)
        except UnicodeDecodeError:
            return None
    except LookupError:
        return None


def _reject_control_characters(text: str, what: _Input) -> None:
    sample = text[:_CONTROL_SAMPLE_CHARS]
    controls = len(_CONTROL_CHARS.findall(sample))
    if "\x00" in sample or controls > what.max_control_share * len(sample):
        raise _binary_data(what)


# --------------------------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------------------------

#: Any run of whitespace, full-width space U+3000 and no-break space included (``\s`` covers
#: both in Python), becomes one space inside a paragraph.
_WHITESPACE = re.compile(r"\s+")

#: Zero-width characters pages use as invisible separators; they are dropped.
_ZERO_WIDTH = re.compile(r"[\u200b-\u200d\u2060\ufeff]")


def _squeeze(text: str | None) -> str:
    """Whitespace runs to one space, zero-width characters dropped, ends stripped."""
    if not text:
        return ""
    return _WHITESPACE.sub(" ", _ZERO_WIDTH.sub("", text)).strip()


def _key(text: str) -> str:
    """Text as compared across title candidates: no whitespace at all."""
    return _WHITESPACE.sub("", _ZERO_WIDTH.sub("", text))


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

#: Tags whose text is never article text: code, form controls, embedded documents, the head.
_SKIPPED_TAGS = frozenset(
    "script style noscript template textarea select option iframe svg button input "
    "head title".split()
)


def _parse(html: str) -> HtmlElement:
    tree = trafilatura.load_html(html)
    if tree is None or tree.tag != "html":  # a fragment: parse it as the body of a page
        tree = trafilatura.load_html(f"<html><body>{html}</body></html>")
    if tree is None:
        raise NoArticleFound("this is not an HTML page with text in it")
    return tree


def _body(tree: HtmlElement) -> HtmlElement:
    body = tree.find("body")
    if body is None:
        raise NoArticleFound("the page has no <body>: there is no article text in it")
    return body


# --------------------------------------------------------------------------------------------
# Title
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Headline:
    text: str
    element: HtmlElement | None  # where the headline stands in the page, if it is an element


#: Elements whose text may be the headline, best first. Some sites (xinhuanet) use a
#: ``<div class="h-title">`` rather than a heading.
_HEADING_XPATHS = ("//h1", "//h2", "//h3", "//*[contains(@class, 'title')][not(self::title)]")

#: Real heading tags, trusted to hold a whole headline when ``<title>`` holds a shortened one.
_HEADING_TAGS = frozenset({"h1", "h2", "h3"})

#: Headlines are shorter than this; longer "heading" text is a paragraph styled as one.
_MAX_TITLE_CHARS = 120

#: A heading must be this long to be trusted as a prefix of ``<title>`` ("新闻" is not).
_MIN_TITLE_CHARS = 4

#: Separators between a headline and the site or channel name in ``<title>``. Strong ones
#: ("_", "|", "｜", "--", a dash with spaces round it: "headline - 山西省人民政府门户网站") always
#: separate; a bare dash ("headline-新华网") also occurs in headlines ("中国-东盟"), so the part
#: after it must look like a site name. Strong is tried first so "--" is not read as two dashes.
_SEPARATOR = re.compile(r"(?P<strong>\s*(?:_|\||｜|--|\s[-–—]\s)\s*)|(?P<weak>[-–—])")

#: Words that make a short text a site or channel name.
_SITE_WORDS = re.compile(
    r"网|新闻|报|频道|在线|门户|客户端|官网|平台|中心|资讯|财经|日报|晚报|电视|广播|政府|"
    r"\.(?:com|cn|net|org)\b|^[A-Za-z][A-Za-z .]*$"
)

#: A site or channel name after a separator is at most this long.
_MAX_SITE_NAME_CHARS = 20


def _choose_title(tree: HtmlElement) -> _Headline | None:
    page_title = _squeeze(tree.findtext(".//title"))
    headings = _heading_candidates(tree)
    if page_title:
        matched = _heading_matching(page_title, headings)
        if matched is not None:
            return matched
        stripped = _strip_site_suffix(page_title)
        if stripped and not _SEPARATOR.match(stripped):  # "-铜雀历史网": no headline in it
            return _Headline(stripped, None)
    if headings:
        return headings[0]
    return None


def _heading_candidates(tree: HtmlElement) -> list[_Headline]:
    candidates: list[_Headline] = []
    for xpath in _HEADING_XPATHS:
        for element in tree.xpath(xpath):
            text = _squeeze(element.text_content())
            if _MIN_TITLE_CHARS <= len(text) <= _MAX_TITLE_CHARS:
                candidates.append(_Headline(text, element))
    for content in tree.xpath("//meta[@property='og:title' or @name='og:title']/@content"):
        text = _squeeze(str(content))
        if len(text) >= _MIN_TITLE_CHARS:
            candidates.append(_Headline(text, None))
    return candidates


def _heading_matching(page_title: str, headings: Sequence[_Headline]) -> _Headline | None:
    """The heading that is ``<title>``, or starts it, or that ``<title>`` starts or is part of.

    Best first: a heading equal to ``<title>``; the longest heading that starts it (``<title>``
    adds the site name); the shortest real heading that it starts (``<title>`` was cut short);
    ``<title>`` itself if a heading holds it ("原创" + headline).
    """
    title_key = _title_key(page_title)
    keyed = [(_title_key(heading.text), heading) for heading in headings]
    # An og:title equal to <title> says nothing about where the headline ends.
    keyed = [(key, heading) for key, heading in keyed
             if key != title_key or heading.element is not None]
    for key, heading in keyed:
        if key == title_key:
            return heading
    prefixes = [heading for key, heading in keyed if title_key.startswith(key)]
    if prefixes:
        return max(prefixes, key=lambda heading: len(heading.text))
    longer = [
        heading
        for key, heading in keyed
        if key.startswith(title_key) and _is_heading_tag(heading.element)
    ]
    if longer:
        return min(longer, key=lambda heading: len(heading.text))
    for key, heading in keyed:
        if title_key in key:
            return _Headline(page_title, heading.element)
    return None


#: Dash runs: ``<title>`` writes a headline's "——" as "-" (toutiao).
_DASHES = re.compile(r"[-–—]+")


def _title_key(text: str) -> str:
    """A headline as compared with ``<title>``: no whitespace, any dash run one "-"."""
    return _DASHES.sub("-", _key(text))


def _is_heading_tag(element: HtmlElement | None) -> bool:
    return element is not None and element.tag in _HEADING_TAGS


def _strip_site_suffix(title: str) -> str:
    """``"标题_网易新闻"``, ``"标题-新华网"``, ``"标题 | 澎湃新闻"`` -> ``"标题"``."""
    title = _squeeze(title)
    while True:
        shorter = _without_last_part(title)
        if shorter is None:
            return title
        title = shorter


def _without_last_part(title: str) -> str | None:
    separators = list(_SEPARATOR.finditer(title))
    if not separators:
        return None
    last = separators[-1]
    head, tail = title[: last.start()].strip(), title[last.end() :].strip()
    if len(head) < _MIN_TITLE_CHARS or len(tail) > _MAX_SITE_NAME_CHARS:
        return None
    if last.group("strong") is not None or _SITE_WORDS.search(tail):
        return head
    return None


# --------------------------------------------------------------------------------------------
# Content root
# --------------------------------------------------------------------------------------------

#: Block-level tags: text inside them is a paragraph of its own.
_BLOCK_TAGS = frozenset(
    "address article aside blockquote body center dd details dialog div dl dt "
    "fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr li main nav "
    "ol p pre section summary table tbody td tfoot th thead tr ul".split()
)

#: Paragraph tags: their text is credited to their parent, the container of the article.
_PARAGRAPH_TAGS = frozenset({"p", "section", "blockquote", "pre", "h2", "h3", "h4", "h5", "h6"})

#: Blocks whose text never makes an element the article's container: lists (navigation,
#: "hot news" rankings), page regions that are chrome by definition, and the headline.
_UNCREDITED_TAGS = frozenset(
    {"li", "dt", "dd", "ul", "ol", "nav", "header", "footer", "aside", "form", "h1"}
)

#: Inline elements whose text is not the article's: links and the skipped tags.
_NOT_COUNTED_INLINE = _SKIPPED_TAGS | {"a"}

#: Inline styles that hide an element. ``visibility: hidden`` is not one: WeChat articles keep
#: their whole text (``#js_content``) under it until a script has laid the page out.
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none", re.I)

#: Class or id words of blocks that hold no article text: comment threads (which on a short
#: article can outweigh it; "commentary" is an article), recommendations, sidebars, footers,
#: share bars, search boxes (their rotating "hot search" suggestions) and story streams
#: (Yahoo's "stream" of teasers under a short article, each with its summary).
_CHROME_BLOCK = re.compile(
    r"comment(?!ary)|recommend|related|sidebar|side-bar|footer|share|hot-?news|rank|"
    r"(?<![a-z])search|"
    r"(?<![a-z])stream(?![a-z])|more-?stories",
    re.I,
)

#: Below this many characters of paragraph text an element is not trusted as the content root
#: and trafilatura reads the whole page.
_MIN_ROOT_CHARS = 60

#: Table parts: a content root that is one is handed to trafilatura as a ``<div>``.
_TABLE_PART_TAGS = frozenset({"td", "th", "tr", "tbody", "thead", "tfoot"})


def _content_root(body: HtmlElement) -> HtmlElement | None:
    """The element that holds the most paragraph text, or None if no element holds enough.

    Blocks named like chrome are left out, unless nothing else holds any text: then the
    article itself has such a name.
    """
    for skip_chrome in (True, False):
        scores: dict[HtmlElement, int] = {}
        _score_children(body, scores, skip_chrome)
        if scores:
            root, score = max(scores.items(), key=lambda item: item[1])
            return root if score >= _MIN_ROOT_CHARS else None
    return None


def _score_children(parent: HtmlElement, scores: dict[HtmlElement, int], skip_chrome: bool) -> bool:
    """Credit paragraph text below ``parent``; return whether ``parent`` holds any block."""
    holds_block = False
    for child in parent:
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIPPED_TAGS or _is_hidden(child):
            continue
        if skip_chrome and _looks_like_chrome(child):
            holds_block = holds_block or tag in _BLOCK_TAGS
            continue
        child_holds_block = _score_children(child, scores, skip_chrome)
        if tag in _BLOCK_TAGS:
            holds_block = True
            if tag not in _UNCREDITED_TAGS:
                _credit(child, parent, child_holds_block, scores)
        holds_block = holds_block or child_holds_block
    return holds_block


def _credit(
    block: HtmlElement, parent: HtmlElement, holds_block: bool, scores: dict[HtmlElement, int]
) -> None:
    length = _own_text_length(block)
    if not length:
        return
    # A paragraph, or a block with nothing but inline text and no line breaks, is one
    # paragraph of its container; a block with direct text broken by <br> is the container.
    is_paragraph = block.tag in _PARAGRAPH_TAGS or (not holds_block and block.find("br") is None)
    target = parent if is_paragraph else block
    scores[target] = scores.get(target, 0) + length


def _own_text_length(element: HtmlElement) -> int:
    """Characters of text directly in ``element`` or in its inline children, links excluded."""
    length = _text_length(element.text)
    for child in element:
        length += _text_length(child.tail)
        if isinstance(child.tag, str) and child.tag not in _BLOCK_TAGS:
            length += _inline_text_length(child)
    return length


def _inline_text_length(element: HtmlElement) -> int:
    if element.tag in _NOT_COUNTED_INLINE or _is_hidden(element):
        return 0
    length = _text_length(element.text)
    for child in element:
        if isinstance(child.tag, str) and child.tag in _BLOCK_TAGS:
            return 0  # an inline element wrapping blocks is a container, scored on its own
        length += _inline_text_length(child) + _text_length(child.tail)
    return length


def _text_length(text: str | None) -> int:
    return len(_key(text)) if text else 0


def _is_hidden(element: HtmlElement) -> bool:
    style = element.get("style")
    return style is not None and _HIDDEN_STYLE.search(style) is not None


def _looks_like_chrome(element: HtmlElement) -> bool:
    names = f"{element.get('class') or ''} {element.get('id') or ''}"
    return _CHROME_BLOCK.search(names) is not None


# --------------------------------------------------------------------------------------------
# Body text
# --------------------------------------------------------------------------------------------

#: Inline tags that only style text. trafilatura puts every ``<span>`` of a paragraph on a line
#: of its own, which cuts WeChat-style paragraphs (``<section><span>...</span><span>...``)
#: mid-sentence; their text is kept, the tags dropped.
_PRESENTATION_TAGS = ("span", "font")

#: Class words of inline widgets inside paragraphs: comment and like counters (qidian's
#: ``<span class="review-count">37</span>`` after each paragraph), which would otherwise be
#: glued to the paragraph's last sentence when the presentation tags are dropped.
_INLINE_WIDGET = re.compile(r"(?<![a-z])(?:review|comment|count|digg|like|share)s?(?![a-z])", re.I)

#: trafilatura writes list items as "- item"; the marker is its, not the page's.
_LIST_MARKER = re.compile(r"^- ")


def _text_lines(tree: HtmlElement, root: HtmlElement | None, url: str | None) -> list[str]:
    """trafilatura's text lines for the content root, or for the whole page if that fails."""
    if root is not None:
        lines = _trafilatura_lines(_document_of(root), url)
        if lines:
            return lines
    return _trafilatura_lines(tree, url)


def _document_of(root: HtmlElement) -> HtmlElement:
    """A document holding a copy of ``root`` only, prepared for trafilatura."""
    content = copy.deepcopy(root)
    if content.tag in _TABLE_PART_TAGS:
        content.tag = "div"  # a lone cell or row is not valid HTML: keep its content only
    _drop_inline_widgets(content)
    _drop_sponsored_links(content)
    strip_tags(content, *_PRESENTATION_TAGS)
    _text_sections_as_paragraphs(content)
    body = Element("body")
    body.append(content)
    document = Element("html")
    document.append(body)
    return document


def _drop_inline_widgets(content: HtmlElement) -> None:
    """Remove counters and buttons nested in paragraphs (their tail text stays)."""
    widgets = [
        element
        for element in content.iter(*_PRESENTATION_TAGS)
        if _INLINE_WIDGET.search(f"{element.get('class') or ''} {element.get('id') or ''}")
    ]
    for widget in widgets:
        if widget.getparent() is not None:
            widget.drop_tree()


#: The label an advertisement carries inside its link: ``<a><i>广告</i><span>...</span></a>``.
_AD_LABELS = frozenset({"广告", "推广", "赞助", "AD"})


def _drop_sponsored_links(content: HtmlElement) -> None:
    """Remove links labelled as advertisements (360kuai puts them between paragraphs)."""
    ads = [
        link
        for link in content.iter("a")
        if any(_squeeze(element.text) in _AD_LABELS for element in link.iterdescendants())
    ]
    for link in ads:
        if link.getparent() is not None:
            link.drop_tree()


def _text_sections_as_paragraphs(content: HtmlElement) -> None:
    """WeChat writes paragraphs as ``<section>text</section>``; trafilatura keeps text of a
    ``<section>`` only inside a ``<p>``, so a section holding text and no block is one."""
    for section in content.iter("section"):
        if _key(section.text or "") and not any(
            isinstance(child.tag, str) and child.tag in _BLOCK_TAGS for child in section
        ):
            section.tag = "p"


def _trafilatura_lines(tree: HtmlElement, url: str | None) -> list[str]:
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        fast=True,
        include_comments=False,
        include_images=False,
        include_tables=True,
        with_metadata=False,
    )
    text = getattr(document, "text", None)
    if not isinstance(text, str):
        return []
    lines = (_squeeze(_LIST_MARKER.sub("", line)) for line in text.splitlines())
    return [line for line in lines if line]


#: "原标题：...", "（原标题：...）", "本文原标题：《...》", "（原题为《...》）": the headline the
#: article had elsewhere.
_ORIGINAL_TITLE = re.compile(r"^[（(【\[]?\s*(?:本文)?原(?:标)?题\s*(?:为|[:：])")

#: "安装新浪财经客户端第一时间接收...": app promotion above the article.
_APP_PROMOTION = re.compile(r"^(?:安装|下载|打开).{0,12}(?:客户端|APP|App|app)")

#: A line starting with a credit label: "记者：", "执笔/", "原创：", "编译 |".
_BYLINE_LABEL = re.compile(
    r"^[（(【\[]?\s*(?:本报|特约|见习)?(?:记者|作者|文|撰文|执笔|编译|原创|通讯员|摄影|摄像|"
    r"文图|图文|采写|来源|编辑)\s*[:：/|｜丨]"
)

#: A line naming reporters: "澎湃新闻记者 段彦超 廖艳", "本报记者 张三 通讯员 李四".
_BYLINE_WORDS = re.compile(r"记者|通讯员|特约撰稿|撰稿人")

#: Sentence punctuation: a line with it is prose, not a byline.
_SENTENCE_PUNCTUATION = re.compile(r"[。！？；，,!?;]")

#: Bylines are short.
_MAX_BYLINE_CHARS = 40

#: A photo caption or credit standing above the article: "图为...", "▲...", "...（刘通摄）",
#: "每经记者 张蕊 摄", "...。视频截图", "小花母亲供图", "共享充电宝。视觉中国 资料".
_CAPTION = re.compile(
    r"^(?:图为|图[:：]|[（(]图|▲|△)|"
    r"(?:[（(][^（()）]{1,20}摄|\s摄|记者.{1,12}摄|供图|资料图片?|(?:视频|网络|微博)?截图|"
    r"(?:视觉中国|东方IC|图虫创意|新华社|中新社)\s*(?:资料|供图|发)?图?|"
    r"图源[^。]{0,20}|图片来[源自][^。]{0,20})[)）]?$"
)

#: Captions are short.
_MAX_CAPTION_CHARS = 60

#: A line holding just a date or time, as header blocks have ("2019-09-24 09:10").
_DATE_ONLY = re.compile(r"^[\d\s:：/.年月日时分秒-]+$")

#: Leading lines shorter than this are header debris ("原创", "关注", "字号", "1", "/10").
_MIN_LEADING_CHARS = 5

#: How many lines at the start may be trimmed: beyond that, it is the article.
_MAX_LEADING_TRIM = 8

#: A leading line this similar to the headline is the headline again (or its variant).
_TITLE_SIMILARITY = 0.8


def _trim_start(lines: list[str], title: str | None) -> list[str]:
    start = 0
    while start < min(len(lines), _MAX_LEADING_TRIM) and _is_header_line(lines[start], title):
        start += 1
    return lines[start:]


def _is_header_line(line: str, title: str | None) -> bool:
    return (
        len(line) < _MIN_LEADING_CHARS
        or (title is not None and _repeats_title(line, title))
        or _ORIGINAL_TITLE.match(line) is not None
        or _APP_PROMOTION.match(line) is not None
        or _is_byline(line)
        or _is_caption(line)
        or _DATE_ONLY.match(line) is not None
    )


def _repeats_title(line: str, title: str) -> bool:
    line_key, title_key = _key(line), _key(title)
    if line_key == title_key or (title_key in line_key and len(line_key) <= len(title_key) + 6):
        return True
    return SequenceMatcher(None, line_key, title_key).ratio() >= _TITLE_SIMILARITY


def _is_byline(line: str) -> bool:
    if len(line) > _MAX_BYLINE_CHARS:
        return False
    if _BYLINE_LABEL.match(line):
        return True
    return _BYLINE_WORDS.search(line) is not None and not _SENTENCE_PUNCTUATION.search(line)


def _is_caption(line: str) -> bool:
    return len(line) <= _MAX_CAPTION_CHARS and _CAPTION.search(line) is not None


#: Editor and proofreader credits closing an article: "责任编辑：霍琦", "编辑|禤志杰", "校对|...".
_EDITOR_CREDIT = re.compile(
    r"^[（(【\[]?\s*(?:责任编辑|责编|编辑|值班编辑|审核|审校|校对|监制|统筹|主编|终审|初审|复审)"
    r"\s*[:：|｜丨]"
)

#: Copyright, reprint and disclaimer notices.
_COPYRIGHT = re.compile(
    r"版权所有|版权归|版权声明|©|Copyright|All Rights Reserved|未经.{0,8}(?:授权|允许|许可)|"
    r"不得转载|禁止转载|转载请|免责声明|特别声明",
    re.I,
)

#: Headings of recommendation blocks and tag lines: "相关热门文章", "相关推荐", "关键词 >>",
#: "相关资讯请关注:逆水寒专区".
_RECOMMENDATION = re.compile(
    r"^(?:相关|推荐|热门|热点|延伸|更多|往期|精彩)(?:热门)?(?:阅读|新闻|文章|推荐|资讯|链接|专题|内容)|"
    r"^相关资讯请关注|^关键词|^标签\s*[:：]"
)

#: Prompts to comment, share, follow, scan or report errors: "我要跟帖", "点【在看】",
#: "扫描下方二维码", "回复【社保】查询...", "点击菜单栏...", "【纠错】".
_PROMPT = re.compile(
    r"评论|跟帖|留言|点赞|在看|分享到|二维码|扫码|长按|关注.{0,10}(?:公众号|微信|微博|我们)|"
    r"点击.{0,10}(?:关注|阅读原文|菜单|下方|链接)|回复【|已输入\d+字|纠错"
)

#: Photo credits, sources and compilers closing an article: "图片均来自网络", "来源|广州参考",
#: "信息来源于网络", "经过文刃重新编排", "本文由小编整理".
_CLOSING_CREDIT = re.compile(
    r"^图片(?:均)?(?:来自|来源)|来源于网络|^(?:本文)?来源\s*[:：|｜丨]|"
    r"^(?:本文)?(?:由|经过?).{1,12}(?:重新)?(?:编排|整理|编辑|编译)(?:而成)?[。.]?$"
)

#: Closing chrome lines are short; a longer line is the article's.
_MAX_CLOSING_CHARS = 60

#: Copyright notices and disclaimers may be long.
_MAX_NOTICE_CHARS = 200


#: A line of prose is at least this long and has sentence punctuation ...
_MIN_PROSE_CHARS = 10

#: ... or is at least this long: link lists and menus have neither.
_MIN_UNPUNCTUATED_PROSE_CHARS = 40

#: Punctuation found in Chinese and English prose, colons included ("记者表示：").
_PROSE_PUNCTUATION = re.compile(r"[。！？；，、：,.!?;:]")


def _has_prose(lines: Sequence[str]) -> bool:
    """Whether any line reads as a sentence rather than a menu item or a headline link."""
    return any(
        len(line) >= _MIN_UNPUNCTUATED_PROSE_CHARS
        or (len(line) >= _MIN_PROSE_CHARS and _PROSE_PUNCTUATION.search(line) is not None)
        for line in lines
    )


#: A "back to the portal" link glued to the last line by the page's markup: "…）返回搜狐，查看更多".
_GLUED_BACK_LINK = re.compile(r"\s*返回[^，,。！？]{1,10}[，,]\s*查看更多$")


def _trim_end(lines: list[str]) -> list[str]:
    end = len(lines)
    while end > 0 and _is_closing_chrome(lines[end - 1]):
        end -= 1
    if end and _GLUED_BACK_LINK.search(lines[end - 1]):
        last = _GLUED_BACK_LINK.sub("", lines[end - 1])
        return _trim_end([*lines[: end - 1], last] if last else lines[: end - 1])
    return lines[:end]


def _is_closing_chrome(line: str) -> bool:
    if len(line) <= _MAX_NOTICE_CHARS and _COPYRIGHT.search(line):
        return True
    if len(line) > _MAX_CLOSING_CHARS:
        return False
    return any(
        pattern.search(line) is not None
        for pattern in (_ORIGINAL_TITLE, _EDITOR_CREDIT, _RECOMMENDATION, _PROMPT, _CLOSING_CREDIT)
    )


# --------------------------------------------------------------------------------------------
# Header: the text between the headline and the body
# --------------------------------------------------------------------------------------------

#: Text segments looked at before the body when the headline is not an element.
_HEADER_SEGMENTS = 40

#: Characters of the first paragraph used to find where the body starts in the page.
_BODY_PROBE_CHARS = 12


def _text_segments(element: HtmlElement) -> Iterator[tuple[HtmlElement, str]]:
    """Every non-blank text node below ``element`` in document order, with its element."""
    if element.text and element.text.strip():
        yield element, element.text
    for child in element:
        if isinstance(child.tag, str) and child.tag not in _SKIPPED_TAGS:
            yield from _text_segments(child)
        if child.tail and child.tail.strip():
            yield element, child.tail


def _header_segments(
    body: HtmlElement, headline: HtmlElement | None, first_paragraph: str
) -> list[str]:
    """Texts between the headline (or a little before the body) and the body's first line."""
    segments = list(_text_segments(body))
    probe = _key(first_paragraph)[:_BODY_PROBE_CHARS]
    start = _index_after(segments, headline) if headline is not None else 0
    end = next((i for i in range(start, len(segments)) if probe in _key(segments[i][1])), None)
    if end is None:
        return [_squeeze(text) for _, text in segments[start : start + _HEADER_SEGMENTS]]
    if headline is None:
        start = max(0, end - _HEADER_SEGMENTS)
    return [_squeeze(text) for _, text in segments[start:end]]


def _index_after(segments: Sequence[tuple[HtmlElement, str]], headline: HtmlElement) -> int:
    inside = {headline, *headline.iterdescendants()}
    last = None
    for index, (owner, _) in enumerate(segments):
        if owner in inside:
            last = index
        elif last is not None:
            break
    return last + 1 if last is not None else 0


# --------------------------------------------------------------------------------------------
# Publication time
# --------------------------------------------------------------------------------------------

#: A date with an optional time: "2019-09-07 13:43:45", "2019年11月25日 18:57",
#: "2019-09-07T13:43:45+08:00", "2019/9/7". Years 1990-2099 keep phone numbers out.
_DATETIME = re.compile(
    r"(?<!\d)(?P<year>199\d|20\d\d)\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*"
    r"(?P<day>\d{1,2})(?!\d)\s*日?(?:[T\s]*(?P<hour>\d{1,2})\s*[:：时]\s*(?P<minute>\d{2}))?"
)

#: Meta tags that hold the publication time, by lower-cased name or property; sites spell
#: them many ways (ifeng even with a trailing space: "og:time ").
_PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "og:release_date",
    "og:time",
    "pubdate",
    "publishdate",
    "publish_date",
    "publish-date",
    "publishtime",
    "publish_time",
    "apub:time",
    "datepublished",
    "dc.date.issued",
    "dc.date",
    "dcterms.created",
    "sailthru.date",
    "release_date",
    "weibo: article:create_at",
)


def _published(tree: HtmlElement, header: Sequence[str], url: str | None) -> str | None:
    from_meta = [iso_datetime(value) for value in _meta_values(tree, _PUBLISHED_META)]
    with_time = [value for value in from_meta if value is not None and "T" in value]
    if with_time:
        return with_time[0]
    from_header = iso_datetime(" ".join(header))
    if from_header is not None:
        return from_header
    dates = [value for value in from_meta if value is not None]
    if dates:
        return dates[0]
    return _trafilatura_date(tree, url)


def iso_datetime(text: str) -> str | None:
    """The first valid date (and time) in ``text`` as ISO 8601: ``2025-09-05T20:18``."""
    for match in _DATETIME.finditer(text):
        year, month, day = (int(match.group(name)) for name in ("year", "month", "day"))
        try:
            day_text = date(year, month, day).isoformat()
        except ValueError:
            continue
        hour, minute = match.group("hour"), match.group("minute")
        if hour is not None and minute is not None and int(hour) < 24 and int(minute) < 60:
            return f"{day_text}T{int(hour):02d}:{minute}"
        return day_text
    return None


def _meta_values(tree: HtmlElement, names: Sequence[str]) -> list[str]:
    """Contents of meta tags whose name, property or itemprop is in ``names``, in that order."""
    found: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = meta.get("name") or meta.get("property") or meta.get("itemprop") or ""
        key = key.strip().lower()
        content = (meta.get("content") or "").strip()
        if key in names and content and key not in found:
            found[key] = content
    return [found[name] for name in names if name in found]


def _trafilatura_date(tree: HtmlElement, url: str | None) -> str | None:
    metadata = trafilatura.extract_metadata(
        tree,
        default_url=url,
        # No extensive search: it hands text to dateparser, which compiles regexes for 200
        # locales on first use (about a second) and rarely finds more on Chinese pages.
        date_config={
            "extensive_search": False,
            "original_date": True,
            "max_date": date.today().isoformat(),
        },
    )
    value = getattr(metadata, "date", None)
    return value if isinstance(value, str) and value else None


# --------------------------------------------------------------------------------------------
# Source
# --------------------------------------------------------------------------------------------

#: "来源：新京报", "来源: 证券市场红周刊", "本文来源：...", "来源" followed by the name in the next
#: element (xinhuanet, csdn).
_SOURCE_LABEL = re.compile(r"(?:文章|本文|信息|稿件)?来源\s*[:：|｜]?\s*(?P<name>.*)$")

#: Meta tags naming the source (people.com.cn: "来源：人民网-文化频道 原创稿"; shanxi.gov.cn).
_SOURCE_META = ("source", "contentsource", "article:source", "og:article:source")

#: Elements that hold the source name on their own: ``<a class="source">`` (sina),
#: ``<em id="source">`` (xinhuanet).
_SOURCE_CLASS = re.compile(r"(?:^|[\s_-])source(?:$|[\s_-])", re.I)

#: What ends a source name within a line: the next header item ("【字体：大 中 小】", "作者",
#: a time, "1032人参与"), a separator or a wide gap.
_SOURCE_END = re.compile(r"\s{2,}|[|｜丨【\[]|\s(?=\d)|\d+人参与|作者|编辑|字号")

#: A source name is at most this long; longer text is a sentence.
_MAX_SOURCE_CHARS = 30


def _source(tree: HtmlElement, body: HtmlElement, header: Sequence[str]) -> str | None:
    return (
        _source_from_label(header) or _source_from_element(body, header) or _source_from_meta(tree)
    )


def _source_from_label(header: Sequence[str]) -> str | None:
    for index, segment in enumerate(header):
        match = _SOURCE_LABEL.search(segment)
        if match is None:
            continue
        name = _clean_source(match.group("name"))
        if not name and index + 1 < len(header):
            name = _clean_source(header[index + 1])
        if name:
            return name
    return None


def _source_from_element(body: HtmlElement, header: Sequence[str]) -> str | None:
    texts = set(header)
    for element in body.iter():
        if not isinstance(element.tag, str):
            continue
        names = f"{element.get('class') or ''} {element.get('id') or ''}"
        if _SOURCE_CLASS.search(names):
            text = _clean_source(element.text_content())
            if text and text in texts:
                return text
    return None


def _source_from_meta(tree: HtmlElement) -> str | None:
    for value in _meta_values(tree, _SOURCE_META):
        match = _SOURCE_LABEL.match(value)
        name = _clean_source(match.group("name") if match else value)
        if name:
            return name
    return None


def _clean_source(text: str) -> str | None:
    text = _squeeze(text)
    end = _SOURCE_END.search(text)
    if end is not None:
        text = text[: end.start()]
    text = text.strip(" :：,，")
    if not text or len(text) > _MAX_SOURCE_CHARS or _DATETIME.search(text):
        return None
    return text


# --------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------


def extract_html(html: str, url: str | None = None) -> ExtractedPage:
    """Find the article in a web page: its title, publication time, source and paragraphs.

    Raises ``EmptyInput`` for an empty page and ``NoArticleFound`` for a page with no
    article text in it (navigation only, an empty ``<body>``).
    """
    if not html.strip():
        raise EmptyInput("the page is empty: there is nothing to read")
    tree = _parse(html)
    body = _body(tree)
    headline = _choose_title(tree)
    title = headline.text if headline is not None else None
    root = _content_root(body)
    paragraphs = _trim_end(_trim_start(_text_lines(tree, root, url), title))
    if not _has_prose(paragraphs):
        raise NoArticleFound(
            "no article text was found on this page; if it is an article, copy its text and "
            "send that instead"
        )
    header = _header_segments(body, headline.element if headline else None, paragraphs[0])
    return ExtractedPage(
        title=title,
        published=_published(tree, header, url),
        source=_source(tree, body, header),
        paragraphs=tuple(paragraphs),
    )
