"""A batch's inputs, turned into article sources, and each source loaded when its turn comes.

``reader pregen INPUT...`` and the jobs API take a list of inputs. Each one is:

* a file: ``.txt`` (page text) or HTML (``.html``, ``.htm``, ``.xhtml``, ``.shtml``);
* a folder: walked recursively in name order; its ``.txt`` and HTML files are the articles,
  hidden files and folders (``.git``, ``.DS_Store``) are skipped;
* a URL (``http://`` or ``https://``): fetched once, through :func:`reader.fetch.fetch_page` so the
  allowlist and the SSRF checks apply, to see what it is: a page is one article, a sitemap or a
  feed is expanded;
* a sitemap (``<urlset>``, or a ``<sitemapindex>`` whose sitemaps are fetched in turn) or an
  RSS 2.0 or Atom feed: a local file (``.xml``, ``.rss``, ``.atom``, ``.xml.gz``, or any other
  file whose root element is one of these) or a URL, recognised by its root element and never by
  its name. Its http(s) links become sources; a feed item's title is kept as a title hint.

The jobs API also builds inline sources (text or HTML a CMS sends) as :class:`Source` directly.

:func:`expand` never raises for a bad input: each becomes a :class:`Problem`, one line a person
can act on, and the rest of the batch carries on. A source found twice (the same file, the same
URL) is kept once, where it was first found. :func:`load` reads one source when the batch gets
to it, so a feed of 5,000 links never holds 5,000 pages in memory.

XML is parsed without expanding entities, without loading DTDs and without the network, within
a size limit, so a hostile sitemap can neither exhaust memory (billion laughs) nor make us read a
local file (XXE).
"""

from __future__ import annotations

import asyncio
import os
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urljoin, urlsplit

from lxml import etree
from yarl import URL

from reader.errors import ConfigError, InputError, InputTooLarge
from reader.fetch import (
    FEED_TYPES,
    PAGE_TYPES,
    FetchedPage,
    FetchFailed,
    FetchPolicy,
    Resolver,
    fetch_page,
)

__all__ = [
    "HTML_SUFFIXES",
    "Loaded",
    "Problem",
    "Source",
    "SourceLimits",
    "expand",
    "is_html_path",
    "load",
]

#: File suffixes read as HTML; anything else is text.
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml", ".shtml"})

# Page text, as `reader segment` reads it; other text-like files (.md, .csv) are not articles.
_TEXT_SUFFIX = ".txt"

# Names that say "sitemap or feed"; files with other names are recognised by their content.
_FEED_SUFFIXES = (".xml", ".rss", ".atom", ".xml.gz")

# An input with a scheme and '//' is a URL (C:\ on Windows has no '//'); fetch_page refuses
# every scheme but http(s) with a message that says so.
_URL_INPUT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")

_SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_ATOM_NS = "http://www.w3.org/2005/Atom"

_Kind = Literal["urlset", "index", "rss", "atom"]

# Root elements we read. Sitemaps without their namespace are common enough to accept; RSS 2.0
# has no namespace at all.
_KINDS: dict[str, _Kind] = {
    f"{{{_SITEMAP_NS}}}urlset": "urlset",
    "urlset": "urlset",
    f"{{{_SITEMAP_NS}}}sitemapindex": "index",
    "sitemapindex": "index",
    "rss": "rss",
    f"{{{_ATOM_NS}}}feed": "atom",
}

# The sitemap protocol forbids an index inside an index; some big sites nest one level anyway.
# Deeper than that is a loop or a trap, not a site map.
_MAX_DEPTH = 2

# Enough of a file to get past an XML declaration, comments and a DOCTYPE to the root element.
_SNIFF_BYTES = 64 * 1024

_GZIP_MAGIC = b"\x1f\x8b"

# lxml adds where the error is to its message; we say it ourselves, first.
_POSITION = re.compile(r", line \d+, column \d+$")


