"""Fetch an article page by URL without letting the URL reach anything it should not.

A public endpoint that fetches any URL it is given is a server-side request forgery hole: the
URL could point at the cloud metadata service, an admin page on localhost, or a database on the
private network. :func:`fetch_page` is the guard. For the first URL and again for every redirect:

1. The scheme is ``http`` or ``https`` and there is no ``user:password@``. Any port is allowed
   (sites do serve articles on 8080); port 0 is not.
2. The host is on the allowlist (:attr:`FetchPolicy.allow_hosts`), compared after IDNA encoding,
   lower-casing and stripping trailing dots. Names off the list are never even looked up.
3. Every address the host resolves to is public: not loopback, private, link-local (where the
   metadata service lives), carrier-grade NAT, multicast, reserved or unspecified, nor an IPv6
   address wrapping one of those. Addresses in :attr:`FetchPolicy.trusted_networks` are exempt.
   IP literals in the URL, in every form a browser reads (``2130706433``, ``0x7f.1``), are
   checked the same way.
4. The connection goes to the checked addresses and nowhere else: the HTTP client's resolver
   only answers with them, so DNS rebinding between check and connect has nothing to exploit.
   The ``Host`` header and TLS server name stay the host name.

Then the answer must be 2xx, of an accepted media type (HTML or plain text; callers reading
sitemaps and feeds pass ``types=FEED_TYPES`` to accept XML too), at most ``max_bytes`` long, and
the whole fetch, redirects included, must finish within ``timeout`` seconds.

Errors, and the HTTP status they suggest::

    InputError
    ├── FetchRefused            we will not fetch this URL
    │   ├── FetchDisabled       URL mode is off: the allowlist is empty (403)
    │   ├── BadUrl              not an http(s) URL, has userinfo, port 0, malformed host (400)
    │   ├── ForbiddenHost       off the allowlist, or an address that is not public (403)
    │   └── NotAPage            the answer is not of an accepted media type (415)
    └── InputTooLarge           the page is over ``max_bytes`` (413)
    ReaderError
    └── FetchFailed             the site failed: error status, unreachable, redirect loop (502)
        └── FetchTimeout        the whole fetch ran past its deadline (504)
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from reader.errors import ConfigError, InputError, InputTooLarge, ReaderError

__all__ = [
    "FEED_TYPES",
    "PAGE_TYPES",
    "USER_AGENT",
    "BadUrl",
    "FetchDisabled",
    "FetchFailed",
    "FetchPolicy",
    "FetchRefused",
    "FetchTimeout",
    "FetchedPage",
    "ForbiddenHost",
    "NotAPage",
    "Resolver",
    "fetch_page",
    "system_resolver",
]

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

#: Looks up a host name for a port and returns address strings; injectable for tests.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

#: Says who is asking, so a site's operator can tell us apart from a browser.
USER_AGENT = "reader/0.1 (+article reader)"

# Other schemes read local files (file:), talk to other services (gopher:, ftp:) or are not
# fetches at all (data:, javascript:).
_SCHEMES = frozenset({"http", "https"})

#: What an article page can be; anything else (images, PDFs, archives) is not ours to read.
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})

#: What a sitemap or an RSS/Atom feed is served as, besides the page types: sites serve sitemaps
#: as text/plain or text/html too, so the caller tells them apart by content, not by this header.
FEED_TYPES = PAGE_TYPES | frozenset(
    {"application/xml", "text/xml", "application/rss+xml", "application/atom+xml"}
)

# The statuses that carry a Location to follow; 300 and 304 do not name one place to go.
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

_CHUNK = 64 * 1024

# 100.64.0.0/10 is neither private nor global to ipaddress, but behind it sits the carrier's NAT.
_CGNAT = IPv4Network("100.64.0.0/10")

# NAT64 gateways translate 64:ff9b::a.b.c.d to a.b.c.d, so the embedded address is what counts.
_NAT64 = IPv6Network("64:ff9b::/96")

# A legacy IPv4 part: decimal, octal (leading 0) or hex (0x, possibly empty), as browsers read it.
_IPV4_PART = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")


class FetchRefused(InputError):
    """We will not fetch this URL; the caller can fix it (HTTP 4xx)."""


class FetchDisabled(FetchRefused):
    """Fetching by URL is turned off: no hosts are allowed."""


class BadUrl(FetchRefused):
    """Not an http(s) URL we accept: wrong scheme, userinfo, port 0 or a malformed host."""


class ForbiddenHost(FetchRefused):
    """The host is off the allowlist, or resolves to an address that is not public."""


class NotAPage(FetchRefused):
    """The site answered with something that is not HTML or text."""


class FetchFailed(ReaderError):
    """The site failed us (HTTP 502). ``status`` is its HTTP status, if it answered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class FetchTimeout(FetchFailed):
    """The whole fetch, redirects included, ran past its deadline (HTTP 504)."""


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """A page as fetched, ready for ``decode_html(content, charset)``."""

    url: str
    """The URL as asked for."""
    final_url: str
    """The URL the content came from, after redirects, with the host normalised."""
    content: bytes
    """The body, decompressed, at most ``max_bytes`` long."""
    charset: str | None
    """The charset from the ``Content-Type`` header, if it named one."""
    content_type: str
    """The media type, lower case without parameters; empty if the site sent none."""


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """What :func:`fetch_page` may fetch. Invalid values raise ``ConfigError``."""

    allow_hosts: frozenset[str]
    """Exact host names, or ``*.gov.cn`` patterns matching every name under ``gov.cn`` (not
    ``gov.cn`` itself). Normalised on construction. Empty turns URL mode off."""
    max_bytes: int = 5_000_000
    """The largest body read; a larger ``Content-Length`` is refused before reading."""
    timeout: float = 10.0
    """Seconds for the whole fetch, every redirect and the body included."""
    max_redirects: int = 5
    """Redirects followed before giving up."""
    trusted_networks: tuple[str, ...] = ()
    """CIDRs exempt from the refusal of non-public addresses (tests, an intranet's own sites)."""

    def __post_init__(self) -> None:
        # Normalised once here, so matching is plain string comparison.
        patterns = frozenset(_normalise_pattern(p) for p in self.allow_hosts)
        object.__setattr__(self, "allow_hosts", patterns)
        _parse_networks(self.trusted_networks)
        if self.max_bytes <= 0 or self.timeout <= 0 or self.max_redirects < 0:
            raise ConfigError(
                "fetch limits must be positive (max_bytes, timeout) and max_redirects at least 0"
            )


