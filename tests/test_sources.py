"""Tests for reader.sources: every kind of input, every bad input, and loading each source.

URLs are served by a local aiohttp site on 127.0.0.1, which the policy allows and trusts
(loopback is otherwise refused as private). The site records every request, so the tests can
check that expanding a feed does not fetch the articles it lists.
"""

from __future__ import annotations

import asyncio
import errno
import gzip
import os
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import reader.sources as sources
from reader.errors import ConfigError, InputError, InputTooLarge
from reader.fetch import FetchFailed, FetchPolicy, ForbiddenHost
from reader.sources import (
    Loaded,
    Problem,
    Source,
    SourceLimits,
    expand,
    is_html_path,
    load,
)
from tests.test_fetch import answer

T = TypeVar("T")

POLICY = FetchPolicy(frozenset({"127.0.0.1"}), trusted_networks=("127.0.0.0/8",))
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "html"

ARTICLE = "<html><head><title>夜间公交</title></head><body><p>本报讯。</p></body></html>"
GBK_ARTICLE = "<html><body><p>市交通运输局介绍，三条线路覆盖火车站。</p></body></html>"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def urlset(*locs: str, namespace: str = SITEMAP_NS) -> str:
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    urls = "".join(f"<url><loc>{loc}</loc><lastmod>2025-01-01</lastmod></url>" for loc in locs)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset{xmlns}>{urls}</urlset>\n'


def sitemap_index(*locs: str) -> str:
    maps = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return f'<?xml version="1.0"?>\n<sitemapindex xmlns="{SITEMAP_NS}">{maps}</sitemapindex>'


RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>本报</title><link>/</link>
  <item><title>
      河谷小城试行夜间公交
  </title><link>news/1.html</link></item>
  <item><title>只有 guid</title><guid>http://{host}/news/2.html</guid></item>
  <item><title>guid 不是链接</title><guid isPermaLink="false">tag:2025:3</guid></item>
  <item><title>邮件</title><link>mailto:editor@news.example</link></item>
  <item><link>/news/1.html#comments</link></item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>本报</title>
  <entry><title>第一篇</title><link rel="edit" href="/edit/1"/>
    <link rel="alternate" type="text/html" href="/atom/1.html"/></entry>
  <entry><title>第二篇</title><link href="http://{host}/atom/2.html"/></entry>
  <entry><title>没有链接</title><link rel="self" href="/atom/3.xml"/></entry>
