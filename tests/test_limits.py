"""Abuse limits and API tokens, all on fake clocks: no sleeps."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reader.errors import ConfigError, ReaderError
from reader.limits import (
    BudgetExceeded,
    CharacterBudget,
    EndpointDisabled,
    LimitExceeded,
    MissingToken,
    RateLimited,
    RateLimiter,
    TokenCheck,
    WrongToken,
    bearer_token,
    client_key,
)


class FakeClock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def unix(text: str) -> float:
    """Unix time of an ISO date-time in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def refused(limiter: RateLimiter, key: str = "a") -> RateLimited:
    with pytest.raises(RateLimited) as caught:
        limiter.check(key)
    return caught.value


# ---------------------------------------------------------------- rate


def test_burst_then_refused() -> None:
    limiter = RateLimiter(rate=2.0, burst=5, clock=FakeClock())
    for _ in range(5):
        limiter.check("a")
    error = refused(limiter)
    assert error.retry_after == pytest.approx(0.5)  # one token at 2 per second
    assert error.retry_after_header == "1"
    assert "2 per second" in str(error) and "bursts of 5" in str(error)


def test_refill_is_rate_times_elapsed_and_capped_at_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=2.0, burst=5, clock=clock)
    for _ in range(5):
        limiter.check("a")
    clock.now += 1.0  # two tokens back
    limiter.check("a")
    limiter.check("a")
    assert refused(limiter).retry_after == pytest.approx(0.5)
    clock.now += 0.25  # half a token
    assert refused(limiter).retry_after == pytest.approx(0.25)
    clock.now += 3600  # an hour idle refills to the burst, not beyond
    for _ in range(5):
        limiter.check("a")
    refused(limiter)


def test_waiting_exactly_retry_after_is_enough() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=3.0, burst=1, clock=clock)  # 1/3 s has no exact float
    limiter.check("a")
    for _ in range(100):
        clock.now += refused(limiter).retry_after
        limiter.check("a")


def test_slow_rate_retry_after() -> None:
    limiter = RateLimiter(rate=0.1, burst=1, clock=FakeClock())  # one per ten seconds
    limiter.check("a")
    error = refused(limiter)
    assert error.retry_after == pytest.approx(10.0)
    assert error.retry_after_header == "10"


def test_clients_have_separate_buckets() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, clock=FakeClock())
    limiter.check("a")
    limiter.check("b")
    refused(limiter, "a")


def test_a_clock_stepping_back_mints_no_tokens() -> None:
    clock = FakeClock(100.0)
    limiter = RateLimiter(rate=1.0, burst=1, clock=clock)
    limiter.check("a")
    clock.now = 50.0
    refused(limiter)


@given(st.lists(st.floats(min_value=0.0, max_value=3.0), min_size=1, max_size=60),
       st.floats(min_value=0.1, max_value=10.0), st.integers(min_value=1, max_value=5))
def test_never_more_than_burst_plus_rate_times_elapsed(
        gaps: list[float], rate: float, burst: int) -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=rate, burst=burst, clock=clock)
    allowed = 0
    for gap in gaps:
        clock.now += gap
        try:
            limiter.check("a")
            allowed += 1
        except RateLimited as error:
            assert error.retry_after > 0
    assert allowed <= burst + rate * clock.now + 1e-6


def test_tracked_clients_are_bounded() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, max_clients=1000, clock=FakeClock())
    for i in range(100_000):
        limiter.check(f"client-{i}")
    assert limiter.tracked() == 1000


def test_least_recently_seen_client_is_forgotten_first() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, max_clients=2, clock=FakeClock())
    limiter.check("a")
    limiter.check("b")
    refused(limiter, "a")  # a seen again: b is now the oldest
    limiter.check("c")  # evicts b
    refused(limiter, "a")  # a kept its empty bucket
    limiter.check("b")  # b was forgotten: a fresh, full bucket


@pytest.mark.parametrize(("rate", "burst", "clients"), [(0, 1, 1), (1, 0, 1), (1, 1, 0)])
def test_rate_limiter_rejects_nonsense(rate: float, burst: int, clients: int) -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate=rate, burst=burst, max_clients=clients)


# ---------------------------------------------------------------- budget


def test_spend_exactly_to_zero_then_one_more_is_refused() -> None:
    clock = FakeClock(unix("2025-03-01T12:00:00"))
    budget = CharacterBudget(1000, clock=clock)
    assert budget.remaining("a") == 1000
    budget.spend("a", 600)
    budget.spend("a", 400)
    assert budget.remaining("a") == 0
    with pytest.raises(BudgetExceeded) as caught:
        budget.spend("a", 1)
    error = caught.value
    assert error.remaining == 0
    assert error.retry_after == 12 * 3600
    assert "only 0 of today's 1,000 left" in str(error)
    assert "00:00 UTC, in 12 h 0 min" in str(error)