@dataclass(frozen=True, slots=True)
class _Target:
    """One URL that passed every check, and the addresses it may be fetched from."""

    url: URL
    addresses: tuple[IPAddress, ...]


async def fetch_page(
    url: str,
    policy: FetchPolicy,
    *,
    resolver: Resolver | None = None,
    types: frozenset[str] = PAGE_TYPES,
) -> FetchedPage:
    """Fetch the page at ``url`` if ``policy`` allows it; see the module docstring for the rules.

    ``resolver`` looks host names up (default: :func:`system_resolver`). ``types`` are the media
    types accepted (default :data:`PAGE_TYPES`; :data:`FEED_TYPES` adds XML). Raises a
    ``FetchRefused`` subclass or ``InputTooLarge`` when the URL or its answer is not acceptable,
    and ``FetchFailed`` (``FetchTimeout``) when the site fails.
    """
    # An empty allowlist means the operator has not opted in; say so rather than "not allowed".
    if not policy.allow_hosts:
        raise FetchDisabled(
            "reading articles by URL is turned off here (no sites are allowed: the operator"
            " lists them in READER_FETCH_ALLOW); send the article's text instead"
        )
    try:
        # One deadline for everything: a site cannot stretch it with a chain of slow redirects.
        async with asyncio.timeout(policy.timeout):
            return await _fetch(url, policy, resolver or system_resolver, types)
    except TimeoutError as exc:
        raise FetchTimeout(
            f"{url} took longer than {policy.timeout:g} s to fetch; the site may be slow or down"
        ) from exc
    except aiohttp.ClientError as exc:
        raise FetchFailed(f"could not fetch {url}: {exc}") from exc