</feed>
"""

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE urlset [\n<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n<urlset><url><loc>&lol9;</loc></url></urlset>\n"
)


class Site:
    """A local news site with pages, sitemaps and feeds; records the paths asked for."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.server = TestServer(self._app(), host="127.0.0.1")

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        get = app.router.add_get
        xml = "application/xml"
        get("/a.html", answer(text=ARTICLE, content_type="text/html"))
        get("/b.html", answer(text=ARTICLE, content_type="text/html"))
        get("/gbk.html", answer(body=GBK_ARTICLE.encode("gbk"), content_type="text/html",
                                charset="GBK"))
        get("/plain", answer(text="夜间公交试运行。", content_type="text/plain"))
        get("/go", answer(status=302, headers={"Location": "/gbk.html"}))
        get("/missing", answer(status=404, text="not here"))
        get("/image.png", answer(body=b"\x89PNG\r\n\x1a\n", content_type="image/png"))
        get("/sitemap.xml", self._dynamic(lambda: urlset(
            self.url("/a.html"), "/b.html", "mailto:editor@news.example", self.url("/a.html"),
            self.url("/c.html#top"), "ftp://files.example/x"), xml))
        # Named like a page, served as text: recognised by its root element all the same.
        get("/map.html", self._dynamic(lambda: urlset(self.url("/d.html"), namespace=""),
                                       "text/plain"))
        # Named like a sitemap, but a page.
        get("/news.xml", answer(text=ARTICLE, content_type="text/html"))
        get("/index.xml", self._dynamic(lambda: sitemap_index(
            self.url("/sitemap.xml"), self.url("/more.xml"), self.url("/index.xml"),
            self.url("/missing")), xml))
        get("/more.xml", self._dynamic(lambda: urlset(self.url("/e.html")), xml))
        get("/nest/{n}.xml", self._nest)
        get("/many.xml", self._dynamic(lambda: sitemap_index(
            *(self.url(f"/gen/{n}.xml") for n in range(5))), xml))
        get("/gen/{n}.xml", self._gen)
        get("/rss.xml", self._dynamic(lambda: RSS.format(host=self.host), "application/rss+xml"))
        get("/feed", answer(status=301, headers={"Location": "/feeds/rss.xml"}))
        get("/feeds/rss.xml", self._dynamic(lambda: RSS.format(host=self.host), "text/xml"))
        get("/atom.xml", self._dynamic(lambda: ATOM.format(host=self.host),
                                       "application/atom+xml"))
        get("/malformed.xml", answer(text=f'<?xml version="1.0"?>\n<urlset xmlns="{SITEMAP_NS}">'
                                     "\n<url><loc>http://x/</url>\n</urlset>", content_type=xml))
        get("/enormous.xml", answer(text=urlset(*(f"http://x/{n}" for n in range(100))),
                                    content_type=xml))
        get("/lol.xml", answer(text=BILLION_LAUGHS, content_type=xml))
        get("/big-index.xml", self._dynamic(lambda: sitemap_index(
            self.url("/enormous.xml"), self.url("/more.xml")), xml))
        get("/empty.xml", answer(text=urlset(), content_type=xml))
        get("/note.xml", answer(text="<note><to>编辑</to></note>", content_type=xml))
        return app

    @web.middleware
    async def _record(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        self.hits.append(request.path)
        return await handler(request)

    def _dynamic(
        self, body: Callable[[], str], content_type: str
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        # Built per request: the server's port is only known once it runs.
        async def handle(_: web.Request) -> web.Response:
            return web.Response(text=body(), content_type=content_type)

        return handle

    async def _nest(self, request: web.Request) -> web.Response:
        # /nest/0.xml lists /nest/1.xml, ... : an index inside an index inside an index.
        n = int(request.match_info["n"])
        body = sitemap_index(self.url(f"/nest/{n + 1}.xml")) if n < 3 else urlset("/f.html")
        return web.Response(text=body, content_type="application/xml")

    async def _gen(self, request: web.Request) -> web.Response:
        n = request.match_info["n"]
        body = urlset(self.url(f"/gen/{n}/1.html"), self.url(f"/gen/{n}/2.html"))
        return web.Response(text=body, content_type="application/xml")


class Net:
    """One event loop for a test, with the site running on it."""

    def __init__(self, runner: asyncio.Runner) -> None:
        self.runner = runner
        self.site = Site()
        self.run(self.site.server.start_server())

    def run(self, coro: Awaitable[T]) -> T:
        return self.runner.run(coro)  # type: ignore[arg-type]

    def expand(
        self, *inputs: str, policy: FetchPolicy = POLICY, **limits: int
    ) -> tuple[list[Source], list[Problem]]:
        return self.run(expand(list(inputs), policy, SourceLimits(**limits)))

    def load(self, source: Source, policy: FetchPolicy = POLICY) -> Loaded:
        return self.run(load(source, policy))


@pytest.fixture
def net() -> Iterator[Net]:
    with asyncio.Runner() as runner:
        net = Net(runner)
        try:
            yield net
        finally:
            net.run(net.site.server.close())


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of articles, working directory, so inputs are short relative paths."""
    monkeypatch.chdir(tmp_path)
    for name, text in {
        "one.txt": "第一篇。",
        "page.html": ARTICLE,
        "site/b.htm": ARTICLE,
        "site/a.txt": "甲。",
        "site/C.shtml": ARTICLE,
        "site/sub/z.xhtml": ARTICLE,
        "site/sub/a.TXT": "乙。",
        "site/notes.md": "不是文章",
        "site/image.png": "",
        "site/.hidden.txt": "藏起来",
        "site/.git/HEAD.txt": "ref",
        "empty/readme.md": "没有文章",
    }.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def labels(found: list[Source]) -> list[str]:
    return [source.label for source in found]


def only_problem(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


# --- files and folders ----------------------------------------------------------------------


def test_files_are_sources_as_given(net: Net, files: Path) -> None:
    found, problems = net.expand("one.txt", "page.html")
    assert found == [Source("one.txt", path="one.txt"), Source("page.html", path="page.html")]
    assert problems == []


def test_a_folder_is_walked_in_name_order_skipping_hidden_and_other_files(
    net: Net, files: Path
) -> None:
    found, problems = net.expand("site")
    assert labels(found) == [
        "site/C.shtml",
        "site/a.txt",
        "site/b.htm",
        "site/sub/a.TXT",
        "site/sub/z.xhtml",
    ]
    assert all(source.path == source.label for source in found)
    assert problems == []


def test_a_symlinked_folder_is_not_followed(net: Net, files: Path) -> None:
    (files / "site" / "loop").symlink_to(files / "site")
    found, _ = net.expand("site")
    assert not any("loop" in label for label in labels(found))


def test_the_same_file_is_read_once_where_first_found(net: Net, files: Path) -> None:
    (files / "link.txt").symlink_to(files / "site" / "a.txt")
    found, problems = net.expand("site/a.txt", "./site/a.txt", "site", "link.txt", "site/")
    assert labels(found)[:2] == ["site/a.txt", "site/C.shtml"]
    assert len(found) == 5 and problems == []


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("nowhere.txt", "nowhere.txt: no such file or folder"),
        ("news.example/a.html", "write it with https:// in front"),
        ("empty", "empty has no .txt or HTML files (hidden files and folders are skipped)"),
        ("site/notes.md", ".md is not a kind of file read here"),
        ("site/image.png", "give .txt or HTML files, folders of them, sitemaps"),
        ("  ", "an empty input"),
    ],
)
def test_bad_local_inputs_are_problems(net: Net, files: Path, given: str, message: str) -> None:
    found, problems = net.expand(given, "one.txt")
    assert labels(found) == ["one.txt"]  # the rest of the batch carries on
    problem = only_problem(problems)
    assert problem.label == given and message in problem.message


@pytest.fixture
def deny(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Make paths unreadable, as chmod 000 would for anyone but root (these tests may be root)."""
    denied: set[str] = set()
    real_open, real_scandir = open, os.scandir

    def check(path: Any) -> None:
        if os.path.normpath(os.fspath(path)) in denied:
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))

    def fake_open(path: Any, *args: Any, **kwargs: Any) -> Any:
        check(path)
        return real_open(path, *args, **kwargs)

    def fake_scandir(path: Any) -> Any:
        check(path)
        return real_scandir(path)

    monkeypatch.setattr(sources, "open", fake_open, raising=False)
    monkeypatch.setattr(os, "scandir", fake_scandir)
    return lambda path: denied.add(os.path.normpath(path))


