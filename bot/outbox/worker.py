"""The background loop that works through the inbox and the outbox.

Every replica may run one; rows are leased in the database, so each is handled by one
process at a time, and a row whose process died is picked up again when its lease ends.
Rows are claimed one at a time: a lease covers the work on one row, never a batch whose
tail could outlive it and be taken up by a second replica while the first still works.
Every retry time is read from the injected clock, so tests move time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine

from bot.core.clock import Clock
from bot.core.events import event_from_json
from bot.core.gateway import GatewayError
from bot.dispatch import handle_event
from bot.handlers.context import Gateways, OrgContext
from bot.outbox.deliver import DELIVERERS, SKIP
from bot.traffic import Traffic
from store.db import session_scope
from store.models import InboxEvent, OutboxMessage
from store.queue import claim, finish, next_due, retry_later

log = logging.getLogger("crosstalk.worker")
LEASE = timedelta(seconds=120)
MAX_INBOX_ATTEMPTS = 6
MAX_OUTBOX_ATTEMPTS = {"crm_webhook": 60}
DEFAULT_MAX_OUTBOX_ATTEMPTS = 20
MAX_BACKOFF = 600.0
INBOX_BATCH = 20  # events per sweep before the outbox gets its turn
MIN_WAIT = 0.02


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Exponential back-off with jitter, never sooner than the platform's Retry-After."""
    base = min(MAX_BACKOFF, 2.0 ** max(0, attempts - 1))
    delay = base * random.uniform(0.8, 1.2)
    return max(delay, retry_after or 0.0)


