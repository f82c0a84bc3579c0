"""Abuse limits for the public synthesis endpoint, and API tokens for the editor endpoints.

Pure Python and framework-free: the app factory builds one of each from the settings and
calls them from its routes. Nothing here awaits, and the mutable state sits behind a lock,
so the objects are safe on one asyncio loop and in FastAPI's thread pool for sync routes.

Memory is bounded: ``RateLimiter`` and ``CharacterBudget`` track at most ``max_clients``
keys each and forget the least recently seen one beyond that. A forgotten client starts
again with a full bucket or a fresh budget, so the bound must be above the number of
clients active in one window (a day, for the budget); 100,000 keys cost about 25 MB
each, keys included.

The errors, for the app's error mapping; they belong in ``errors.py``, under its root as drawn::

    ReaderError
    ├── LimitExceeded       a client went over a limit; ``retry_after`` seconds   HTTP 429
    │   ├── RateLimited     too many requests per second                    + Retry-After
    │   └── BudgetExceeded  today's characters of new speech are used up    + Retry-After
    └── AccessDenied        an editor or admin endpoint refused the request
        ├── MissingToken    no ``Authorization: Bearer`` token   HTTP 401 + WWW-Authenticate
        ├── WrongToken      a token that is not configured       HTTP 403
        └── EndpointDisabled no tokens configured: endpoints off HTTP 403

Messages never contain a token, so logging an error cannot leak one.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Final, Generic, TypeVar

from reader.errors import ConfigError, ReaderError

# Unix time has no leap seconds, so every UTC day is exactly this long and the day number
# is a plain division: no calendar or timezone library needed.
SECONDS_PER_DAY: Final = 86_400

# Float refill arithmetic can land a hair below a whole token for a client that waited
# exactly ``retry_after``; this tolerance admits it instead of asking it to wait ~0 s more.
_EPSILON: Final = 1e-9

V = TypeVar("V")


# ---------------------------------------------------------------- errors


class LimitExceeded(ReaderError):
    """A client went over a limit. ``retry_after`` is in seconds (HTTP 429)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def retry_after_header(self) -> str:
        """The value for a ``Retry-After`` header: whole seconds, rounded up, at least 1."""
        return str(max(1, math.ceil(self.retry_after)))


class RateLimited(LimitExceeded):
    """Too many requests from one client in a short time."""


class BudgetExceeded(LimitExceeded):
    """Today's characters of new speech are used up. ``remaining`` is what was left."""

    def __init__(self, message: str, retry_after: float, remaining: int) -> None:
        super().__init__(message, retry_after)
        self.remaining = remaining


class AccessDenied(ReaderError):
    """An editor or admin endpoint refused the request."""


class MissingToken(AccessDenied):
    """No bearer token was sent (HTTP 401 with ``WWW-Authenticate: Bearer``)."""


class WrongToken(AccessDenied):
    """The bearer token is not one of the configured ones (HTTP 403)."""


class EndpointDisabled(AccessDenied):
    """No tokens are configured, so editor and admin endpoints are off (HTTP 403).

    403 rather than 503: this is the server's standing policy, not an outage, and a 503
    would invite clients and monitors to retry.
    """


# ---------------------------------------------------------------- bounded memory