def test_a_refused_spend_charges_nothing_and_says_what_is_left() -> None:
    budget = CharacterBudget(1000, clock=FakeClock(unix("2025-03-01T23:59:30")))
    budget.spend("a", 700)
    with pytest.raises(BudgetExceeded) as caught:
        budget.spend("a", 301)
    assert caught.value.remaining == 300
    assert "needs 301 characters" in str(caught.value)
    assert "only 300 of today's" in str(caught.value)
    assert caught.value.retry_after == 30.0
    assert caught.value.retry_after_header == "30"
    assert budget.remaining("a") == 300
    budget.spend("a", 300)


def test_a_refund_gives_back_at_most_what_was_spent_today() -> None:
    clock = FakeClock(unix("2025-03-01T12:00:00"))
    budget = CharacterBudget(1000, clock=clock)
    budget.spend("a", 700)
    budget.refund("a", 200)
    assert budget.remaining("a") == 500
    budget.refund("a", 5000)
    assert budget.remaining("a") == 1000
    budget.refund("b", 10)  # never charged: nothing to give back
    assert budget.remaining("b") == 1000


def test_cached_text_is_free_even_on_an_empty_budget() -> None:
    budget = CharacterBudget(10, clock=FakeClock(unix("2025-03-01T08:00:00")))
    budget.spend("a", 10)
    budget.spend("a", 0)
    assert budget.tracked() == 1
    budget.spend("b", 0)
    assert budget.tracked() == 1  # nothing to remember about b


def test_budget_resets_at_utc_midnight() -> None:
    clock = FakeClock(unix("2025-03-01T23:59:59"))
    budget = CharacterBudget(100, clock=clock)
    budget.spend("a", 100)
    with pytest.raises(BudgetExceeded) as caught:
        budget.spend("a", 1)
    assert caught.value.retry_after == 1.0
    clock.now = unix("2025-03-02T00:00:00")
    assert budget.remaining("a") == 100
    budget.spend("a", 100)


def test_budget_across_several_days() -> None:
    clock = FakeClock(unix("2025-03-01T10:00:00"))
    budget = CharacterBudget(100, clock=clock)
    budget.spend("a", 40)
    clock.now = unix("2025-03-04T09:00:00")  # days later, at an earlier time of day
    assert budget.remaining("a") == 100
    budget.spend("a", 70)
    clock.now = unix("2025-03-04T23:00:00")
    assert budget.remaining("a") == 30


def test_retry_after_at_midnight_is_a_whole_day() -> None:
    budget = CharacterBudget(1, clock=FakeClock(unix("2025-03-02T00:00:00")))
    budget.spend("a", 1)
    with pytest.raises(BudgetExceeded) as caught:
        budget.spend("a", 1)
    assert caught.value.retry_after == 86_400


def test_budget_tracked_clients_are_bounded() -> None:
    budget = CharacterBudget(10, max_clients=500, clock=FakeClock(unix("2025-03-01T10:00:00")))
    for i in range(100_000):
        budget.spend(f"client-{i}", 1)
    assert budget.tracked() == 500


def test_budget_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        CharacterBudget(0)
    with pytest.raises(ValueError):
        CharacterBudget(10).spend("a", -1)


def test_limit_errors_are_ours() -> None:
    assert issubclass(RateLimited, LimitExceeded)
    assert issubclass(BudgetExceeded, LimitExceeded)
    assert issubclass(LimitExceeded, ReaderError)


# ---------------------------------------------------------------- tokens


@pytest.fixture
def compare_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, bytes]]:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    return calls


def test_a_configured_token_is_accepted_comparing_against_every_token(
        compare_calls: list[tuple[bytes, bytes]]) -> None:
    check = TokenCheck({"alpha-token", "beta-token", "gamma-token"})
    check.check("Bearer beta-token")
    # No early exit on a match: all three compared, each as equal-length digests.
    assert len(compare_calls) == 3
    assert all(len(a) == len(b) == 32 for a, b in compare_calls)


def test_a_wrong_token_is_403_after_comparing_against_every_token(
        compare_calls: list[tuple[bytes, bytes]]) -> None:
    check = TokenCheck({"alpha-token", "beta-token"})
    with pytest.raises(WrongToken) as caught:
        check.check("Bearer beta-tokeN")
    assert len(compare_calls) == 2
    assert "beta" not in str(caught.value)  # never echo a token


@pytest.mark.parametrize("header", [
    "Bearer s3cret", "bearer s3cret", "BEARER s3cret", "  Bearer    s3cret  ", "Bearer\ts3cret",
])
def test_header_forms_accepted(header: str) -> None:
    TokenCheck({"s3cret"}).check(header)