async def system_resolver(host: str, port: int) -> list[str]:
    """Look ``host`` up with the event loop's ``getaddrinfo`` (the default resolver)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def _fetch(
    url: str, policy: FetchPolicy, resolve: Resolver, types: frozenset[str]
) -> FetchedPage:
    pins = _PinnedResolver()
    async with _session(pins) as session:
        location: str | URL = url
        for hop in range(policy.max_redirects + 1):
            target = await _check_hop(location, policy, resolve, redirected=hop > 0)
            pins.pin(target)
            # Redirects by hand: aiohttp would follow them without our checks.
            async with session.get(target.url, allow_redirects=False) as response:
                next_location = _redirect_location(target, response)
                if next_location is None:
                    return await _read_page(url, target, response, policy, types)
            location = next_location
    # A chain this long is a loop or a misconfigured site, not something the caller can fix.
    raise FetchFailed(
        f"{url} redirected more than {policy.max_redirects} times without reaching a page",
        status=response.status,
    )


async def _check_hop(
    location: str | URL, policy: FetchPolicy, resolve: Resolver, *, redirected: bool
) -> _Target:
    try:
        return await _check(location, policy, resolve)
    except FetchRefused as exc:
        if not redirected:
            raise
        # Say that a redirect led there, or the caller will not recognise the URL.
        raise type(exc)(f"the page redirected to {location}, which is refused: {exc}") from exc


async def _check(location: str | URL, policy: FetchPolicy, resolve: Resolver) -> _Target:
    """Apply rules 1 to 3 to one URL; return it with its host normalised, and its addresses."""
    url = _parse(location)
    host = (url.raw_host or "").rstrip(".")
    literal = _ip_literal(host)
    if literal is not None:
        # Checked before the allowlist so the message names the real problem.
        _check_address(host, literal, policy)
        host = str(literal)
    _check_allowed(host, literal is not None, policy)
    port = url.port or 0
    addresses = (literal,) if literal is not None else await _resolve(host, port, resolve)
    for address in addresses:
        # Any one bad address is enough: the client may connect to any of them.
        _check_address(host, address, policy)
    # We fetch exactly the URL we checked; the fragment never leaves the browser anyway.
    return _Target(url.with_host(host).with_fragment(None), addresses)


def _parse(location: str | URL) -> URL:
    """Rule 1: an absolute http(s) URL without userinfo and with a usable port."""
    try:
        url = location if isinstance(location, URL) else URL(location.strip())
    except ValueError as exc:
        raise BadUrl(f"{location!r} is not a valid web address: {exc}") from exc
    if not url.scheme:
        raise BadUrl(f"{location!r} has no scheme: write it with http:// or https:// in front")
    if url.scheme not in _SCHEMES:
        raise BadUrl(
            f"{location!r} is a {url.scheme}: URL; only http:// and https:// pages can be read"
        )
    # user:password@ hides the real host from people reading the URL, and sends credentials.
    if url.raw_user is not None or url.raw_password is not None:
        raise BadUrl(f"{location!r} has a user name or password in it (before '@'); remove them")
    if not url.raw_host:
        raise BadUrl(f"{location!r} has no host name")
    # Port 0 means "any port" to some stacks; no web page lives there.
    if url.explicit_port == 0:
        raise BadUrl(f"{location!r} has port 0, which no web server listens on")
    return url


def _ip_literal(host: str) -> IPAddress | None:
    """The address a host is written as, in any form a browser accepts, or None for a name."""
    if ":" in host:
        try:
            return ip_address(host)
        except ValueError as exc:
            raise BadUrl(f"{host!r} is not a valid IPv6 address") from exc
    return _ipv4_literal(host)


def _ipv4_literal(host: str) -> IPv4Address | None:
    """Read ``host`` as the WHATWG URL standard does, so 2130706433 and 0x7f.1 are 127.0.0.1."""
    parts = host.split(".")
    # A host whose last label is a number is an IPv4 address to browsers, however odd it looks.
    if not _IPV4_PART.fullmatch(parts[-1]):
        return None
    try:
        numbers = [_ipv4_number(part) for part in parts]
    except ValueError:
        numbers = []
    if (
        not 1 <= len(numbers) <= 4
        or any(n > 255 for n in numbers[:-1])
        or (numbers[-1] >= 256 ** (5 - len(numbers)))
    ):
        raise BadUrl(f"{host!r} looks like an IP address but is not a valid one")
    return IPv4Address(sum(n << 8 * (3 - i) for i, n in enumerate(numbers[:-1])) + numbers[-1])


def _ipv4_number(part: str) -> int:
    if not _IPV4_PART.fullmatch(part):
        raise ValueError(part)
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)
    return int(part)


def _check_allowed(host: str, literal: bool, policy: FetchPolicy) -> None:
    """Rule 2: the host is on the allowlist (patterns match names, never IP addresses)."""
    if host in policy.allow_hosts:
        return
    if not literal and any(p.startswith("*.") and host.endswith(p[1:]) for p in policy.allow_hosts):
        return
    raise ForbiddenHost(f"{host} is not one of the sites this server reads articles from")


async def _resolve(host: str, port: int, resolve: Resolver) -> tuple[IPAddress, ...]:
    try:
        found = await resolve(host, port)
    except OSError as exc:
        raise FetchFailed(f"could not look up {host}: {exc}") from exc
    try:
        addresses = tuple(ip_address(a) for a in found)
    except ValueError as exc:
        raise FetchFailed(
            f"looking up {host} gave something that is not an address: {exc}"
        ) from exc
    if not addresses:
        raise FetchFailed(f"{host} has no addresses")
    return addresses


def _check_address(host: str, address: IPAddress, policy: FetchPolicy) -> None:
    """Rule 3: the address is public, or in a trusted network."""
    reason = _why_not_public(address, _parse_networks(policy.trusted_networks))
    if reason is not None:
        shown = host if host == str(address) else f"{host} ({address})"
        raise ForbiddenHost(
            f"{shown} is a {reason} address; pages on private networks are never fetched"
        )


def _why_not_public(address: IPAddress, trusted: tuple[IPNetwork, ...]) -> str | None:
    """What kind of non-public address this is, or None if it may be fetched."""
    if any(address.version == net.version and address in net for net in trusted):
        return None
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        # ::ffff:127.0.0.1 and friends reach the IPv4 address inside them.
        return _why_not_public(embedded, trusted)
    for reason, test in _NOT_PUBLIC:
        if test(address):
            return reason
    return None


def _embedded_ipv4(address: IPAddress) -> IPv4Address | None:
    if not isinstance(address, IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFF_FFFF)
    return address.sixtofour


# Most specific first, so 169.254.169.254 is called link-local rather than private.
_NOT_PUBLIC: tuple[tuple[str, Callable[[IPAddress], bool]], ...] = (
    ("loopback", lambda a: a.is_loopback),
    ("link-local (cloud metadata services live there)", lambda a: a.is_link_local),
    ("unspecified", lambda a: a.is_unspecified),
    ("carrier-grade NAT", lambda a: a in _CGNAT),
    ("private", lambda a: a.is_private),
    ("multicast", lambda a: a.is_multicast),
    ("reserved", lambda a: a.is_reserved),
    ("site-local", lambda a: isinstance(a, IPv6Address) and a.is_site_local),
    # The catch-all: ipaddress keeps the IANA special-purpose registries up to date.
    ("non-public", lambda a: not a.is_global),
)


def _redirect_location(target: _Target, response: aiohttp.ClientResponse) -> URL | None:
    """Where a redirect points, resolved against the page that sent it; None for a final answer."""
    if response.status not in _REDIRECTS:
        return None
    location = response.headers.get(aiohttp.hdrs.LOCATION)
    if not location:
        raise FetchFailed(
            f"{target.url} answered {response.status} without saying where to go",
            status=response.status,
        )
    try:
        return target.url.join(URL(location))
    except ValueError as exc:
        raise FetchFailed(
            f"{target.url} redirected to an invalid address {location!r}", status=response.status
        ) from exc


async def _read_page(
    url: str,
    target: _Target,
    response: aiohttp.ClientResponse,
    policy: FetchPolicy,
    types: frozenset[str],
) -> FetchedPage:
    _check_status(target, response)
    content_type = _check_content_type(target, response, types)
    _check_declared_length(target, response, policy.max_bytes)
    content = await _read_limited(target, response, policy.max_bytes)
    return FetchedPage(url, str(target.url), content, response.charset, content_type)


def _check_status(target: _Target, response: aiohttp.ClientResponse) -> None:
    # An error page's text is not the article; the caller should hear that the site failed.
    if not 200 <= response.status < 300:
        raise FetchFailed(
            f"{target.url} answered {response.status} {response.reason or ''}".rstrip(),
            status=response.status,
        )


def _check_content_type(
    target: _Target, response: aiohttp.ClientResponse, types: frozenset[str]
) -> str:
    # No header at all is let through: decode_html refuses binary data by its content.
    if aiohttp.hdrs.CONTENT_TYPE not in response.headers:
        return ""
    if response.content_type not in types:
        raise NotAPage(f"{target.url} is {response.content_type}, {_not_accepted(types)}")
    return response.content_type


def _not_accepted(types: frozenset[str]) -> str:
    # Name what the caller was willing to read, so the message fits the command that asked.
    if types <= PAGE_TYPES:
        return "not a web page; only HTML and plain-text articles can be read"
    return (
        "not a web page, sitemap or feed; only HTML and plain-text articles, sitemaps "
        "and RSS or Atom feeds can be read"
    )


def _check_declared_length(target: _Target, response: aiohttp.ClientResponse, limit: int) -> None:
    # Refuse before reading a byte when the site says up front that the page is too large.
    length = response.content_length
    if length is not None and length > limit:
        raise InputTooLarge(f"{target.url} is {length:,} bytes; pages over {limit:,} are not read")


async def _read_limited(target: _Target, response: aiohttp.ClientResponse, limit: int) -> bytes:
    # Content-Length can be absent or wrong (and compression hides the real size): count as we go.
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise InputTooLarge(f"{target.url} is over {limit:,} bytes; larger pages are not read")
        chunks.append(chunk)
    return b"".join(chunks)


def _session(resolver: _PinnedResolver) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(
        resolver=resolver,
        use_dns_cache=False,  # every connection asks the pinned resolver, never a stale cache
        force_close=True,  # no pooled connection outlives the check it was made under
    )
    return aiohttp.ClientSession(
        connector=connector,
        trust_env=False,  # a proxy from the environment would connect where we did not check
        cookie_jar=aiohttp.DummyCookieJar(),  # one site's cookies must not follow a redirect
        headers={"User-Agent": USER_AGENT},
        timeout=aiohttp.ClientTimeout(total=None),  # fetch_page holds the one deadline
    )


class _PinnedResolver(AbstractResolver):
    """Answers only with addresses that passed the checks (rule 4: no DNS rebinding)."""

    def __init__(self) -> None:
        self._pins: dict[str, tuple[IPAddress, ...]] = {}

    def pin(self, target: _Target) -> None:
        self._pins[target.url.raw_host or ""] = target.addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = self._pins.get(host)
        if addresses is None:
            # Only reachable if aiohttp asked for a host we did not check: fail closed.
            raise OSError(f"{host} was not checked before connecting")
        return [_resolve_result(host, port, address) for address in addresses]

    async def close(self) -> None:
        """Nothing to release."""


def _resolve_result(host: str, port: int, address: IPAddress) -> ResolveResult:
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    return ResolveResult(
        hostname=host,
        host=str(address),
        port=port,
        family=family,
        proto=0,
        flags=socket.AI_NUMERICHOST,
    )


@lru_cache(maxsize=32)
def _parse_networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    try:
        return tuple(ip_network(cidr.strip()) for cidr in cidrs)
    except ValueError as exc:
        raise ConfigError(f"trusted network is not a CIDR like 10.0.0.0/8: {exc}") from exc


def _normalise_pattern(pattern: str) -> str:
    """``*.Gov.CN.`` -> ``*.gov.cn``, ``新闻.example`` -> ``xn--efvy88h.example``."""
    wildcard = pattern.startswith("*.")
    name = (pattern[2:] if wildcard else pattern).strip().rstrip(".")
    if not name or "*" in name:
        raise ConfigError(f"allowed host {pattern!r} must be a host name or '*.' and a domain")
    try:
        host = URL.build(scheme="http", host=name).raw_host or ""
    except ValueError as exc:
        raise ConfigError(f"allowed host {pattern!r} is not a valid host name: {exc}") from exc
    return f"*.{host}" if wildcard else host
