"""The circuit breaker's states, on an injected clock."""

from __future__ import annotations

from reader.engines.breaker import CircuitBreaker, State


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_consecutive_failures_only() -> None:
    breaker = CircuitBreaker(threshold=3, cooldown=60, clock=Clock())
    breaker.failure()
    breaker.failure()
    breaker.success()  # resets the count
    breaker.failure()
    breaker.failure()
    assert breaker.state is State.CLOSED and breaker.allow()
    breaker.failure()
    assert breaker.state is State.OPEN
    assert not breaker.allow()
    assert breaker.retry_after() == 60


def test_half_open_allows_one_trial() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=10, clock=clock)
    breaker.failure()
    clock.now += 10
    assert breaker.state is State.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()  # the trial is in flight
    breaker.success()
    assert breaker.state is State.CLOSED and breaker.allow()


def test_failed_trial_opens_again_for_a_full_cooldown() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=5, cooldown=10, clock=clock)
    for _ in range(5):
        breaker.failure()
    clock.now += 11
    assert breaker.allow()
    breaker.failure()  # one failure is enough while half-open
    assert breaker.state is State.OPEN and breaker.retry_after() == 10


def test_release_frees_the_trial_without_changing_state() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=10, clock=clock)
    breaker.failure()
    clock.now += 10
    assert breaker.allow()
    breaker.release()
    assert breaker.allow()