class Worker:
    def __init__(
        self,
        *,
        engine: Engine,
        org: OrgContext,
        gateways: Gateways,
        clock: Clock,
        poll: float = 1.0,
    ) -> None:
        self.engine = engine
        self.org = org
        self.gateways = gateways
        self.clock = clock
        self.poll = poll
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.running = False
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._outbox_lock = asyncio.Lock()
        self.traffic = Traffic()  # inbound requests, which go first (bot/traffic.py)

    def wake(self) -> None:
        self._wake.set()

    def process_soon(self, inbox_id: int) -> None:
        """Work on a just-stored event right away, off the request that stored it. A worker
        that is not running leaves the stored row to whichever replica sweeps next."""
        if not self.running:
            return
        task = asyncio.get_running_loop().create_task(self._inbox_one(inbox_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run request follow-up work (a /roi answer) after the request was answered; it is
        tracked so shutdown and tests can wait for it."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _inbox_one(self, inbox_id: int) -> None:
        await self.run_inbox(only_id=inbox_id)
        await self.run_outbox()

    async def run_inbox(self, only_id: int | None = None) -> int:
        """Handle due inbox events (up to INBOX_BATCH); returns how many were tried."""
        done = 0
        while done < INBOX_BATCH:
            await self.traffic.turn()
            with session_scope(self.engine) as session:
                rows = claim(
                    session,
                    InboxEvent,
                    owner=self.owner,
                    now=self.clock.now(),
                    lease=LEASE,
                    limit=1,
                    only_id=only_id,
                )
            if not rows:
                break
            await self._handle_inbox(rows[0])
            done += 1
            if only_id is not None:
                break
        return done

    async def _handle_inbox(self, row: InboxEvent) -> None:
        try:
            event = event_from_json(row.payload)
            await handle_event(
                event, engine=self.engine, org=self.org, gateways=self.gateways, clock=self.clock
            )
        except Exception as exc:  # a handler bug or a platform outage: keep the event, retry
            dead = row.attempts >= MAX_INBOX_ATTEMPTS
            retryable = not isinstance(exc, GatewayError) or exc.retryable
            log.warning(
                "event %s (%s) failed on attempt %d: %r",
                row.id,
                row.kind,
                row.attempts,
                exc,
                exc_info=not isinstance(exc, GatewayError),
            )
            with session_scope(self.engine) as session:
                at = self.clock.now() + timedelta(
                    seconds=backoff(row.attempts, getattr(exc, "retry_after", None))
                )
                retry_later(
                    session,
                    row,
                    owner=self.owner,
                    at=at,
                    error=repr(exc),
                    dead=dead or not retryable,
                )
            return
        with session_scope(self.engine) as session:
            if not finish(session, row, owner=self.owner, now=self.clock.now()):
                log.warning("event %s finished after its lease was lost", row.id)

    async def run_outbox(self) -> int:
        """Deliver due outbox rows one at a time, in order; returns how many were tried."""
        done = 0
        async with self._outbox_lock:
            while True:
                await self.traffic.turn()
                with session_scope(self.engine) as session:
                    rows = claim(
                        session,
                        OutboxMessage,
                        owner=self.owner,
                        now=self.clock.now(),
                        lease=LEASE,
                        limit=1,
                    )
                if not rows:
                    return done
                await self._deliver(rows[0])
                done += 1

    async def _deliver(self, row: OutboxMessage) -> None:
        deliverer = DELIVERERS.get(row.kind)
        try:
            if deliverer is None:
                raise GatewayError(f"no deliverer for {row.kind!r}", retryable=False)
            result = await deliverer(row, self.engine, self.org, self.gateways, self.clock)
        except GatewayError as exc:
            limit = MAX_OUTBOX_ATTEMPTS.get(row.kind, DEFAULT_MAX_OUTBOX_ATTEMPTS)
            dead = not exc.retryable or row.attempts >= limit
            delay = backoff(row.attempts, exc.retry_after)
            (log.error if dead else log.info)(
                "outbox %s %s attempt %d failed: %s%s",
                row.id,
                row.kind,
                row.attempts,
                exc,
                " (giving up)" if dead else f" (retry in {delay:.1f}s)",
            )
            with session_scope(self.engine) as session:
                retry_later(
                    session,
                    row,
                    owner=self.owner,
                    at=self.clock.now() + timedelta(seconds=delay),
                    error=str(exc),
                    ambiguous=exc.ambiguous,
                    dead=dead,
                )
            return
        except Exception as exc:
            log.exception("outbox %s %s crashed", row.id, row.kind)
            with session_scope(self.engine) as session:
                retry_later(
                    session,
                    row,
                    owner=self.owner,
                    at=self.clock.now() + timedelta(seconds=backoff(row.attempts)),
                    error=repr(exc),
                    ambiguous=True,
                    dead=row.attempts >= DEFAULT_MAX_OUTBOX_ATTEMPTS,
                )
            return
        with session_scope(self.engine) as session:
            finished = finish(
                session,
                row,
                owner=self.owner,
                now=self.clock.now(),
                status="skipped" if result == SKIP else "done",
                result_id=None if result == SKIP else result,
            )
        if not finished:
            log.warning("outbox %s %s finished after its lease was lost", row.id, row.kind)

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep both queues until `stop` is set: woken on new work, when the next retry is
        due, else every `poll` s (for rows other replicas stored or left behind)."""
        self.running = True
        try:
            while not stop.is_set():
                handled = 0
                try:
                    handled = await self.run_inbox()
                    await self.run_outbox()
                except Exception:
                    log.exception("worker sweep failed; trying again")
                if handled >= INBOX_BATCH:
                    await asyncio.sleep(0)  # more events are waiting: sweep again now
                    continue
                self._wake.clear()
                waiters = [
                    asyncio.ensure_future(self._wake.wait()),
                    asyncio.ensure_future(stop.wait()),
                ]
                await asyncio.wait(
                    waiters, timeout=self._idle_wait(), return_when=asyncio.FIRST_COMPLETED
                )
                for w in waiters:
                    w.cancel()
        finally:
            self.running = False

    def _idle_wait(self) -> float:
        """Seconds until the earliest retry is due, at most `poll`."""
        try:
            now = self.clock.now()
            with session_scope(self.engine) as session:
                dues = [
                    next_due(session, InboxEvent, now=now),
                    next_due(session, OutboxMessage, now=now),
                ]
        except Exception:
            log.exception("could not read the next due time")
            return self.poll
        soonest = min((d for d in dues if d is not None), default=None)
        if soonest is None:
            return self.poll
        return min(self.poll, max(MIN_WAIT, (soonest - now).total_seconds()))

    async def drain(self, wait: float = 10.0) -> None:
        """Finish in-flight work (tests, demo, shutdown)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=wait)