@pytest.mark.parametrize("header", [
    None, "", "   ", "Bearer", "Bearer   ", "Basic czNjcmV0", "Basic s3cret", "s3cret",
    "Token s3cret", "Bearers3cret",
])
def test_missing_or_other_scheme_is_401(header: str | None) -> None:
    with pytest.raises(MissingToken) as caught:
        TokenCheck({"s3cret"}).check(header)
    assert "Authorization: Bearer" in str(caught.value)


@pytest.mark.parametrize("header", ["Bearer s3cret extra", "Bearer S3CRET", "Bearer s3cre",
                                    "Bearer s3cret\u00e9"])
def test_near_misses_are_wrong(header: str) -> None:
    with pytest.raises(WrongToken):
        TokenCheck({"s3cret"}).check(header)


def test_no_tokens_disables_the_endpoints_whatever_is_sent() -> None:
    check = TokenCheck(set())
    assert not check.enabled
    for header in (None, "Bearer anything"):
        with pytest.raises(EndpointDisabled) as caught:
            check.check(header)
        assert "disabled" in str(caught.value)


def test_non_ascii_tokens_work() -> None:
    TokenCheck({"令牌-123"}).check("Bearer 令牌-123")


@pytest.mark.parametrize("token", ["", "has space", "tab\there"])
def test_unsendable_tokens_are_a_config_error_that_does_not_quote_them(token: str) -> None:
    with pytest.raises(ConfigError) as caught:
        TokenCheck({"fine-token", token})
    assert "fine-token" not in str(caught.value)
    if token:
        assert token not in str(caught.value)


def test_repr_shows_no_token() -> None:
    check = TokenCheck({"super-secret-value"})
    assert "super-secret-value" not in repr(check)
    assert "super-secret-value" not in str(vars(check))


def test_bearer_token() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("Basic abc") is None
    assert bearer_token(None) is None


# ---------------------------------------------------------------- client keys

PROXY = frozenset({"10.0.0.1", "10.0.0.2"})


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "key"), [
    # No trusted proxies: the header is the client's own words and is ignored.
    ("203.0.113.7", "198.51.100.1", frozenset(), "203.0.113.7"),
    ("203.0.113.7", None, frozenset(), "203.0.113.7"),
    # A direct client that is not our proxy cannot choose its key by sending the header.
    ("203.0.113.7", "198.51.100.1", PROXY, "203.0.113.7"),
    # Through our proxy: the hop it appended.
    ("10.0.0.1", "203.0.113.7", PROXY, "203.0.113.7"),
    # A spoofed hop on the left is ignored; the right-most untrusted hop counts.
    ("10.0.0.1", "1.1.1.1, 203.0.113.7", PROXY, "203.0.113.7"),
    ("10.0.0.1", "1.1.1.1,203.0.113.7", PROXY, "203.0.113.7"),
    # Two of our proxies in a chain: skip both.
    ("10.0.0.1", "6.6.6.6, 203.0.113.7, 10.0.0.2", PROXY, "203.0.113.7"),
    # Our proxy but no (or an empty) header: the proxy itself.
    ("10.0.0.1", None, PROXY, "10.0.0.1"),
    ("10.0.0.1", " , ", PROXY, "10.0.0.1"),
    # Every hop is ours: the request started inside our network.
    ("10.0.0.1", "10.0.0.2", PROXY, "10.0.0.1"),
    # Ports that some proxies append are dropped, or each connection would be a new client.
    ("10.0.0.1", "203.0.113.7:51234", PROXY, "203.0.113.7"),
    ("10.0.0.1", "[2001:db8:1:2::5]:443", PROXY, "2001:db8:1:2::/64"),
    ("10.0.0.1:8080", "203.0.113.7", PROXY, "203.0.113.7"),
    # IPv6 clients count per /64; IPv4-mapped addresses as the IPv4 address.
    ("2001:db8:1:2:aaaa::1", None, frozenset(), "2001:db8:1:2::/64"),
    ("2001:DB8:1:2:bbbb::9", None, frozenset(), "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.7", None, frozenset(), "203.0.113.7"),
    ("fe80::1%eth0", None, frozenset(), "fe80::/64"),
    # An IPv6 proxy written in another form still matches.
    ("2001:db8::1", "203.0.113.7", frozenset({"2001:DB8:0::1"}), "203.0.113.7"),
    # Not an address (a test client, a unix socket): kept as it is.
    ("testclient", None, frozenset(), "testclient"),
])
def test_client_key(peer: str, forwarded: str | None, trusted: frozenset[str], key: str) -> None:
    assert client_key(peer, forwarded, trusted) == key


@given(st.lists(st.ip_addresses().map(str), max_size=5))
def test_a_client_behind_our_proxy_cannot_spoof_its_key(spoofed: list[str]) -> None:
    header = ", ".join([*spoofed, "203.0.113.7"])
    assert client_key("10.0.0.1", header, PROXY) == "203.0.113.7"
