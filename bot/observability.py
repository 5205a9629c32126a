"""GET /metrics: Prometheus text, read from the database at scrape time (off the event
loop) so every replica reports the same queue depths and no counter lives in memory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from store.db import Database
from store.metrics import Snapshot, snapshot


class StoreCollector(Collector):
    def __init__(self) -> None:
        self.latest = Snapshot()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, by_status in self.latest.queues.items():
            family = GaugeMetricFamily(
                f"crosstalk_{name}_rows", f"{name} rows by status", labels=["status"]
            )
            for status, count in sorted(by_status.items()):
                family.add_metric([status], count)
            yield family
        for label, total in self.latest.totals.items():
            family = GaugeMetricFamily(f"crosstalk_{label}", f"{label} stored")
            family.add_metric([], total)
            yield family


def metrics_handler(
    db: Database, org_id: int
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    registry = CollectorRegistry(auto_describe=True)
    collector = StoreCollector()
    registry.register(collector)

    async def handle(request: web.Request) -> web.StreamResponse:
        collector.latest = await db.run(
            lambda s: snapshot(session=s, org_id=org_id), read_only=True
        )
        body = generate_latest(registry)
        return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4"})

    return handle
