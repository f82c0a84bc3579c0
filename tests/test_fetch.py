"""Tests for reader.fetch: pages come back; forbidden addresses never see a connection.

Everything runs on a loop that records every socket connection and every system DNS lookup,
and refuses any connection that is not to 127.0.0.1, so no test can touch the network. The
happy paths talk to a local aiohttp server, reached through names like ``news.example`` that an
injected resolver maps to 127.0.0.1, with 127.0.0.0/8 trusted.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from reader.errors import ConfigError, InputError, InputTooLarge, ReaderError
from reader.fetch import (
    FEED_TYPES,
    USER_AGENT,
    BadUrl,
    FetchDisabled,
    FetchedPage,
    FetchFailed,
    FetchPolicy,
    FetchRefused,
    FetchTimeout,
    ForbiddenHost,
    NotAPage,
    Resolver,
    fetch_page,
)

T = TypeVar("T")

ARTICLE = (
    "<html><head><title>河谷小城试行夜间公交</title></head><body><p>本报讯。</p></body></html>"
)
GBK_ARTICLE = "<html><body><p>市交通运输局介绍，三条线路覆盖火车站。</p></body>".encode("gbk")
ALLOWED = frozenset({"news.example", "*.gov.example", "127.0.0.1", "::1", "169.254.169.254"})
TRUSTED = ("127.0.0.0/8",)
NAMES = {
    "news.example": ["127.0.0.1"],
    "www.gov.example": ["127.0.0.1"],
    "evil.example": ["127.0.0.1"],
    "xn--efvy88h.example": ["127.0.0.1"],  # 新闻.example
}


class SpyLoop(asyncio.SelectorEventLoop):
    """Records connections and system lookups; refuses to connect anywhere but 127.0.0.1."""

    def __init__(self) -> None:
        super().__init__()
        self.connected: list[str] = []
        self.looked_up: list[str] = []

    async def sock_connect(self, sock: socket.socket, address: Any) -> None:
        self.connected.append(address[0])
        if address[0] != "127.0.0.1":
            raise ConnectionRefusedError(f"test refused a real connection to {address[0]}")
        await super().sock_connect(sock, address)

    async def getaddrinfo(self, host: Any, *args: Any, **kwargs: Any) -> Any:
        self.looked_up.append(host)
        return await super().getaddrinfo(host, *args, **kwargs)


def answer(**kwargs: Any) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A handler that always gives the same response."""

    async def handle(_: web.Request) -> web.Response:
        return web.Response(**kwargs)

    return handle