@dataclass(frozen=True, slots=True)
class Source:
    """One article to read, as found among the batch's inputs.

    Exactly one of ``path``, ``url``, ``text`` and ``html`` is set; anything else is a bug in
    the caller and raises ``ValueError``.
    """

    label: str
    """What the summary shows: the path as given or found, or the URL."""
    path: str | None = None
    """A local .txt or HTML file."""
    url: str | None = None
    """A page to fetch."""
    text: str | None = None
    """Inline page text (jobs API)."""
    html: str | None = None
    """Inline HTML (jobs API)."""
    title: str | None = None
    """A title hint: from the feed item, or given inline."""
    plain: bool = False
    """Inline text is clean editor text (read as it is, no chrome rules)."""
    name: str | None = None
    """A stable name the caller gave an inline article (a CMS's own id), if any."""

    @property
    def identity(self) -> str | None:
        """What the source is, however it was spelled: the file's real path, the URL without
        its fragment, or a CMS's own id. A later run of the same identity that reads as another
        article is an edit (its old reading is unpinned). None: an inline article with no
        name has no identity to follow."""
        if self.path is not None:
            return _path_key(self.path)
        if self.url is not None:
            return _url_key(self.url)
        return None if self.name is None else "cms:" + self.name

    def __post_init__(self) -> None:
        given = [name for name in _CONTENT if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a source needs exactly one of path, url, text and html; got {given or 'none'}"
            )

    def to_json(self) -> dict[str, object]:
        """The source as a JSON object, for storing a job (jobs survive restarts)."""
        data: dict[str, object] = {"label": self.label}
        for name in (*_CONTENT, "title"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        if self.plain:
            data["plain"] = True
        if self.name is not None:
            data["name"] = self.name
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Source:
        """The source :meth:`to_json` stored; malformed data raises ``ValueError``.

        Unknown keys are ignored, so a job stored by a later version still loads.
        """
        label = data.get("label")
        plain = data.get("plain", False)
        if not isinstance(label, str) or not isinstance(plain, bool):
            raise ValueError(f"a stored source needs a text label and a true/false plain: {data}")
        return cls(
            label,
            path=_optional_text(data, "path"),
            url=_optional_text(data, "url"),
            text=_optional_text(data, "text"),
            html=_optional_text(data, "html"),
            title=_optional_text(data, "title"),
            plain=plain,
            name=_optional_text(data, "name"),
        )


# The fields that say where the article is; a source has exactly one.
_CONTENT = ("path", "url", "text", "html")


def _optional_text(data: Mapping[str, object], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"a stored source's {name} must be text, not {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Problem:
    """An input that yields no articles, with a line a person can act on."""

    label: str
    """The input (or the nested sitemap) as the summary shows it."""
    message: str
    """What is wrong and what to do about it."""


@dataclass(frozen=True, slots=True)
class Loaded:
    """A source's content, ready for the text pipeline."""

    data: bytes | str
    """Bytes from files and fetches, text for inline sources."""
    html: bool
    """Read as HTML; otherwise page text, or plain text when ``plain``."""
    url: str | None
    """The final URL of a fetched page, after redirects."""
    charset: str | None
    """The charset from ``Content-Type``, for ``decode_html``."""
    title: str | None
    """The source's title hint."""
    plain: bool
    """Inline text that is clean editor text."""


@dataclass(frozen=True, slots=True)
class SourceLimits:
    """How much one batch may expand to. Invalid values raise ``ConfigError``."""

    max_articles: int = 5000
    """Sources from all inputs together; beyond this, one Problem and the rest are dropped."""
    max_feed_bytes: int = 10_000_000
    """A sitemap or feed bigger than this is refused."""
    max_sitemaps: int = 50
    """Nested sitemaps followed from sitemap indexes, in all."""

    def __post_init__(self) -> None:
        if self.max_articles < 1 or self.max_feed_bytes < 1 or self.max_sitemaps < 0:
            raise ConfigError(
                "source limits must be positive (max_articles, max_feed_bytes) "
                "and max_sitemaps at least 0"
            )


def is_html_path(path: str) -> bool:
    """Whether a file is read as HTML, by its suffix."""
    return Path(path).suffix.lower() in HTML_SUFFIXES


async def expand(
    inputs: Sequence[str],
    policy: FetchPolicy,
    limits: SourceLimits = SourceLimits(),
    *,
    resolver: Resolver | None = None,
) -> tuple[list[Source], list[Problem]]:
    """The sources in ``inputs``, in order, and a Problem for each input that yields none.

    URLs, and the nested sitemaps of a sitemap index, are fetched with ``policy`` (``resolver``
    as for :func:`reader.fetch.fetch_page`); the pages the sources name are not.
    """
    batch = _Batch(policy, limits, resolver)
    for given in inputs:
        # The batch is full: the Problem saying so is written, later inputs are not looked at.
        if batch.full:
            break
        await batch.expand(given)
    return batch.sources, batch.problems


async def load(source: Source, policy: FetchPolicy, *, resolver: Resolver | None = None) -> Loaded:
    """The source's content. Raises an ``InputError`` (the file is missing or unreadable, the
    URL is refused, the page is too large) or ``FetchFailed`` (the site failed)."""
    if source.text is not None:
        return Loaded(source.text, False, None, None, source.title, source.plain)
    if source.html is not None:
        return Loaded(source.html, True, None, None, source.title, False)
    if source.path is not None:
        # The same limit as a fetched page: a file that big is no article, and is not read.
        data = await asyncio.to_thread(read_file, source.path, policy.max_bytes)
        return Loaded(data, is_html_path(source.path), None, None, source.title, False)
    assert source.url is not None  # Source.__post_init__: exactly one is set
    page = await fetch_page(source.url, policy, resolver=resolver)
    # A page sent without a Content-Type is read as HTML, as the article API does.
    html = page.content_type != "text/plain"
    return Loaded(page.content, html, page.final_url, page.charset, source.title, False)


def read_file(path: str, limit: int) -> bytes:
    """A file's bytes, at most ``limit`` of them; ``InputError`` naming the path otherwise."""
    try:
        with open(path, "rb") as file:
            data = file.read(limit + 1)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder; give a .txt or .html file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror})") from None
    if len(data) > limit:
        raise InputTooLarge(f"{path} is over {limit:,} bytes; larger files are not read")
    return data


