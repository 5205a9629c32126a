"""The background loops that work through the inbox and the outbox.

Every replica may run them; rows are leased in the database, so each is handled by one
process at a time, and a row whose process died is picked up again when its lease ends.
A sweep claims a batch in one statement and works on it concurrently, except that rows of
one subject (one message, one card, one flag's notice) keep their order. Every query runs
off the event loop (`store.db.Database`), and every retry time is read from the injected
clock, so tests move time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bot.core.clock import Clock
from bot.core.events import event_from_json
from bot.core.gateway import GatewayError
from bot.dispatch import handle_event, order_key
from bot.handlers.context import Gateways, OrgContext
from bot.outbox.base import SKIP
from bot.outbox.deliver import DELIVERERS, order_keys, subject_of
from store.db import Database
from store.models import InboxEvent, OutboxMessage
from store.queue import (
    claim,
    finish,
    finish_many,
    next_due,
    release_many,
    renew,
    renew_many,
    retry_later,
)

log = logging.getLogger("crosstalk.worker")
LEASE = timedelta(seconds=120)
# An acknowledged event or a queued side effect survives an outage of any length: it is
# retried with capped back-off for as long as it fails for a reason that may pass (a
# platform's 5xx or 429, a network error, the database itself). Only what can never work
# (the platform refused it for good, a payload no version can read) stops, and a stopped
# row is an alarm: an ERROR line, crosstalk_*_rows{status="dead"} in /metrics, and
# `crosstalk queue list --dead` / `crosstalk queue retry` to see it and send it again.
LOUD_AFTER = 6  # attempts after which every further failure is logged as an ERROR
MAX_BACKOFF = 600.0
BATCH = 32  # rows claimed at once, worked on side by side (one subject's in order)
MIN_WAIT = 0.02
R = TypeVar("R", InboxEvent, OutboxMessage)


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Exponential back-off with jitter, never sooner than the platform's Retry-After."""
    base = min(MAX_BACKOFF, 2.0 ** max(0, attempts - 1))
    delay = base * random.uniform(0.8, 1.2)
    return max(delay, retry_after or 0.0)


Failed = datetime | None  # when a row that failed is due again; None: it went through


async def _in_order(
    groups: dict[str, list[R]],
    work: Callable[[R], Awaitable[Failed]],
    renew: Callable[[R], Awaitable[bool]],
    hold_back: Callable[[list[R], datetime], Awaitable[None]],
    subject: Callable[[R], str],
) -> None:
    """Each group's rows one after another, the groups side by side. A row that waited
    behind others has its lease renewed first; one whose lease was lost is left alone.
    When a row fails, the later rows of its subject are held back until it is due again,
    so a reply's edit never overtakes the reply, nor a card's update its post."""

    async def one_group(rows: list[R]) -> None:
        waiting = list(rows)
        first = True
        while waiting:
            row = waiting.pop(0)
            if not first and not await renew(row):
                continue
            first = False
            failed = await work(row)
            if failed is None:
                continue
            held = [r for r in waiting if subject(r) == subject(row)]
            if held:
                waiting = [r for r in waiting if subject(r) != subject(row)]
                await hold_back(held, failed)

    await asyncio.gather(*(one_group(rows) for rows in groups.values()))