def test_unreadable_files_and_folders_are_problems(
    net: Net, files: Path, deny: Callable[[str], None]
) -> None:
    for path in ("one.txt", "site/sub", "site/a.txt", "empty"):
        deny(path)
    found, problems = net.expand("one.txt", "site", "empty")
    assert labels(found) == ["site/C.shtml", "site/b.htm"]
    assert problems == [
        Problem("one.txt", "one.txt: cannot read it (Permission denied)"),
        Problem("site/a.txt", "site/a.txt: cannot read it (Permission denied)"),
        Problem("site/sub", "site/sub: cannot read this folder (Permission denied)"),
        Problem("empty", "empty: cannot read this folder (Permission denied)"),
    ]


# --- local sitemaps and feeds ---------------------------------------------------------------


def test_a_local_sitemap_and_feed_keep_only_absolute_http_links(net: Net, files: Path) -> None:
    (files / "sitemap.xml").write_text(urlset("http://news.example/1.html", "/relative.html"))
    (files / "feed.rss").write_text(RSS.format(host="news.example"))
    found, problems = net.expand("sitemap.xml", "feed.rss")
    # A local file has no URL to resolve /news/1.html against, so only absolute links count.
    assert found == [
        Source("http://news.example/1.html", url="http://news.example/1.html"),
        Source("http://news.example/news/2.html", url="http://news.example/news/2.html",
               title="只有 guid"),
    ]
    assert problems == []


