"""The way in: inbound events are stored before the platform gets its answer.

`Intake` writes them in group commits: while one transaction is being written, the events
of the requests that arrive meanwhile wait for the next, so a burst of N requests costs a
few commits instead of N (on SQLite, one writer thread does every write).

`ThreadIndex` knows which threads are Crosstalk's (the threads of the cards it posted),
so the thread replies of a whole workspace (every channel the bot is in sends them) are
dropped before they are stored, unless they answer a card.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta

from bot.core.clock import Clock
from bot.core.events import Event, IncomingMessage, event_kind, to_json
from store import broadcasts
from store.db import Database
from store.queue import InboxRow, add_inbox_many

log = logging.getLogger("crosstalk.inbox")
# A "not ours" answer is asked again after this: a card another replica posted a moment
# ago is recorded within milliseconds of its post (this replica adds its own at once), and
# a person's first reply comes seconds later; a wrong "no" would not outlive this.
FORGET_UNKNOWN = timedelta(seconds=10)


class Intake:
    def __init__(
        self, *, db: Database, org_id: int, clock: Clock, stored: Callable[[], None]
    ) -> None:
        self.db = db
        self.org_id = org_id
        self.clock = clock
        self.stored = stored  # called once new rows are committed (wakes the worker)
        self._waiting: list[tuple[InboxRow, asyncio.Future[int | None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def add(
        self,
        dedupe_key: str,
        event: Event,
        *,
        leased_to: str | None = None,
        lease: timedelta = timedelta(0),
    ) -> int | None:
        """Store one event durably (already leased to `leased_to`, for a request that
        handles it itself); its new id, or None when the key was seen before."""
        row = InboxRow(
            org_id=self.org_id,
            dedupe_key=dedupe_key,
            kind=event_kind(event),
            payload=to_json(event),
            now=self.clock.now(),
            leased_to=leased_to,
            lease=lease,
        )
        done: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        return await done

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            rows = [row for row, _ in batch]
            try:
                ids = await self._insert(rows)
            except Exception:  # one bad row must not fail the others: each on its own
                await self._one_by_one(batch)
                continue
            for (_, done), new_id in zip(batch, ids, strict=True):
                if not done.done():
                    done.set_result(new_id)
            if any(i is not None for i in ids):
                self.stored()

    async def _insert(self, rows: list[InboxRow]) -> list[int | None]:
        return await self.db.run(lambda s: add_inbox_many(s, rows))

    async def _one_by_one(self, batch: list[tuple[InboxRow, asyncio.Future[int | None]]]) -> None:
        """Each request answers for itself: stored, or its error (a 500: Slack resends)."""
        stored = False
        for row, done in batch:
            try:
                (new_id,) = await self._insert([row])
            except Exception as exc:
                if not done.done():
                    done.set_exception(exc)
                continue
            stored = stored or new_id is not None
            if not done.done():
                done.set_result(new_id)
        if stored:
            self.stored()


class ThreadIndex:
    """Bounded memory of "is this thread one of our cards?", filled by the posts this
    process makes and, on a miss, by one indexed read (off the event loop). A "no" is
    forgotten after ten seconds, so a card another replica posts a moment later is found."""

    def __init__(
        self,
        *,
        db: Database,
        org_id: int,
        clock: Clock,
        channels: set[tuple[str, str]] | None = None,
        size: int = 50_000,
    ) -> None:
        self.db = db
        self.org_id = org_id
        self.clock = clock
        self.size = size
        # Where cards are posted (the teams' channels, and any channel a card was ever
        # posted in): a reply anywhere else is not in a card's thread, no lookup needed.
        self.channels: set[tuple[str, str]] = set(channels or ())
        self._known: OrderedDict[tuple[str, str, str], bool] = OrderedDict()
        self._unknown_until: dict[tuple[str, str, str], float] = {}

    def add(self, platform: str, channel_id: str, message_id: str) -> None:
        self.channels.add((platform, channel_id))
        self._remember((platform, channel_id, message_id), True)

    def _remember(self, key: tuple[str, str, str], ours: bool) -> None:
        self._known[key] = ours
        self._known.move_to_end(key)
        while len(self._known) > self.size:
            old, _ = self._known.popitem(last=False)
            self._unknown_until.pop(old, None)
        if not ours:
            self._unknown_until[key] = (self.clock.now() + FORGET_UNKNOWN).timestamp()

    async def owns(self, platform: str, channel_id: str, thread_id: str) -> bool:
        if (platform, channel_id) not in self.channels:
            return False
        key = (platform, channel_id, thread_id)
        ours = self._known.get(key)
        if ours is True or (
            ours is False and self.clock.now().timestamp() < self._unknown_until.get(key, 0.0)
        ):
            self._known.move_to_end(key)
            return ours

        found = await self.db.run(
            lambda s: broadcasts.is_card_thread(
                session=s,
                org_id=self.org_id,
                platform=platform,
                channel_id=channel_id,
                message_id=thread_id,
            ),
            read_only=True,
        )
        self._remember(key, found)
        return found

    async def matters(self, event: Event) -> bool:
        """Whether an event can change anything: a message counts only in a card's thread
        (an interpretation, or an edit or deletion of one)."""
        if not isinstance(event, IncomingMessage):
            return True
        message = event.message
        if not message.thread_id or message.thread_id == message.id:
            return False
        return await self.owns(message.platform.value, message.channel.id, message.thread_id)