class Site:
    """A local article site that records the requests it gets."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.release = asyncio.Event()
        self.server = TestServer(self._app(), host="127.0.0.1")

    @property
    def port(self) -> int:
        assert self.server.port is not None
        return self.server.port

    def url(self, path: str, host: str = "news.example") -> str:
        return f"http://{host}:{self.port}{path}"

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        get = app.router.add_get
        get("/article", answer(text=ARTICLE, content_type="text/html"))
        get("/gbk", answer(body=GBK_ARTICLE, content_type="text/html", charset="GBK"))
        get("/plain", answer(text="夜间公交", content_type="text/plain"))
        get("/typed", self._typed)
        get("/big", answer(body=b"x" * 2000, content_type="text/html"))
        get("/stream", self._stream)
        get("/slow", self._slow)
        get("/missing", answer(status=404, text="not here"))
        get("/go", self._go)
        get("/loop", answer(status=302, headers={"Location": "/loop"}))
        get("/cookie", self._cookie)
        return app

    @web.middleware
    async def _record(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        self.hits.append(request.path)
        self.headers.append(dict(request.headers))
        return await handler(request)

    async def _typed(self, request: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG\r\n\x1a\n", content_type=request.query["t"])

    async def _go(self, request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": request.query["to"]})

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        # Chunked, so no Content-Length warns the client: it has to count.
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(4):
            await response.write(b"y" * 600)
        await response.write_eof()
        return response

    async def _slow(self, _: web.Request) -> web.Response:
        await self.release.wait()
        return web.Response(text=ARTICLE, content_type="text/html")

    async def _cookie(self, _: web.Request) -> web.Response:
        response = web.Response(status=302, headers={"Location": "/article"})
        response.set_cookie("session", "secret")
        return response


class Net:
    """One event loop (a SpyLoop) for a test, with a site on it."""

    def __init__(self, runner: asyncio.Runner) -> None:
        self.runner = runner
        loop = runner.get_loop()
        assert isinstance(loop, SpyLoop)
        self.loop = loop
        self.site = self.run(self._start())
        self.lookups: list[str] = []

    async def _start(self) -> Site:
        site = Site()
        await site.server.start_server()
        return site

    def run(self, coro: Awaitable[T]) -> T:
        return self.runner.run(coro)  # type: ignore[arg-type]

    def resolver(self, names: dict[str, list[str]] | None = None) -> Resolver:
        table = NAMES if names is None else names

        async def resolve(host: str, port: int) -> Sequence[str]:
            self.lookups.append(host)
            if host not in table:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return table[host]

        return resolve

    def fetch(
        self, url: str, policy: FetchPolicy, names: dict[str, list[str]] | None = None
    ) -> FetchedPage:
        return self.run(fetch_page(url, policy, resolver=self.resolver(names)))


@pytest.fixture
def net() -> Iterator[Net]:
    with asyncio.Runner(loop_factory=SpyLoop) as runner:
        net = Net(runner)
        try:
            yield net
        finally:
            net.site.release.set()
            net.run(net.site.server.close())


def trusted(**kwargs: Any) -> FetchPolicy:
    return FetchPolicy(ALLOWED, trusted_networks=TRUSTED, **kwargs)


DEFAULT = FetchPolicy(ALLOWED)


# --- pages that come back -------------------------------------------------------------------


def test_fetches_an_html_page(net: Net) -> None:
    page = net.fetch(net.site.url("/article"), trusted())
    assert page.content.decode() == ARTICLE
    assert (page.charset, page.content_type) == ("utf-8", "text/html")
    assert page.url == page.final_url == net.site.url("/article")
    assert net.site.headers[0]["User-Agent"] == USER_AGENT


def test_returns_the_header_charset_for_decode_html(net: Net) -> None:
    page = net.fetch(net.site.url("/gbk"), trusted())
    assert page.charset == "GBK"
    assert page.content.decode(page.charset) == GBK_ARTICLE.decode("gbk")


def test_plain_text_is_a_page(net: Net) -> None:
    assert net.fetch(net.site.url("/plain"), trusted()).content_type == "text/plain"


def test_follows_a_redirect_within_the_allowlist(net: Net) -> None:
    target = net.site.url("/article", host="www.gov.example")
    page = net.fetch(net.site.url(f"/go?to={target}"), trusted())
    assert page.final_url == target
    assert page.url == net.site.url(f"/go?to={target}")
    assert net.site.hits == ["/go", "/article"]


def test_host_names_are_normalised(net: Net) -> None:
    page = net.fetch(net.site.url("/article", host="NEWS.Example."), trusted())
    assert page.final_url == net.site.url("/article")
    policy = FetchPolicy(frozenset({"新闻.EXAMPLE."}), trusted_networks=TRUSTED)
    page = net.fetch(net.site.url("/article", host="新闻.example"), policy)
    assert page.final_url == net.site.url("/article", host="xn--efvy88h.example")


def test_connects_to_the_checked_address_even_if_dns_changes(net: Net) -> None:
    answers = iter([["127.0.0.1"], ["10.0.0.5"]])

    async def rebinding(host: str, port: int) -> Sequence[str]:
        return next(answers)

    net.run(fetch_page(net.site.url("/article"), trusted(), resolver=rebinding))
    assert net.loop.connected == ["127.0.0.1"]
    assert net.loop.looked_up == []  # aiohttp never did a lookup of its own


def test_cookies_and_proxy_settings_are_ignored(net: Net, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://10.9.9.9:3128")
    monkeypatch.setenv("http_proxy", "http://10.9.9.9:3128")
    net.fetch(net.site.url("/cookie"), trusted())
    assert net.site.hits == ["/cookie", "/article"]
    assert "Cookie" not in net.site.headers[1]
    assert net.loop.connected == ["127.0.0.1", "127.0.0.1"]


# --- the site fails, or sends something we will not read ------------------------------------


def test_a_declared_length_over_the_limit_is_refused(net: Net) -> None:
    with pytest.raises(InputTooLarge, match="2,000 bytes"):
        net.fetch(net.site.url("/big"), trusted(max_bytes=1000))


def test_a_streamed_body_over_the_limit_is_cut_off(net: Net) -> None:
    with pytest.raises(InputTooLarge, match="over 1,000 bytes"):
        net.fetch(net.site.url("/stream"), trusted(max_bytes=1000))


def test_a_body_at_the_limit_is_read(net: Net) -> None:
    assert len(net.fetch(net.site.url("/stream"), trusted(max_bytes=2400)).content) == 2400


def test_a_slow_site_times_out(net: Net) -> None:
    with pytest.raises(FetchTimeout, match="longer than 0.2 s") as caught:
        net.fetch(net.site.url("/slow"), trusted(timeout=0.2))
    assert caught.value.status is None


def test_an_error_status_is_a_failure_with_the_status(net: Net) -> None:
    with pytest.raises(FetchFailed, match="404") as caught:
        net.fetch(net.site.url("/missing"), trusted())
    assert caught.value.status == 404
    assert not isinstance(caught.value, InputError)


@pytest.mark.parametrize("media_type", ["image/png", "application/pdf", "application/octet-stream"])
def test_a_non_page_content_type_is_refused(net: Net, media_type: str) -> None:
    with pytest.raises(NotAPage, match=f"is {media_type}, not a web page"):
        net.fetch(net.site.url(f"/typed?t={media_type}"), trusted())


@pytest.mark.parametrize("media_type", ["application/xml", "text/xml", "application/rss+xml"])
def test_feed_types_are_accepted_only_when_asked_for(net: Net, media_type: str) -> None:
    url = net.site.url(f"/typed?t={media_type.replace('+', '%2B')}")  # '+' would be a space
    with pytest.raises(NotAPage, match="only HTML and plain-text articles can be read"):
        net.fetch(url, trusted())
    page = net.run(fetch_page(url, trusted(), resolver=net.resolver(), types=FEED_TYPES))
    assert page.content_type == media_type
    with pytest.raises(NotAPage, match="not a web page, sitemap or feed"):
        net.run(fetch_page(net.site.url("/typed?t=image/png"), trusted(),
                           resolver=net.resolver(), types=FEED_TYPES))


def test_an_unknown_name_fails(net: Net) -> None:
    with pytest.raises(FetchFailed, match="could not look up www.gov.example"):
        net.fetch(net.site.url("/article", host="www.gov.example"), trusted(), names={})


def test_too_many_redirects_fail(net: Net) -> None:
    with pytest.raises(FetchFailed, match="more than 3 times") as caught:
        net.fetch(net.site.url("/loop"), trusted(max_redirects=3))
    assert caught.value.status == 302
    assert net.site.hits == ["/loop"] * 4


# --- refusals: nothing is connected to --------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "file: URL"),
        ("ftp://news.example/article.html", "ftp: URL"),
        ("data:text/html,<p>hi</p>", "data: URL"),
        ("javascript:alert(1)", "javascript: URL"),
        ("gopher://news.example:70/_GET", "gopher: URL"),
        ("news.example/article", "no scheme"),
        ("http://user@news.example/article", "user name or password"),
        ("http://user:pw@news.example/article", "user name or password"),
        ("http://:pw@news.example/article", "user name or password"),
        ("http://news.example:0/article", "port 0"),
        ("http://1.2.3.4.5/", "not a valid one"),
        ("http://0x100000000/", "not a valid one"),
        ("http://news.example:99999/", "not a valid web address"),
    ],
)
def test_urls_that_are_not_web_addresses_are_refused(net: Net, url: str, message: str) -> None:
    with pytest.raises(BadUrl, match=message):
        net.fetch(url, DEFAULT)
    assert net.lookups == [] and net.loop.connected == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:{port}/article", "127.0.0.1 is a loopback address"),
        ("http://[::1]:{port}/article", "::1 is a loopback address"),
        ("http://2130706433:{port}/article", r"2130706433 \(127.0.0.1\) is a loopback"),
        ("http://0x7f.1:{port}/article", r"\(127.0.0.1\) is a loopback"),
        ("http://127.1:{port}/article", r"\(127.0.0.1\) is a loopback"),
        ("http://017700000001:{port}/article", r"\(127.0.0.1\) is a loopback"),
        ("http://[::ffff:127.0.0.1]:{port}/article", "loopback"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[::ffff:169.254.169.254]/latest/meta-data", "link-local"),
        ("http://[64:ff9b::a9fe:a9fe]/latest/meta-data", "link-local"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://10.0.0.5/", "private"),
        ("http://100.64.0.1/", "carrier-grade NAT"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[fd00::1]/", "private"),
        ("http://[fe80::1]/", "link-local"),
    ],
)
def test_ip_literals_of_non_public_addresses_are_refused(net: Net, url: str, message: str) -> None:
    with pytest.raises(ForbiddenHost, match=message):
        net.fetch(url.format(port=net.site.port), DEFAULT)
    assert net.site.hits == [] and net.loop.connected == []


@pytest.mark.parametrize("addresses", [["10.0.0.5"], ["93.184.216.34", "10.0.0.5"], ["::1"]])
def test_a_name_resolving_to_a_private_address_is_refused(net: Net, addresses: list[str]) -> None:
    with pytest.raises(ForbiddenHost, match=r"www.gov.example \(.*\) is a"):
        net.fetch("http://www.gov.example/", DEFAULT, names={"www.gov.example": addresses})
    assert net.lookups == ["www.gov.example"] and net.loop.connected == []


@pytest.mark.parametrize("host", ["other.example", "gov.example", "evilgov.example", "127.0.0.2"])
def test_hosts_off_the_allowlist_are_refused_without_a_lookup(net: Net, host: str) -> None:
    with pytest.raises(ForbiddenHost, match="not one of the sites"):
        net.fetch(net.site.url("/article", host=host), trusted())
    assert net.lookups == [] and net.site.hits == []


def test_a_redirect_to_the_metadata_service_is_refused(net: Net) -> None:
    first_hop_only = FetchPolicy(ALLOWED, trusted_networks=("127.0.0.1/32",))
    metadata = "http://169.254.169.254/latest/meta-data"
    with pytest.raises(ForbiddenHost, match="redirected to .*169.254.169.254.* link-local"):
        net.fetch(net.site.url(f"/go?to={metadata}"), first_hop_only)
    assert net.site.hits == ["/go"]
    assert net.loop.connected == ["127.0.0.1"]


@pytest.mark.parametrize(
    ("target", "error"),
    [("http://evil.example:{port}/article", ForbiddenHost), ("ftp://news.example/", BadUrl)],
)
def test_a_redirect_off_the_rules_is_refused(
    net: Net, target: str, error: type[FetchRefused]
) -> None:
    with pytest.raises(error, match="redirected to"):
        net.fetch(net.site.url(f"/go?to={target.format(port=net.site.port)}"), trusted())
    assert net.site.hits == ["/go"]


def test_an_empty_allowlist_turns_url_mode_off(net: Net) -> None:
    with pytest.raises(FetchDisabled, match="turned off"):
        net.fetch(net.site.url("/article"), FetchPolicy(frozenset(), trusted_networks=TRUSTED))
    assert net.lookups == [] and net.site.hits == []


# --- the policy and the error tree -------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"allow_hosts": frozenset({"*"})},
        {"allow_hosts": frozenset({"news.*.example"})},
        {"allow_hosts": frozenset({"bad host"})},
        {"trusted_networks": ("10.0.0.0/33",)},
        {"max_bytes": 0},
        {"timeout": 0},
        {"max_redirects": -1},
    ],
)
def test_a_bad_policy_is_a_config_error(kwargs: dict[str, Any]) -> None:
    kwargs.setdefault("allow_hosts", ALLOWED)
    with pytest.raises(ConfigError):
        FetchPolicy(**kwargs)


def test_patterns_are_normalised() -> None:
    policy = FetchPolicy(frozenset({"*.Gov.CN.", "新闻.example"}))
    assert policy.allow_hosts == {"*.gov.cn", "xn--efvy88h.example"}


def test_error_tree() -> None:
    for refusal in (FetchDisabled, BadUrl, ForbiddenHost, NotAPage):
        assert issubclass(refusal, FetchRefused) and issubclass(refusal, InputError)
    assert issubclass(FetchTimeout, FetchFailed) and issubclass(FetchFailed, ReaderError)
    assert not issubclass(FetchFailed, InputError)