def test_a_local_feed_is_recognised_by_its_content(net: Net, files: Path) -> None:
    (files / "feed").write_text(ATOM.format(host="news.example"))
    found, problems = net.expand("feed")
    assert found == [Source("http://news.example/atom/2.html",
                            url="http://news.example/atom/2.html", title="第二篇")]
    assert problems == []


def test_a_gzipped_local_sitemap_is_read(net: Net, files: Path) -> None:
    (files / "sitemap.xml.gz").write_bytes(gzip.compress(urlset("http://x.example/1").encode()))
    found, problems = net.expand("sitemap.xml.gz")
    assert labels(found) == ["http://x.example/1"] and problems == []


def test_a_gzip_bomb_is_enormous(net: Net, files: Path) -> None:
    (files / "bomb.xml.gz").write_bytes(gzip.compress(b" " * 100_000))
    problem = only_problem(net.expand("bomb.xml.gz", max_feed_bytes=10_000)[1])
    assert "is enormous: over 10,000 bytes" in problem.message


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.xml", '<?xml version="1.0"?>\n<urlset>\n<url><loc>http://x/</url>\n</urlset>',
         "bad.xml is not well-formed XML: line 3, column 26: Opening and ending tag mismatch"),
        ("start.xml", "<?xml version='1.0'?>\n\n<urlset <url>",
         "start.xml is not well-formed XML: line 3"),
        ("big.xml", urlset(*(f"http://x.example/{n}" for n in range(100))),
         "big.xml is enormous: over 1,000 bytes"),
        ("lol.xml", BILLION_LAUGHS, "lol.xml declares XML entities"),
        ("empty.atom", '<feed xmlns="http://www.w3.org/2005/Atom"/>',
         "empty.atom lists no article links"),
        ("note.xml", "<note/>", "note.xml is not a sitemap, RSS 2.0 or Atom feed "
         "(its root element is <note>)"),
    ],
)
def test_bad_local_sitemaps_are_problems(
    net: Net, files: Path, name: str, content: str, message: str
) -> None:
    (files / name).write_text(content)
    found, problems = net.expand(name, "one.txt", max_feed_bytes=1000)
    assert labels(found) == ["one.txt"]
    problem = only_problem(problems)
    assert problem.label == name and message in problem.message


def test_an_external_entity_is_never_read(net: Net, files: Path) -> None:
    (files / "secret.txt").write_text("http://secret.example/")
    (files / "xxe.xml").write_text(
        f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY s SYSTEM "file://{files}/secret.txt">]>'
        "<urlset><url><loc>&s;</loc></url></urlset>"
    )
    found, problems = net.expand("xxe.xml")
    assert found == [] and "declares XML entities" in only_problem(problems).message


# --- URLs -----------------------------------------------------------------------------------


def test_a_page_url_is_a_source(net: Net) -> None:
    url = net.site.url("/a.html")
    found, problems = net.expand(url, net.site.url("/news.xml"))
    assert found == [Source(url, url=url), Source(net.site.url("/news.xml"),
                                                  url=net.site.url("/news.xml"))]
    assert problems == []