# ---------------------------------------------------------------- expanding a batch


class _Unusable(Exception):
    """A sitemap or feed that yields nothing; the message is the Problem's."""


class _NotAFeed(_Unusable):
    """XML, or something else, whose root element is not a sitemap or feed we read."""


@dataclass(frozen=True, slots=True)
class _Link:
    url: str
    title: str | None


@dataclass(frozen=True, slots=True)
class _Feed:
    kind: _Kind
    links: list[_Link]
    """Article links; for a sitemap index, the sitemaps it lists."""


class _Batch:
    """The sources and problems found so far, and what has been seen, for one ``expand``."""

    def __init__(self, policy: FetchPolicy, limits: SourceLimits, resolver: Resolver | None):
        self.limits = limits
        self.resolver = resolver
        self.page_policy = policy
        # A first look at a URL may find a page or a feed: read up to the larger of the limits,
        # then hold each kind to its own.
        self.probe_policy = replace(policy, max_bytes=max(policy.max_bytes, limits.max_feed_bytes))
        self.feed_policy = replace(policy, max_bytes=limits.max_feed_bytes)
        self.sources: list[Source] = []
        self.problems: list[Problem] = []
        self.full = False
        self._found: set[str] = set()  # keys of the sources
        self._feeds: set[str] = set()  # keys of sitemaps, feeds and folders already expanded
        self._followed = 0  # nested sitemaps fetched

    async def expand(self, given: str) -> None:
        if not given.strip():
            self.problem(given, "an empty input: give a file, a folder or an http(s):// URL")
        elif _URL_INPUT.match(given.strip()):
            await self._url(given.strip())
        else:
            await self._path(given)

    def problem(self, label: str, message: str) -> None:
        self.problems.append(Problem(label, message))

    def add(self, source: Source, key: str, where: str) -> bool:
        """Keep ``source`` unless seen; False once the batch is full (the caller stops)."""
        if key in self._found:
            return True
        if len(self.sources) >= self.limits.max_articles:
            self.full = True
            self.problem(
                where,
                f"the batch reached {self.limits.max_articles:,} articles here; the rest of this "
                "input and the inputs after it were left out: split them into smaller batches",
            )
            return False
        self._found.add(key)
        self.sources.append(source)
        return True

    def _seen(self, key: str) -> bool:
        # An input given twice, or a page already found in a feed, is expanded once.
        return key in self._found or key in self._feeds

    # ------------------------------------------------------------ URLs

    async def _url(self, url: str) -> None:
        key = _url_key(url)
        if self._seen(key):
            return
        page = await self._fetch(url, self.probe_policy)
        if page is None:
            return
        try:
            feed = await asyncio.to_thread(self._read, page)
        except _NotAFeed as exc:
            if _xml_only(page.content_type):
                # load() would refuse it: only page types are read as articles.
                self.problem(url, str(exc))
            elif len(page.content) > self.page_policy.max_bytes:
                self.problem(url, _too_large(url, self.page_policy.max_bytes, "pages"))
            else:
                self.add(Source(url, url=url), key, url)
            return
        except _Unusable as exc:
            self.problem(url, str(exc))
            return
        self._feeds.add(key)
        await self._take(feed, url, depth=0)

    def _read(self, page: FetchedPage) -> _Feed:
        xml = _xml_only(page.content_type)
        return _read_feed(page.content, page.url, self.limits.max_feed_bytes, page.final_url, xml)

    async def _fetch(self, url: str, policy: FetchPolicy, parent: str = "") -> FetchedPage | None:
        """The fetched URL, or None after recording why not."""
        try:
            return await fetch_page(url, policy, resolver=self.resolver, types=FEED_TYPES)
        except InputTooLarge:
            # What a sitemap index lists can only be a sitemap; an input could be either.
            message = (
                _enormous(url, policy.max_bytes)
                if parent
                else _too_large(url, policy.max_bytes, "pages, sitemaps and feeds")
            )
        except (InputError, FetchFailed) as exc:
            message = str(exc)
        self.problem(url, message + (f" (listed in {parent})" if parent else ""))
        return None

    # ------------------------------------------------------------ sitemaps and feeds

    async def _take(self, feed: _Feed, label: str, depth: int) -> None:
        if not feed.links:
            listed = "sitemaps" if feed.kind == "index" else "article links"
            self.problem(
                label, f"{label} lists no {listed}: only absolute http:// and https:// links count"
            )
        elif feed.kind == "index":
            await self._index(feed, label, depth)
        else:
            for link in feed.links:
                source = Source(link.url, url=link.url, title=link.title)
                if not self.add(source, _url_key(link.url), label):
                    return

    async def _index(self, feed: _Feed, label: str, depth: int) -> None:
        if depth >= _MAX_DEPTH:
            self.problem(
                label,
                f"{label} is a sitemap index inside {depth} other sitemap indexes; indexes are "
                f"followed {_MAX_DEPTH} deep at most: list its sitemaps in a higher index",
            )
            return
        for link in feed.links:
            key = _url_key(link.url)
            # A sitemap listed twice, or an index that lists itself: once is enough.
            if self.full or self._seen(key):
                continue
            # Each nested sitemap is a fetch; an index of thousands would stall the batch.
            if self._followed >= self.limits.max_sitemaps:
                self.problem(
                    label,
                    f"the batch already followed {self.limits.max_sitemaps} nested sitemaps, the "
                    f"most it follows; the rest of those {label} lists were skipped: give them "
                    "as inputs of another batch",
                )
                return
            self._followed += 1
            self._feeds.add(key)
            await self._nested(link.url, label, depth + 1)

    async def _nested(self, url: str, parent: str, depth: int) -> None:
        page = await self._fetch(url, self.feed_policy, parent)
        if page is None:
            return
        try:
            feed = await asyncio.to_thread(self._read, page)
        except _Unusable as exc:
            self.problem(url, f"{exc} (listed in {parent})")
            return
        await self._take(feed, url, depth)

    # ------------------------------------------------------------ files and folders

    async def _path(self, given: str) -> None:
        try:
            found = await asyncio.to_thread(_look_at, given, self.limits)
        except _Unusable as exc:
            self.problem(given, str(exc))
            return
        if self._seen(found.key):
            return
        if isinstance(found, _Article):
            self.add(Source(given, path=given), found.key, given)
        elif isinstance(found, _Folder):
            self._feeds.add(found.key)
            await self._folder(given)
        else:
            self._feeds.add(found.key)
            await self._take(found.feed, given, depth=0)

    async def _folder(self, given: str) -> None:
        # At most this many files are needed to fill the batch, even if every source so far is
        # among them; a folder of a million files is not listed in full.
        walk = _Walk(self.limits.max_articles + len(self.sources) + 1)
        await asyncio.to_thread(walk.folder, given)
        self.problems.extend(walk.problems)
        if not walk.files and not walk.problems:
            self.problem(
                given,
                f"{given} has no .txt or HTML files (hidden files and folders are skipped)",
            )
        for path in walk.files:
            if not self.add(Source(path, path=path), _path_key(path), given):
                return


