"""One producer's bytes, delivered to any number of listeners as they arrive.

Used for single-flight streaming: the first request for an uncached clip starts one
synthesis; every request for the same clip, then or while it runs, listens to the same
broadcast and gets identical bytes from the start. The producer runs in its own task, so a
listener that goes away (a closed browser tab) cancels nothing for the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Generic, TypeVar

T = TypeVar("T")


class Broadcast(Generic[T]):
    """Chunks published once, read by many; ends with a result or an error."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._changed = asyncio.Event()
        self._done = False
        self._result: T | None = None
        self._error: BaseException | None = None
        self.listeners = 0  # how many are reading the bytes as they come
        self.source = ""  # who is producing the bytes now (an engine name), for headers
        self.fallback = False  # whether that producer is a fallback (responses say so)

    @property
    def started(self) -> bool:
        """Have any bytes gone out? After that, the producer cannot start over."""
        return bool(self._chunks)

    @property
    def done(self) -> bool:
        return self._done

    @property
    def settled(self) -> T | None:
        """The result, if the producer has already finished well (else None): a listener
        that finds the whole clip there can answer with it whole, not as a stream."""
        return self._result if self._done and self._error is None else None

    def publish(self, chunk: bytes) -> None:
        if chunk:
            self._chunks.append(chunk)
            self._wake()

    def retract(self) -> None:
        """Forget the bytes so far: only while nobody has been reading them."""
        if self.listeners:
            raise RuntimeError("cannot retract bytes that listeners may have read")
        self._chunks.clear()

    def finish(self, result: T) -> None:
        self._result = result
        self._done = True
        self._wake()

    def fail(self, error: BaseException) -> None:
        self._error = error
        self._done = True
        self._wake()

    async def listen(self) -> AsyncGenerator[bytes, None]:
        """Every chunk from the first, as they come; raises the producer's error at the end."""
        self.listeners += 1
        try:
            index = 0
            while True:
                changed = self._changed
                while index < len(self._chunks):
                    yield self._chunks[index]
                    index += 1
                if self._done:
                    if self._error is not None:
                        raise self._error
                    return
                await changed.wait()
        finally:
            self.listeners -= 1

    async def result(self) -> T:
        """Wait for the end; the result, or the producer's error."""
        while not self._done:
            await self._changed.wait()
        if self._error is not None:
            raise self._error
        assert self._result is not None  # finish() always sets it
        return self._result

    def _wake(self) -> None:
        # A fresh event per change: waiters of the old one wake, later waits block again.
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
