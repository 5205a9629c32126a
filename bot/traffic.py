"""Acknowledge first, work after (STYLE rule 5), on one event loop.

The request handlers and the worker share the server's event loop, and the worker's
steps (a flag, a card) hold it for milliseconds at a time. While platform requests keep
arriving, each worker step first waits for a quiet moment, so acks are not queued behind
background work (Slack retries an event it has no answer to within 3 s). A step never
waits longer than `patience` (after the previous step), so a steady stream of requests
slows the queues down but cannot stop them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

QUIET = 0.005  # seconds without a request that count as a pause in the traffic
PATIENCE = 1.0  # longest wait for a pause before a worker step goes ahead anyway


class Traffic:
    def __init__(self, *, quiet: float = QUIET, patience: float = PATIENCE) -> None:
        self.quiet = quiet
        self.patience = patience
        self.in_flight = 0
        self._last_request = float("-inf")
        self._last_step = float("-inf")
        self._turns = asyncio.Lock()

    @contextmanager
    def request(self) -> Iterator[None]:
        """Around the handling of one inbound platform request."""
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1
            self._last_request = asyncio.get_running_loop().time()

    async def turn(self) -> None:
        """Before one worker step: return at the next pause in the traffic, or once
        `patience` has passed since this call or the last step, whichever is later.
        Waiters queue on a lock, so only one of them polls however many are waiting."""
        loop = asyncio.get_running_loop()
        called = loop.time()
        async with self._turns:
            deadline = max(called, self._last_step) + self.patience
            while True:
                now = loop.time()
                idle = now - self._last_request
                if (self.in_flight == 0 and idle >= self.quiet) or now >= deadline:
                    break
                pause = self.quiet if self.in_flight else self.quiet - idle
                await asyncio.sleep(min(pause, deadline - now))
            self._last_step = loop.time()