@dataclass(frozen=True, slots=True)
class _Article:
    key: str


@dataclass(frozen=True, slots=True)
class _Folder:
    key: str


@dataclass(frozen=True, slots=True)
class _LocalFeed:
    key: str
    feed: _Feed


def _look_at(given: str, limits: SourceLimits) -> _Article | _Folder | _LocalFeed:
    """What a local input is; raises ``_Unusable`` with the reason it is no use."""
    path = Path(given)
    try:
        folder = path.is_dir()
        exists = folder or path.exists()
    except OSError as exc:
        raise _Unusable(f"{given}: cannot look at it ({exc.strerror})") from None
    if not exists:
        raise _Unusable(_missing(given))
    key = _path_key(given)
    if folder:
        return _Folder(key)
    name = path.name.lower()
    if path.suffix.lower() == _TEXT_SUFFIX or is_html_path(given):
        # Opened now, so an unreadable file is among the batch's problems before any work.
        _check_readable(given)
        return _Article(key)
    if not name.endswith(_FEED_SUFFIXES) and not _starts_like_feed(given):
        raise _Unusable(
            f"{given}: {path.suffix or 'a file without a suffix'} is not a kind of file read "
            "here; give .txt or HTML files, folders of them, sitemaps, RSS or Atom feeds, or URLs"
        )
    data = _read_bounded(given, limits.max_feed_bytes)
    # A local file has no URL for relative links to be resolved against; its name said XML.
    xml = name.endswith(_FEED_SUFFIXES)
    return _LocalFeed(key, _read_feed(data, given, limits.max_feed_bytes, None, xml))