def test_a_sitemap_url_gives_its_links_resolved_and_deduplicated(net: Net) -> None:
    found, problems = net.expand(net.site.url("/sitemap.xml"))
    assert labels(found) == [net.site.url(p) for p in ("/a.html", "/b.html", "/c.html#top")]
    assert all(source.url == source.label and source.title is None for source in found)
    assert problems == []
    assert net.site.hits == ["/sitemap.xml"]  # the articles are fetched later, by load()


def test_a_sitemap_is_recognised_by_content_not_name(net: Net) -> None:
    found, problems = net.expand(net.site.url("/map.html"))
    assert labels(found) == [net.site.url("/d.html")] and problems == []


def test_a_sitemap_index_is_followed(net: Net) -> None:
    index = net.site.url("/index.xml")
    found, problems = net.expand(index)
    assert labels(found) == [net.site.url(p) for p in ("/a.html", "/b.html", "/c.html#top",
                                                       "/e.html")]
    # The index lists itself (skipped) and a sitemap that is not there (a problem).
    missing = net.site.url("/missing")
    assert problems == [Problem(missing, f"{missing} answered 404 Not Found (listed in {index})")]


def test_sitemap_indexes_nest_two_deep_at_most(net: Net) -> None:
    found, problems = net.expand(net.site.url("/nest/0.xml"))
    assert found == []
    problem = only_problem(problems)
    assert problem.label == net.site.url("/nest/2.xml")
    assert "inside 2 other sitemap indexes" in problem.message


def test_nested_sitemaps_followed_are_limited(net: Net) -> None:
    found, problems = net.expand(net.site.url("/many.xml"), max_sitemaps=2)
    assert labels(found) == [net.site.url(f"/gen/{n}/{i}.html") for n in (0, 1) for i in (1, 2)]
    problem = only_problem(problems)
    assert problem.label == net.site.url("/many.xml")
    assert "already followed 2 nested sitemaps" in problem.message


def test_an_enormous_nested_sitemap_is_a_problem_and_the_rest_carry_on(net: Net) -> None:
    found, problems = net.expand(net.site.url("/big-index.xml"), max_feed_bytes=1000)
    assert labels(found) == [net.site.url("/e.html")]
    problem = only_problem(problems)
    assert problem.label == net.site.url("/enormous.xml")
    assert "is enormous: over 1,000 bytes" in problem.message
    assert problem.message.endswith(f"(listed in {net.site.url('/big-index.xml')})")


def test_an_rss_feed_gives_item_links_and_titles(net: Net) -> None:
    found, problems = net.expand(net.site.url("/rss.xml"))
    assert [(s.url, s.title) for s in found] == [
        (net.site.url("/news/1.html"), "河谷小城试行夜间公交"),
        (net.site.url("/news/2.html"), "只有 guid"),
    ]
    assert problems == []


def test_feed_links_resolve_against_the_url_after_redirects(net: Net) -> None:
    feed = net.site.url("/feed")
    found, problems = net.expand(feed)
    assert found[0] == Source(net.site.url("/feeds/news/1.html"),
                              url=net.site.url("/feeds/news/1.html"), title="河谷小城试行夜间公交")
    assert problems == []


def test_an_atom_feed_gives_alternate_links(net: Net) -> None:
    found, problems = net.expand(net.site.url("/atom.xml"))
    assert [(s.url, s.title) for s in found] == [
        (net.site.url("/atom/1.html"), "第一篇"),
        (net.site.url("/atom/2.html"), "第二篇"),
    ]
    assert problems == []


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/missing", "answered 404"),
        ("/image.png", "is image/png, not a web page, sitemap or feed"),
        ("/malformed.xml", "is not well-formed XML: line 3, column 26"),
        ("/enormous.xml", "is enormous: over 1,000 bytes"),
        ("/lol.xml", "declares XML entities"),
        ("/empty.xml", "lists no article links"),
        ("/note.xml", "is not a sitemap, RSS 2.0 or Atom feed (its root element is <note>)"),
    ],
)
def test_bad_urls_are_problems(net: Net, path: str, message: str) -> None:
    url = net.site.url(path)
    found, problems = net.expand(url, net.site.url("/a.html"), max_feed_bytes=1000)
    assert labels(found) == [net.site.url("/a.html")]
    problem = only_problem(problems)
    assert problem.label == url and message in problem.message


