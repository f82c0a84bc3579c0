"""The circuit breaker's states, on an injected clock, with permits."""

from __future__ import annotations

from reader.engines.breaker import CircuitBreaker, Permit, State


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def fail(breaker: CircuitBreaker, times: int = 1) -> None:
    for _ in range(times):
        permit = breaker.allow()
        assert permit is not None
        permit.failure()


def allowed(breaker: CircuitBreaker) -> Permit:
    permit = breaker.allow()
    assert permit is not None
    return permit


def test_opens_after_consecutive_failures_only() -> None:
    breaker = CircuitBreaker(threshold=3, cooldown=60, clock=Clock())
    fail(breaker, 2)
    allowed(breaker).success()  # resets the count
    fail(breaker, 2)
    assert breaker.state is State.CLOSED
    fail(breaker)
    assert breaker.state is State.OPEN
    assert breaker.allow() is None
    assert breaker.retry_after() == 60


def test_a_timeout_trips_it_at_once() -> None:
    breaker = CircuitBreaker(threshold=3, cooldown=60, clock=Clock())
    allowed(breaker).failure(trip=True)
    assert breaker.state is State.OPEN


def test_half_open_allows_one_trial() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=10, clock=clock)
    fail(breaker)
    clock.now += 10
    assert breaker.state is State.HALF_OPEN
    trial = allowed(breaker)
    assert trial.trial and breaker.allow() is None  # the trial is in flight
    trial.success()
    assert breaker.state is State.CLOSED and breaker.allow() is not None


def test_failed_trial_opens_again_for_a_full_cooldown() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=5, cooldown=10, clock=clock)
    fail(breaker, 5)
    clock.now += 11
    allowed(breaker).failure()  # one failure is enough while half-open
    assert breaker.state is State.OPEN and breaker.retry_after() == 10


def test_stragglers_from_before_it_opened_decide_nothing() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=10, clock=clock)
    early = allowed(breaker)  # a slow call that started while all was well
    fail(breaker)  # another call fails: open
    clock.now += 10
    trial = allowed(breaker)
    early.success()  # the straggler succeeds: must not close the breaker...
    early.release()
    assert breaker.allow() is None  # ...nor free the trial slot
    assert breaker.state is State.HALF_OPEN
    trial.failure()
    assert breaker.state is State.OPEN


def test_release_frees_the_trial_without_changing_state() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=10, clock=clock)
    fail(breaker)
    clock.now += 10
    allowed(breaker).release()
    assert allowed(breaker).trial


def test_a_permit_reports_once() -> None:
    breaker = CircuitBreaker(threshold=2, cooldown=10, clock=Clock())
    permit = allowed(breaker)
    permit.failure()
    permit.failure()  # ignored
    assert breaker.state is State.CLOSED