def _missing(given: str) -> str:
    message = f"{given}: no such file or folder"
    # news.example/a.html was probably meant as a URL.
    if "/" in given and "." in given.split("/", 1)[0]:
        message += "; if it is a web address, write it with https:// in front"
    return message


def _check_readable(path: str) -> None:
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise _Unusable(f"{path}: cannot read it ({exc.strerror})") from None


def _read_bounded(path: str, limit: int) -> bytes:
    try:
        with open(path, "rb") as file:
            data = file.read(limit + 1)
    except OSError as exc:
        raise _Unusable(f"{path}: cannot read it ({exc.strerror})") from None
    if len(data) > limit:
        raise _Unusable(_enormous(path, limit))
    return data


def _starts_like_feed(path: str) -> bool:
    try:
        with open(path, "rb") as file:
            head = file.read(_SNIFF_BYTES)
    except OSError as exc:
        raise _Unusable(f"{path}: cannot read it ({exc.strerror})") from None
    return _root_tag(head)[0] in _KINDS


class _Walk:
    """A folder's .txt and HTML files, in name order, depth first, and the folders and files
    that could not be read."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.files: list[str] = []
        self.problems: list[Problem] = []

    def folder(self, folder: str) -> None:
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            self.problems.append(Problem(folder, f"{folder}: cannot read this folder "
                                                 f"({exc.strerror})"))
            return
        for entry in entries:
            if len(self.files) >= self.cap:
                return
            # Hidden: version control, editor swap files, .DS_Store; none is an article.
            if entry.name.startswith("."):
                continue
            path = os.path.join(folder, entry.name)
            # Symlinked folders are not followed: one could lead back up and never end.
            if entry.is_dir(follow_symlinks=False):
                self.folder(path)
            elif entry.is_file() and _is_article_name(entry.name):
                self.file(path)

    def file(self, path: str) -> None:
        try:
            _check_readable(path)
        except _Unusable as exc:
            self.problems.append(Problem(path, str(exc)))
            return
        self.files.append(path)


def _is_article_name(name: str) -> bool:
    return Path(name).suffix.lower() == _TEXT_SUFFIX or is_html_path(name)


# ---------------------------------------------------------------- reading XML


def _read_feed(data: bytes, label: str, limit: int, base: str | None, xml: bool) -> _Feed:
    """The links in a sitemap or feed, resolved against ``base``. ``xml``: its name or type
    said it is XML. Raises ``_NotAFeed`` when the root element is not one we read, and
    ``_Unusable`` when it is, but yields nothing."""
    if data.startswith(_GZIP_MAGIC):
        data = _gunzip(data, label, limit)
    tag, error = _root_tag(data)
    kind = _KINDS.get(tag or "")
    if kind is None:
        # Said to be XML, so it was meant as XML: say where it breaks.
        if error is not None and xml:
            raise _Unusable(_malformed(label, error))
        shown = f"its root element is <{etree.QName(tag).localname}>" if tag else "it is not XML"
        raise _NotAFeed(f"{label} is not a sitemap, RSS 2.0 or Atom feed ({shown})")
    # Checked only now: a page bigger than a feed may be is still a page.
    if len(data) > limit:
        raise _Unusable(_enormous(label, limit))
    return _Feed(kind, _LINKS[kind](_parse(data, label), base))


def _xml_only(content_type: str) -> bool:
    """Served as XML, rather than as a page or with no type at all."""
    return bool(content_type) and content_type not in PAGE_TYPES


def _parser() -> etree.XMLParser:
    # No entity is expanded (billion laughs, and XXE reading local files); no DTD is loaded and
    # nothing is fetched from the network; libxml2 keeps its limits on depth and text size.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _root_tag(data: bytes) -> tuple[str | None, etree.XMLSyntaxError | None]:
    """The root element's ``{namespace}name``, from the start of ``data``; or, if there is none,
    the syntax error that came first."""
    # The same safe options as _parser. Errors after the root element (a sniffed head ends
    # mid-document) do not matter here: the full parse reports them.
    parser = etree.XMLPullParser(
        events=("start",),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    error = None
    try:
        parser.feed(data[:_SNIFF_BYTES])
    except etree.XMLSyntaxError as exc:
        error = exc
    for _event, element in parser.read_events():
        return str(element.tag), None
    return None, error


def _parse(data: bytes, label: str) -> etree._Element:
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        # libxml2 stops an entity bomb with an "amplification" error; say what it was.
        if b"<!ENTITY" in data and "entit" in str(exc).lower():
            raise _Unusable(_entities(label)) from None
        raise _Unusable(_malformed(label, exc)) from None
    dtd = root.getroottree().docinfo.internalDTD
    # Sitemaps and feeds have no use for entities; ones that are not expanded leave holes.
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise _Unusable(_entities(label))
    return root


def _gunzip(data: bytes, label: str, limit: int) -> bytes:
    # Decompressed in one bounded step: a small .gz can unpack to gigabytes.
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise _Unusable(f"{label} looks gzipped but does not unpack: {exc}") from None
    if len(out) > limit:
        raise _Unusable(_enormous(label, limit))
    return out


def _sitemap_links(root: etree._Element, base: str | None) -> list[_Link]:
    """``<url><loc>`` of a urlset, or ``<sitemap><loc>`` of an index, in the root's namespace."""
    namespace = etree.QName(root).namespace
    entry = "url" if etree.QName(root).localname == "urlset" else "sitemap"
    links = []
    for item in root.iterchildren(_tag(namespace, entry)):
        url = _absolute(item.findtext(_tag(namespace, "loc")), base)
        if url is not None:
            links.append(_Link(url, None))
    return links