def test_a_page_over_the_page_limit_is_a_problem(net: Net) -> None:
    policy = FetchPolicy(POLICY.allow_hosts, trusted_networks=POLICY.trusted_networks,
                         max_bytes=50)
    url = net.site.url("/a.html")
    problem = only_problem(net.expand(url, policy=policy)[1])
    assert problem == Problem(url, f"{url} is over 50 bytes; pages that large are not read")
    url = net.site.url("/enormous.xml")
    problem = only_problem(net.expand(url, policy=policy, max_feed_bytes=100)[1])
    assert problem.message == (
        f"{url} is over 100 bytes; pages, sitemaps and feeds that large are not read"
    )


@pytest.mark.parametrize(
    ("url", "policy", "message"),
    [
        ("http://localhost:{port}/a.html", POLICY, "localhost is not one of the sites"),
        ("ftp://127.0.0.1/a.html", POLICY, "only http:// and https:// pages can be read"),
        ("http://127.0.0.1:{port}/a.html", FetchPolicy(frozenset()), "turned off"),
        ("http://127.0.0.1:{port}/a.html", FetchPolicy(frozenset({"127.0.0.1"})),
         "loopback address"),
    ],
)
def test_refused_urls_are_problems_and_never_fetched(
    net: Net, url: str, policy: FetchPolicy, message: str
) -> None:
    given = url.format(port=net.site.server.port)
    problem = only_problem(net.expand(given, policy=policy)[1])
    assert problem.label == given and message in problem.message
    assert net.site.hits == []


def test_the_same_url_is_read_once_where_first_found(net: Net) -> None:
    a = net.site.url("/a.html")
    found, problems = net.expand(
        a, a.replace("http:", "HTTP:") + "#again", net.site.url("/sitemap.xml"),
        net.site.url("/sitemap.xml"), a,
    )
    assert labels(found) == [a, net.site.url("/b.html"), net.site.url("/c.html#top")]
    assert problems == []
    assert net.site.hits.count("/sitemap.xml") == 1


# --- the batch as a whole -------------------------------------------------------------------


def test_inputs_keep_their_order_across_kinds(net: Net, files: Path) -> None:
    found, problems = net.expand(
        net.site.url("/atom.xml"), "site/sub", "nowhere", net.site.url("/a.html"), "one.txt"
    )
    assert labels(found) == [
        net.site.url("/atom/1.html"),
        net.site.url("/atom/2.html"),
        "site/sub/a.TXT",
        "site/sub/z.xhtml",
        net.site.url("/a.html"),
        "one.txt",
    ]
    assert [problem.label for problem in problems] == ["nowhere"]


def test_max_articles_cuts_the_batch_with_one_problem(net: Net, files: Path) -> None:
    found, problems = net.expand("one.txt", "site", "nowhere", max_articles=3)
    assert labels(found) == ["one.txt", "site/C.shtml", "site/a.txt"]
    problem = only_problem(problems)  # "nowhere" was never looked at
    assert problem.label == "site"
    assert "reached 3 articles" in problem.message


def test_max_articles_applies_to_feeds(net: Net) -> None:
    found, problems = net.expand(net.site.url("/sitemap.xml"), net.site.url("/rss.xml"),
                                 max_articles=4)
    assert len(found) == 4
    assert only_problem(problems).label == net.site.url("/rss.xml")


@pytest.mark.parametrize(
    "kwargs", [{"max_articles": 0}, {"max_feed_bytes": 0}, {"max_sitemaps": -1}]
)
def test_bad_limits_are_a_config_error(kwargs: dict[str, int]) -> None:
    with pytest.raises(ConfigError):
        SourceLimits(**kwargs)


