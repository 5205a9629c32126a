"""GET /metrics: Prometheus text for one app, in a registry of its own (several apps in one
process, as in the tests, never share a series).

Queue depths, ages and lags are read from the database at scrape time (off the event
loop), so every replica reports the same queues and no queue counter lives in memory.
What only this process knows is counted here: request latency per route (a middleware),
platform API calls, errors and 429s per method (from each gateway's `ApiCalls`), the
scheduler's last run per job, and the listening model's version. Process and platform
metrics come from prometheus-client's own collectors.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from bot.collectors import LAG_WINDOW, ProcessFacts, StoreCollector, set_listening_model
from bot.core.clock import Clock
from bot.handlers.context import Gateways
from bot.health import HealthSources, healthz, livez
from bot.listening.metrics import ListeningMetrics
from store.db import Database
from store.metrics import Lags, QueueAges, Snapshot, lags, queue_ages, snapshot

if TYPE_CHECKING:  # the listening feature imports set_listening_model from here
    from bot.runtime import Runtime

__all__ = ["Observability", "mount", "set_listening_model"]
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _route(request: web.Request) -> str:
    """The route's template (`/api/flags/{id}`), never the raw path: one series per
    endpoint, whatever is requested."""
    info = request.match_info
    if info.http_exception is not None or info.route.resource is None:
        return "unmatched"
    return info.route.resource.canonical


class Observability:
    """One app's metrics: `middleware` times every request, `handle` answers /metrics."""

    def __init__(
        self,
        *,
        db: Database,
        org_id: int,
        org: str,
        gateways: Gateways,
        clock: Clock,
        scheduler: Callable[[], dict[str, Any] | None],
    ) -> None:
        self.db = db
        self.org_id = org_id
        self.clock = clock
        self.registry = CollectorRegistry(auto_describe=True)
        self.store = StoreCollector()
        self.registry.register(self.store)
        self.registry.register(ProcessFacts(org, gateways, scheduler))
        self.listening = ListeningMetrics(org_id)  # scored, suggested, labels by source
        self.registry.register(self.listening)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.latency = Histogram(
            "crosstalk_http_request_duration_seconds",
            "HTTP request latency by route",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    @web.middleware
    async def middleware(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            self.latency.labels(_route(request), request.method, f"{status // 100}xx").observe(
                time.perf_counter() - started
            )

    def _read(self, session: Any) -> tuple[Snapshot, QueueAges, Lags]:
        now = self.clock.now()
        self.listening.read(session)
        return (
            snapshot(session=session, org_id=self.org_id),
            queue_ages(session=session, org_id=self.org_id, now=now),
            lags(session=session, org_id=self.org_id, now=now, window=LAG_WINDOW),
        )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        read = await self.db.run(self._read, read_only=True)
        self.store.latest, self.store.ages, self.store.lags = read
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4"})


def mount(
    app: web.Application, runtime: Runtime, scheduler: Callable[[], dict[str, Any] | None]
) -> Observability:
    """GET /livez, GET /healthz and GET /metrics, and the latency middleware. `scheduler`
    gives the scheduler's status, or None when this process runs none."""
    org = runtime.config.org.name
    obs = Observability(
        db=runtime.db,
        org_id=runtime.org.org_id,
        org=org,
        gateways=runtime.gateways,
        clock=runtime.clock,
        scheduler=scheduler,
    )
    app.middlewares.append(obs.middleware)
    sources = HealthSources(
        org_name=org,
        org_id=runtime.org.org_id,
        db=runtime.db,
        gateways=runtime.gateways,
        clock=runtime.clock,
        scheduler=scheduler,
    )
    app.router.add_get("/livez", livez)
    app.router.add_get("/healthz", healthz(sources))
    app.router.add_get("/metrics", obs.handle)
    return obs
