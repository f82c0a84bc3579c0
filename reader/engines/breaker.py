"""A circuit breaker: after consecutive failures, stop calling a service for a cool-down.

An outage then costs a few failed requests, not one per sentence: while the breaker is open
``allow()`` refuses at once, and the fallback engine speaks. When the cool-down has passed one
trial request goes through (half-open); its success closes the breaker, its failure opens it
for another cool-down. A failure that proves the service is hanging (a timeout) can ``trip``
it at once.

Each call that is let through holds a ``Permit`` and reports its outcome on it. Only the trial
permit decides a half-open breaker: the outcome of a call that started before the breaker
opened cannot close it, nor free the trial slot.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class State(StrEnum):
    CLOSED = "closed"  # calls go through
    OPEN = "open"  # calls fail at once until the cool-down ends
    HALF_OPEN = "half-open"  # one trial call may go (or is in flight)


class Permit:
    """One call's ticket; report exactly one outcome on it (later reports are ignored)."""

    def __init__(self, breaker: CircuitBreaker, trial: bool, generation: int) -> None:
        self._breaker = breaker
        self.trial = trial
        self._generation = generation
        self._reported = False

    def success(self) -> None:
        self._report(self._breaker._succeeded)

    def failure(self, *, trip: bool = False) -> None:
        """The service failed this call; ``trip`` opens the breaker at once (a hang)."""
        self._report(lambda permit: self._breaker._failed(permit, trip))

    def release(self) -> None:
        """Neither: the call was cancelled, or the fault was ours (a bad request)."""
        self._report(self._breaker._released)

    def _report(self, outcome: Callable[[Permit], None]) -> None:
        if not self._reported:
            self._reported = True
            outcome(self)

    @property
    def current(self) -> bool:
        return self._generation == self._breaker._generation


class CircuitBreaker:
    """Counts consecutive failed calls; opens at ``threshold`` for ``cooldown`` seconds."""

    def __init__(self, threshold: int = 3, cooldown: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False
        self._generation = 0  # bumped whenever the breaker opens: older permits are stale

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return State.CLOSED
        if self._trial_running or self.retry_after() == 0:
            return State.HALF_OPEN
        return State.OPEN

    @property
    def trial_due(self) -> bool:
        """Open, cooled down, and no trial call in flight: the next call is the trial."""
        return self._opened_at is not None and not self._trial_running \
            and self.retry_after() == 0

    def retry_after(self) -> float:
        """Seconds until a trial call is allowed (0 when closed or due)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self.cooldown - self._clock())

    def allow(self) -> Permit | None:
        """A permit for one call, or None while open (or while the trial is in flight)."""
        if self._opened_at is None:
            return Permit(self, trial=False, generation=self._generation)
        if self._trial_running or self.retry_after() > 0:
            return None
        self._trial_running = True
        return Permit(self, trial=True, generation=self._generation)

    # -- outcomes, reported through permits

    def _succeeded(self, permit: Permit) -> None:
        if self._opened_at is not None and not (permit.trial and permit.current):
            return  # a straggler from before the breaker opened decides nothing
        self._failures = 0
        self._opened_at = None
        self._trial_running = False

    def _failed(self, permit: Permit, trip: bool) -> None:
        if self._opened_at is not None and not (permit.trial and permit.current):
            return
        self._failures += 1
        if permit.trial or trip or self._failures >= self.threshold:
            self._open()

    def _released(self, permit: Permit) -> None:
        if permit.trial and permit.current:
            self._trial_running = False

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._trial_running = False
        self._generation += 1