def _rss_links(root: etree._Element, base: str | None) -> list[_Link]:
    """``<rss><channel><item>``: its ``<link>``, or else a permalink ``<guid>``."""
    links = []
    for item in root.iterfind("channel/item"):
        url = _absolute(item.findtext("link"), base)
        guid = item.find("guid")
        # A guid is a permalink unless it says otherwise (RSS 2.0: isPermaLink defaults to
        # true); guids that are not URLs are dropped by _absolute.
        if url is None and guid is not None and guid.get("isPermaLink", "true") != "false":
            url = _absolute(guid.text, base)
        if url is not None:
            links.append(_Link(url, _title(item.findtext("title"))))
    return links


def _atom_links(root: etree._Element, base: str | None) -> list[_Link]:
    """``<entry>``: the href of its first ``<link>`` with rel="alternate", or no rel (the
    same thing, by RFC 4287)."""
    links = []
    for entry in root.iterchildren(_tag(_ATOM_NS, "entry")):
        for link in entry.iterchildren(_tag(_ATOM_NS, "link")):
            url = _absolute(link.get("href"), base)
            if link.get("rel", "alternate") == "alternate" and url is not None:
                links.append(_Link(url, _title(entry.findtext(_tag(_ATOM_NS, "title")))))
                break
    return links


