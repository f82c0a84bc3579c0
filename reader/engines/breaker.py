"""A circuit breaker: after consecutive failures, stop calling a service for a cool-down.

An outage then costs a few failed requests, not one per sentence: while the breaker is open
``check()`` fails at once, and the fallback engine speaks. When the cool-down has passed one
trial request goes through (half-open); its success closes the breaker, its failure opens it
for another cool-down.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class State(StrEnum):
    CLOSED = "closed"  # calls go through
    OPEN = "open"  # calls fail at once until the cool-down ends
    HALF_OPEN = "half-open"  # one trial call is in flight


class CircuitBreaker:
    """Counts consecutive failures; opens at ``threshold`` for ``cooldown`` seconds."""

    def __init__(self, threshold: int = 3, cooldown: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return State.CLOSED
        if self._trial_running or self.retry_after() == 0:
            return State.HALF_OPEN
        return State.OPEN

    def retry_after(self) -> float:
        """Seconds until a trial call is allowed (0 when closed or due)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self.cooldown - self._clock())

    def allow(self) -> bool:
        """May a call go through now? Claims the single trial slot when half-open."""
        if self._opened_at is None:
            return True
        if self._trial_running or self.retry_after() > 0:
            return False
        self._trial_running = True
        return True

    def success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_running = False

    def failure(self) -> None:
        self._failures += 1
        if self._trial_running or self._failures >= self.threshold:
            self._opened_at = self._clock()
        self._trial_running = False

    def release(self) -> None:
        """A call ended with neither success nor failure of the service (cancelled, or the
        caller's own error): free the trial slot without changing the state."""
        self._trial_running = False