class _Lru(Generic[V]):
    """A dict that keeps only the ``capacity`` most recently used keys."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"max_clients must be at least 1, not {capacity}")
        self._capacity = capacity
        self._items: OrderedDict[str, V] = OrderedDict()

    def get(self, key: str) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: str, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


# ---------------------------------------------------------------- rate


class RateLimiter:
    """A token bucket per client key: ``rate`` requests per second, bursts of ``burst``.

    A new client starts with a full bucket. At most ``max_clients`` buckets are kept
    (least recently seen dropped first). ``clock`` is monotonic seconds; tests pass a fake.
    """

    def __init__(self, rate: float, burst: int, *, max_clients: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"need rate > 0 and burst >= 1, not rate={rate}, burst={burst}")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: _Lru[tuple[float, float]] = _Lru(max_clients)  # key -> (tokens, when)
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Take one token from ``key``'s bucket, or raise ``RateLimited``."""
        with self._lock:
            now = self._clock()
            tokens = self._refilled(key, now)
            allowed = tokens >= 1.0 - _EPSILON
            self._buckets.put(key, (max(0.0, tokens - 1.0) if allowed else tokens, now))
        if not allowed:
            raise self._refusal((1.0 - tokens) / self.rate)

    def tracked(self) -> int:
        """How many clients have a bucket in memory (at most ``max_clients``)."""
        return len(self._buckets)

    def _refilled(self, key: str, now: float) -> float:
        held = self._buckets.get(key)
        if held is None:
            return float(self.burst)
        tokens, then = held
        # max(): a clock that steps backwards must not take tokens away (nor mint them).
        return min(float(self.burst), tokens + max(0.0, now - then) * self.rate)

    def _refusal(self, wait: float) -> RateLimited:
        return RateLimited(
            f"Too many requests from your address: the limit is {self.rate:g} per second "
            f"with bursts of {self.burst}. Try again in {max(1, math.ceil(wait))} s.",
            retry_after=wait)


# ---------------------------------------------------------------- budget


class CharacterBudget:
    """A daily budget of characters of *new* speech per client, reset at 00:00 UTC.

    Only the caller knows which text is already cached (and so free); it calls
    ``spend`` with the characters that will really be synthesised. At most
    ``max_clients`` clients are tracked. ``clock`` is Unix time; tests pass a fake.
    """

    def __init__(self, daily_chars: int, *, max_clients: int = 100_000,
                 clock: Callable[[], float] = time.time) -> None:
        if daily_chars < 1:
            raise ValueError(f"daily_chars must be at least 1, not {daily_chars}")
        self.daily_chars = daily_chars
        self._clock = clock
        self._spent: _Lru[tuple[int, int]] = _Lru(max_clients)  # key -> (UTC day, spent)
        self._lock = threading.Lock()

    def remaining(self, key: str) -> int:
        """Characters ``key`` may still have synthesised today."""
        with self._lock:
            return self._left(key, _day(self._clock()))

    def spend(self, key: str, chars: int) -> None:
        """Charge ``chars`` to ``key``, or raise ``BudgetExceeded`` and charge nothing."""
        if chars < 0:
            raise ValueError(f"cannot spend a negative number of characters ({chars})")
        if chars == 0:
            return  # all cached: free, even on an exhausted budget, and nothing to track
        with self._lock:
            now = self._clock()
            day = _day(now)
            left = self._left(key, day)
            if chars <= left:
                self._spent.put(key, (day, self.daily_chars - left + chars))
                return
        raise self._refusal(chars, left, _seconds_to_midnight(now))

    def refund(self, key: str, chars: int) -> None:
        """Give back characters charged for speech that was never made (the synthesis
        failed); never more than was spent today."""
        if chars <= 0:
            return
        with self._lock:
            day = _day(self._clock())
            held = self._spent.get(key)
            if held is not None and held[0] == day:
                self._spent.put(key, (day, max(0, held[1] - chars)))

    def tracked(self) -> int:
        """How many clients have a budget in memory (at most ``max_clients``)."""
        return len(self._spent)

    def _left(self, key: str, day: int) -> int:
        held = self._spent.get(key)
        if held is None or held[0] != day:
            return self.daily_chars  # unknown, or last seen on an earlier day
        return self.daily_chars - held[1]

    def _refusal(self, chars: int, left: int, wait: float) -> BudgetExceeded:
        hours, minutes = divmod(math.ceil(wait / 60), 60)
        return BudgetExceeded(
            f"This needs {chars:,} characters of new speech, but your address has only "
            f"{left:,} of today's {self.daily_chars:,} left. Audio that is already made stays "
            f"free; the budget resets at 00:00 UTC, in {hours} h {minutes} min.",
            retry_after=wait, remaining=left)


def _day(now: float) -> int:
    return math.floor(now / SECONDS_PER_DAY)