# --- sources as stored ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        Source("a.txt", path="a.txt"),
        Source("http://x.example/1", url="http://x.example/1", title="标题"),
        Source("稿件 1", text="正文。", title="标题", plain=True),
        Source("稿件 2", html=ARTICLE),
    ],
)
def test_a_source_survives_json(source: Source) -> None:
    assert Source.from_json(source.to_json()) == source


def test_json_is_compact_and_tolerates_new_keys() -> None:
    assert Source("a.txt", path="a.txt").to_json() == {"label": "a.txt", "path": "a.txt"}
    stored = {"label": "a.txt", "path": "a.txt", "added_later": 1}
    assert Source.from_json(stored) == Source("a.txt", path="a.txt")


@pytest.mark.parametrize(
    "data",
    [{}, {"label": 1, "path": "a"}, {"label": "a", "path": 1}, {"label": "a", "path": "a",
                                                                 "plain": "yes"},
     {"label": "a"}, {"label": "a", "path": "a", "url": "http://x.example/"}],
)
def test_malformed_json_is_a_value_error(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Source.from_json(data)


def test_is_html_path() -> None:
    assert is_html_path("a/B.HTML") and is_html_path("x.shtml") and is_html_path("x.xhtml")
    assert not is_html_path("a.txt") and not is_html_path("html")


# --- loading --------------------------------------------------------------------------------


def test_load_reads_a_text_file_as_bytes(net: Net, files: Path) -> None:
    loaded = net.load(Source("one.txt", path="one.txt", title="提示"))
    assert loaded == Loaded("第一篇。".encode(), False, None, None, "提示", False)


def test_load_reads_an_html_file_as_bytes(net: Net) -> None:
    path = str(FIXTURES / "government-br.html")
    loaded = net.load(Source(path, path=path))
    assert loaded.html and loaded.data == (FIXTURES / "government-br.html").read_bytes()


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ("nowhere.txt", InputError, "nowhere.txt: no such file"),
        ("site", InputError, "site: is a folder"),
        ("one.txt", InputError, "one.txt: cannot read it (Permission denied)"),
        ("page.html", InputTooLarge, "page.html is over 60 bytes"),
    ],
)
def test_load_says_what_is_wrong_with_a_file(
    net: Net, files: Path, deny: Callable[[str], None], path: str, error: type[Exception],
    message: str,
) -> None:
    deny("one.txt")
    policy = FetchPolicy(frozenset(), max_bytes=60)
    with pytest.raises(error, match=re.escape(message)):
        net.load(Source(path, path=path), policy)


def test_load_fetches_a_page_after_redirects_with_its_charset(net: Net) -> None:
    url = net.site.url("/go")
    loaded = net.load(Source(url, url=url, title="提示"))
    assert loaded == Loaded(GBK_ARTICLE.encode("gbk"), True, net.site.url("/gbk.html"), "GBK",
                            "提示", False)


def test_load_reads_a_text_page_as_page_text(net: Net) -> None:
    loaded = net.load(Source("p", url=net.site.url("/plain")))
    assert (loaded.html, loaded.data) == (False, "夜间公交试运行。".encode())


def test_load_a_feed_link(net: Net) -> None:
    found, _ = net.expand(net.site.url("/sitemap.xml"))
    assert net.load(found[0]).data == ARTICLE.encode()
    assert net.site.hits == ["/sitemap.xml", "/a.html"]


def test_load_raises_fetch_errors(net: Net) -> None:
    with pytest.raises(FetchFailed, match="404"):
        net.load(Source("m", url=net.site.url("/missing")))
    with pytest.raises(ForbiddenHost):
        net.load(Source("l", url="http://localhost/"))


def test_load_inline_sources(net: Net) -> None:
    assert net.load(Source("稿件", text="正文。", title="标题", plain=True)) == Loaded(
        "正文。", False, None, None, "标题", True)
    assert net.load(Source("稿件", html=ARTICLE)) == Loaded(ARTICLE, True, None, None, None,
                                                           False)
