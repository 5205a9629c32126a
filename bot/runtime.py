"""Everything a running Crosstalk needs, built once from settings and config."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.core.clock import Clock, SystemClock
from bot.core.events import Event, event_kind, to_json
from bot.handlers.context import Gateways, OrgContext
from bot.outbox.worker import Worker
from config.schema import CrosstalkConfig
from config.settings import Settings
from store.db import is_up_to_date, make_engine, session_scope, upgrade
from store.orgs import OrgIds, sync_org
from store.queue import add_inbox

log = logging.getLogger("crosstalk")


class StoreNotReady(Exception):
    pass


@dataclass
class Runtime:
    settings: Settings
    config: CrosstalkConfig
    engine: Engine
    org: OrgContext
    gateways: Gateways
    clock: Clock
    worker: Worker

    def submit(self, dedupe_key: str, event: Event) -> bool:
        """Store an inbound event (durably, before the platform gets its answer) and start
        working on it; False when the key was seen before (a redelivery). A bare connection,
        not an ORM session: this runs before every ack, and a session costs more than the
        INSERT."""
        with self.engine.begin() as conn:
            inbox_id = add_inbox(
                conn,
                org_id=self.org.org_id,
                dedupe_key=dedupe_key,
                kind=event_kind(event),
                payload=to_json(event),
                now=self.clock.now(),
            )
        if inbox_id is None:
            log.info("duplicate event %s ignored", dedupe_key)
            return False
        self.worker.process_soon(inbox_id)
        return True


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
    holder: list[Worker] = []
    org = OrgContext(
        config=config, ids=ids, wake_outbox=lambda: holder[0].wake() if holder else None
    )
    worker = Worker(engine=engine, org=org, gateways=gateways, clock=clock)
    holder.append(worker)
    return Runtime(
        settings=settings,
        config=config,
        engine=engine,
        org=org,
        gateways=gateways,
        clock=clock,
        worker=worker,
    )