def _seconds_to_midnight(now: float) -> float:
    return SECONDS_PER_DAY - now % SECONDS_PER_DAY


# ---------------------------------------------------------------- tokens


class TokenCheck:
    """Bearer tokens for editor and admin endpoints; no tokens means those endpoints are off.

    Only SHA-256 digests of the tokens are kept, so neither ``repr`` nor a debugger shows
    them, and every comparison is between two 32-byte values.
    """

    def __init__(self, tokens: Iterable[str]) -> None:
        unique = set(tokens)
        if any(not token or _has_space(token) for token in unique):
            # The message must not quote the token: it is a secret.
            raise ConfigError("an API token is empty or contains whitespace; "
                              "tokens are sent as 'Authorization: Bearer <token>'")
        self._digests = tuple(sorted(_digest(token) for token in unique))

    @property
    def enabled(self) -> bool:
        return bool(self._digests)

    def __repr__(self) -> str:
        return f"TokenCheck({len(self._digests)} tokens)"

    def check(self, authorization: str | None) -> None:
        """Accept an ``Authorization`` header carrying a configured bearer token, or raise."""
        if not self._digests:
            raise EndpointDisabled("This endpoint is disabled: the server has no API tokens "
                                   "configured. Ask its operator to set some.")
        token = bearer_token(authorization)
        if token is None:
            raise MissingToken("This endpoint needs an API token: send "
                               "'Authorization: Bearer <token>'.")
        if not self._matches(_digest(token)):
            raise WrongToken("This API token is not valid here. Check it for typos, or ask "
                             "the operator for a current one.")

    def _matches(self, given: bytes) -> bool:
        matched = False
        for digest in self._digests:
            # Compare against every token with no early exit, so the time taken does not
            # tell an attacker whether, or which, token came close.
            matched |= hmac.compare_digest(digest, given)
        return matched


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None for anything else.

    The scheme is case-insensitive (RFC 9110 section 11.1) and spaces around the parts are
    ignored; other schemes, such as Basic, give None.
    """
    parts = (authorization or "").split(None, 1)
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return None
    return parts[1].strip() or None


def _digest(token: str) -> bytes:
    # Hashing first gives compare_digest equal-length bytes: it may leak a length mismatch
    # through timing, and it refuses str with non-ASCII characters.
    return hashlib.sha256(token.encode("utf-8")).digest()


def _has_space(text: str) -> bool:
    return any(char.isspace() for char in text)


# ---------------------------------------------------------------- client keys


def client_key(request_ip: str, forwarded_for: str | None,
               trusted_proxies: frozenset[str]) -> str:
    """The key that limits count a client under.

    ``X-Forwarded-For`` is believed only when the direct peer is a trusted proxy, and then
    only its right-most hop that is not itself a trusted proxy: hops further left were
    written by the client and can say anything. Ports are dropped, and an IPv6 address
    counts as its /64 network, since one subscriber usually holds a whole /64 and could
    otherwise take a fresh key for every request.
    """
    return _key(_client_address(request_ip, forwarded_for, trusted_proxies))


def _client_address(request_ip: str, forwarded_for: str | None,
                    trusted_proxies: frozenset[str]) -> str:
    trusted = {_host(proxy) for proxy in trusted_proxies}
    peer = _host(request_ip)
    if peer not in trusted or not forwarded_for:
        return peer
    hops = [_host(hop) for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return peer  # every hop is one of ours: the request started inside our own network


def _host(address: str) -> str:
    """``address`` without port or brackets, in canonical form if it is an IP address."""
    host = address.strip()
    if host.startswith("["):  # "[2001:db8::1]:443" or "[2001:db8::1]"
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:  # "192.0.2.1:443"; a bare IPv6 address has several colons
        host = host.partition(":")[0]
    try:
        return str(ipaddress.ip_address(host.partition("%")[0]))  # "%eth0": a zone, not a host
    except ValueError:
        return host  # not an address (e.g. "unknown"): only a trusted proxy could have sent it


def _key(host: str) -> str:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return host