_LINKS: dict[_Kind, Callable[[etree._Element, str | None], list[_Link]]] = {
    "urlset": _sitemap_links,
    "index": _sitemap_links,
    "rss": _rss_links,
    "atom": _atom_links,
}


def _tag(namespace: str | None, name: str) -> str:
    return f"{{{namespace}}}{name}" if namespace else name


def _absolute(link: str | None, base: str | None) -> str | None:
    """``link`` resolved against ``base``, if it is then an http(s) URL with a host."""
    if not link or not link.strip():
        return None
    try:
        url = urljoin(base, link.strip()) if base else link.strip()
        parts = urlsplit(url)
    except ValueError:
        return None
    # Other schemes (mailto:, ftp:, javascript:) are not pages fetch_page would read.
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def _title(text: str | None) -> str | None:
    # Feed titles come wrapped over lines and indented; an empty one is no hint.
    title = " ".join((text or "").split())
    return title or None


# ---------------------------------------------------------------- keys and messages


def _url_key(url: str) -> str:
    """The same URL, however it is written (host case, fragment), gives the same key."""
    try:
        return "url:" + str(URL(url.strip()).with_fragment(None))
    except ValueError:
        return "url:" + url.strip()


def _path_key(path: str) -> str:
    # The same file by another path (./a.txt, a.txt, a symlink) is the same article.
    return "path:" + os.path.realpath(path)


def _malformed(label: str, error: etree.XMLSyntaxError) -> str:
    line, column = error.position
    reason = _POSITION.sub("", error.msg or str(error))
    return f"{label} is not well-formed XML: line {line}, column {column}: {reason}"


def _enormous(label: str, limit: int) -> str:
    return (
        f"{label} is enormous: over {limit:,} bytes, the most read for a sitemap or feed; "
        "split it into smaller sitemaps (a sitemap index can list them)"
    )


def _entities(label: str) -> str:
    return (
        f"{label} declares XML entities (<!ENTITY>), which sitemaps and feeds do not need; "
        "it is refused because entities can expand without end"
    )


def _too_large(url: str, limit: int, kinds: str) -> str:
    return f"{url} is over {limit:,} bytes; {kinds} that large are not read"