class Worker:
    def __init__(
        self, *, db: Database, org: OrgContext, gateways: Gateways, clock: Clock, poll: float = 1.0
    ) -> None:
        self.db = db
        self.org = org
        self.gateways = gateways
        self.clock = clock
        self.poll = poll
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = {"inbox": asyncio.Event(), "outbox": asyncio.Event()}
        self._locks = {"inbox": asyncio.Lock(), "outbox": asyncio.Lock()}
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ waking

    def wake(self, queue: str = "outbox") -> None:
        """New work is committed: safe to call from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake[queue].set()
        else:
            loop.call_soon_threadsafe(self._wake[queue].set)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run request follow-up work (a /roi answer) after the request was answered; it is
        tracked so shutdown and tests can wait for it."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ inbox

    async def run_inbox(self) -> int:
        """Handle due inbox events until none is due; how many were tried."""
        done = 0
        async with self._locks["inbox"]:
            while rows := await self._claim(InboxEvent):
                await self._inbox_batch(rows)
                done += len(rows)
        return done

    async def _inbox_batch(self, rows: list[InboxEvent]) -> None:
        groups: dict[str, list[InboxEvent]] = {}
        events: dict[int | None, Any] = {}
        for row in rows:
            try:
                event = event_from_json(row.payload)
            except Exception as exc:  # stored by an older version, or damaged
                await self._inbox_failed(row, exc, dead=True)
                continue
            events[row.id] = event
            groups.setdefault(order_key(event), []).append(row)
        handled: list[int] = []

        async def one(row: InboxEvent) -> Failed:
            failed = await self._handle(row, events[row.id])
            if failed is None:
                handled.append(row.id or 0)
            return failed

        keys = {row.id: key for key, members in groups.items() for row in members}
        async with self._holding(InboxEvent, rows):
            await _in_order(groups, one, self._renew, self._hold_back, lambda r: keys.get(r.id, ""))
        now = self.clock.now()
        await self.db.run(lambda s: finish_many(s, InboxEvent, handled, owner=self.owner, now=now))
        self.wake("outbox")

    async def _handle(self, row: InboxEvent, event: Any) -> Failed:
        try:
            await handle_event(
                event, db=self.db, org=self.org, gateways=self.gateways, clock=self.clock
            )
        except Exception as exc:  # a handler bug or a platform outage: keep the event, retry
            retryable = not isinstance(exc, GatewayError) or exc.retryable
            return await self._inbox_failed(row, exc, dead=not retryable)
        return None

    async def _inbox_failed(self, row: InboxEvent, exc: Exception, *, dead: bool) -> datetime:
        loud = dead or row.attempts >= LOUD_AFTER
        (log.error if loud else log.warning)(
            "event %s (%s) failed on attempt %d: %r%s",
            row.id,
            row.kind,
            row.attempts,
            exc,
            " (given up: `crosstalk queue retry` sends it again)" if dead else "",
            exc_info=not isinstance(exc, GatewayError) and not loud,
        )
        at = self.clock.now() + timedelta(
            seconds=backoff(row.attempts, getattr(exc, "retry_after", None))
        )
        await self.db.run(
            lambda s: retry_later(s, row, owner=self.owner, at=at, error=repr(exc), dead=dead)
        )
        return at

    # ------------------------------------------------------------------ outbox

    async def run_outbox(self) -> int:
        """Deliver due outbox rows until none is due; how many were tried."""
        done = 0
        async with self._locks["outbox"]:
            while rows := await self._claim(OutboxMessage):
                keys = await self.db.run(lambda s: order_keys(s, rows), read_only=True)
                groups: dict[str, list[OutboxMessage]] = {}
                for row in rows:
                    groups.setdefault(keys[row.id or 0], []).append(row)
                async with self._holding(OutboxMessage, rows):
                    await _in_order(groups, self._deliver, self._renew, self._hold_back, subject_of)
                done += len(rows)
        return done

    async def _deliver(self, row: OutboxMessage) -> Failed:
        deliverer = DELIVERERS.get(row.kind)
        try:
            if deliverer is None:
                raise GatewayError(f"no deliverer for {row.kind!r}", retryable=False)
            result = await deliverer(row, self.db, self.org, self.gateways, self.clock)
        except GatewayError as exc:
            dead = not exc.retryable
            delay = backoff(row.attempts, exc.retry_after)
            loud = dead or row.attempts >= LOUD_AFTER
            (log.error if loud else log.info)(
                "outbox %s %s attempt %d failed: %s%s",
                row.id,
                row.kind,
                row.attempts,
                exc,
                " (given up: `crosstalk queue retry` sends it again)"
                if dead
                else f" (retry in {delay:.1f}s)",
            )
            return await self._outbox_retry(row, delay, str(exc), exc.ambiguous, dead)
        except Exception as exc:  # a bug or the database: kept, retried, and said loudly
            log.error("outbox %s %s crashed on attempt %d: %r", row.id, row.kind, row.attempts, exc)
            return await self._outbox_retry(row, backoff(row.attempts), repr(exc), True, False)
        now = self.clock.now()
        status, result_id = ("skipped", None) if result == SKIP else ("done", result)
        finished = await self.db.run(
            lambda s: finish(s, row, owner=self.owner, now=now, status=status, result_id=result_id)
        )
        if not finished:
            log.warning("outbox %s %s finished after its lease was lost", row.id, row.kind)
        return None

    async def _outbox_retry(
        self, row: OutboxMessage, delay: float, error: str, ambiguous: bool, dead: bool
    ) -> datetime:
        at = self.clock.now() + timedelta(seconds=delay)
        await self.db.run(
            lambda s: retry_later(
                s, row, owner=self.owner, at=at, error=error, ambiguous=ambiguous, dead=dead
            )
        )
        return at

    async def _hold_back(self, rows: list[R], at: datetime) -> None:
        """Hand rows back, due just after the row before them that failed."""
        model = type(rows[0])
        ids = [r.id or 0 for r in rows]
        await self.db.run(
            lambda s: release_many(s, model, ids, owner=self.owner, at=at, error="held back")
        )

    @contextlib.asynccontextmanager
    async def _holding(self, model: type[R], rows: list[R]) -> AsyncIterator[None]:
        """Renew the batch's leases every third of a lease while it is worked on, so a slow
        platform (a 30 s timeout, a marker search) never lets another replica take up a
        row this one still holds; done rows are no longer this owner's and are left."""
        ids = [r.id or 0 for r in rows]

        async def heartbeat() -> None:
            while True:
                await asyncio.sleep(LEASE.total_seconds() / 3)
                await self._renew_all(model, ids)

        beat = asyncio.create_task(heartbeat())
        try:
            yield
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat

    async def _renew_all(self, model: type[R], ids: list[int]) -> None:
        until = self.clock.now() + LEASE
        await self.db.run(lambda s: renew_many(s, model, ids, owner=self.owner, until=until))

    async def _renew(self, row: R) -> bool:
        now = self.clock.now()
        return await self.db.run(lambda s: renew(s, row, owner=self.owner, now=now, lease=LEASE))

    # ------------------------------------------------------------------ the loops

    async def _claim(self, model: type[R]) -> list[R]:
        now = self.clock.now()
        return await self.db.run(
            lambda s: claim(s, model, owner=self.owner, now=now, lease=LEASE, limit=BATCH)
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep both queues until `stop` is set: each woken on new work, when its next
        retry is due, else every `poll` s (for rows other replicas stored or left behind)."""
        self._loop = asyncio.get_running_loop()
        loops = [
            asyncio.create_task(self._sweep("inbox", self.run_inbox, InboxEvent, stop)),
            asyncio.create_task(self._sweep("outbox", self.run_outbox, OutboxMessage, stop)),
        ]
        try:
            await stop.wait()
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            self._loop = None

    async def _sweep(
        self,
        queue: str,
        sweep: Callable[[], Awaitable[int]],
        model: type[R],
        stop: asyncio.Event,
    ) -> None:
        wake = self._wake[queue]
        while not stop.is_set():
            wake.clear()
            try:
                await sweep()
            except Exception:
                log.exception("%s sweep failed; trying again", queue)
            timeout = await self.idle_wait(model)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=timeout)

    async def idle_wait(self, model: type[R]) -> float:
        """Seconds until the queue's earliest retry is due, at most `poll`."""
        try:
            now = self.clock.now()
            due = await self.db.run(lambda s: next_due(s, model, now=now), read_only=True)
        except Exception:
            log.exception("could not read the next due time")
            return self.poll
        if due is None:
            return self.poll
        return min(self.poll, max(MIN_WAIT, (due - now).total_seconds()))

    async def drain(self, wait: float = 10.0) -> None:
        """Finish in-flight follow-up work (tests, demo, shutdown)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=wait)
