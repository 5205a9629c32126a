"""Everything a running Crosstalk needs, built once from settings and config."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.core.clock import Clock, SystemClock
from bot.core.events import Event, checked
from bot.dispatch import Answer, handle_event
from bot.handlers.context import Gateways, OrgContext
from bot.inbox import Intake, ThreadIndex
from bot.outbox.worker import LEASE, Worker
from config.schema import CrosstalkConfig
from config.settings import Settings
from store import broadcasts
from store.db import Database, is_up_to_date, make_engine, session_scope, upgrade
from store.models import InboxEvent
from store.orgs import OrgIds, sync_org
from store.queue import finish_many, release

log = logging.getLogger("crosstalk")
T = TypeVar("T")


class StoreNotReady(Exception):
    pass


@dataclass
class Runtime:
    settings: Settings
    config: CrosstalkConfig
    db: Database
    org: OrgContext
    gateways: Gateways
    clock: Clock
    worker: Worker
    intake: Intake
    threads: ThreadIndex

    @property
    def engine(self) -> Engine:
        return self.db.engine

    async def query(self, fn: Callable[[Session], T]) -> T:
        """A read a request needs (what a form shows): one transaction, off the event loop."""
        return await self.db.run(fn, read_only=True)

    async def submit(self, dedupe_key: str, event: Event) -> bool:
        """Store an inbound event (durably, before the platform gets its answer) for the
        worker; False when it cannot matter (a reply outside every card's thread) or its
        key was seen before (a redelivery)."""
        checked(event)  # Malformed: a payload of the wrong shape, never stored
        if not await self.threads.matters(event):
            return False
        if await self.intake.add(dedupe_key, event) is None:
            log.info("duplicate event %s ignored", dedupe_key)
            return False
        return True

    async def handle_now(self, dedupe_key: str, event: Event) -> Answer | None:
        """Store an event and handle it inside the request (a button whose presser must be
        told the result); None when its key was seen before. The row is stored leased to
        this request, so no worker takes it meanwhile, and is left for the worker to retry
        when handling fails."""
        checked(event)
        owner = self.worker.owner
        inbox_id = await self.intake.add(dedupe_key, event, leased_to=owner, lease=LEASE)
        if inbox_id is None:
            return None
        try:
            answer = await handle_event(
                event, db=self.db, org=self.org, gateways=self.gateways, clock=self.clock
            )
        except Exception as exc:
            log.warning("event %s failed in its request, left for retry: %r", dedupe_key, exc)
            at, error = self.clock.now(), repr(exc)
            await self.db.run(
                lambda s: release(s, InboxEvent, inbox_id, owner=owner, at=at, error=error)
            )
            self.worker.wake("inbox")
            return Answer()
        now = self.clock.now()
        await self.db.run(lambda s: finish_many(s, InboxEvent, [inbox_id], owner=owner, now=now))
        self.worker.wake("outbox")
        return answer


def prepare_store(settings: Settings) -> Engine:
    """An engine on an up-to-date schema: a SQLite file is migrated in place; PostgreSQL,
    shared by replicas, is migrated on purpose with `crosstalk db upgrade`."""
    engine = make_engine(settings.database_url)
    if engine.dialect.name == "sqlite":
        upgrade(engine)
    elif not is_up_to_date(engine):
        raise StoreNotReady(
            "the database schema is not up to date: run `crosstalk db upgrade` first"
        )
    return engine


def _sync_org(engine: Engine, config: CrosstalkConfig) -> OrgIds:
    """Replicas starting together may race to create the org's rows: the loser of a unique
    key retries once and finds them."""
    for attempt in range(3):
        try:
            with session_scope(engine) as session:
                return sync_org(session, config)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _card_channels(engine: Engine, config: CrosstalkConfig, ids: OrgIds) -> set[tuple[str, str]]:
    """Where cards are posted: the teams' channels now, and wherever one ever was."""
    configured = {("slack", t.slack_channel) for t in config.teams if t.slack_channel}
    configured |= {("teams", t.teams_channel) for t in config.teams if t.teams_channel}
    with session_scope(engine) as session:
        return configured | broadcasts.card_channels(session=session, org_id=ids.org_id)


def build_runtime(
    settings: Settings,
    config: CrosstalkConfig,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    gateways: Gateways | None = None,
) -> Runtime:
    engine = engine or prepare_store(settings)
    ids = _sync_org(engine, config)
    clock = clock or SystemClock()
    gateways = gateways or Gateways()
    db = Database(engine)
    threads = ThreadIndex(
        db=db, org_id=ids.org_id, clock=clock, channels=_card_channels(engine, config, ids)
    )
    holder: list[Worker] = []
    org = OrgContext(
        config=config,
        ids=ids,
        wake_outbox=lambda: holder[0].wake("outbox") if holder else None,
        threads=threads,
    )
    worker = Worker(db=db, org=org, gateways=gateways, clock=clock)
    holder.append(worker)
    intake = Intake(db=db, org_id=ids.org_id, clock=clock, stored=lambda: worker.wake("inbox"))
    return Runtime(
        settings=settings,
        config=config,
        db=db,
        org=org,
        gateways=gateways,
        clock=clock,
        worker=worker,
        intake=intake,
        threads=threads,
    )
