"""GET /metrics: Prometheus text, read from the database at scrape time so every replica
reports the same queue depths and no counter lives in process memory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from store.models import Broadcast, Flag, InboxEvent, Interpretation, OutboxMessage


class StoreCollector(Collector):
    def __init__(self, engine: Engine, org_id: int) -> None:
        self.engine = engine
        self.org_id = org_id

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with Session(self.engine) as session:
            for name, model in (("inbox", InboxEvent), ("outbox", OutboxMessage)):
                family = GaugeMetricFamily(
                    f"crosstalk_{name}_rows", f"{name} rows by status", labels=["status"]
                )
                stmt = (
                    select(col(model.status), func.count())
                    .where(col(model.org_id) == self.org_id)
                    .group_by(col(model.status))
                )
                for status, count in session.exec(stmt).all():
                    family.add_metric([status], count)
                yield family
            counted: tuple[tuple[str, type[Flag | Broadcast | Interpretation]], ...] = (
                ("flags", Flag),
                ("broadcasts", Broadcast),
                ("interpretations", Interpretation),
            )
            for label, table in counted:
                total = session.exec(
                    select(func.count()).select_from(table).where(col(table.org_id) == self.org_id)
                ).one()
                family = GaugeMetricFamily(f"crosstalk_{label}", f"{label} stored")
                family.add_metric([], total)
                yield family


def metrics_handler(
    engine: Engine, org_id: int
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    registry = CollectorRegistry(auto_describe=True)
    registry.register(StoreCollector(engine, org_id))

    async def handle(request: web.Request) -> web.StreamResponse:
        body = generate_latest(registry)
        return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4"})

    return handle
