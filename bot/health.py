"""Liveness and readiness (GET /livez, GET /healthz), and the recorder each platform
gateway reports its API calls to.

`/livez` says the process is up and its event loop turns: restart it when that fails.
`/healthz` says whether this replica can do its work, with the reasons: 503 when the
database is unreachable (nothing can be stored, so nothing should be sent here); 200 with
`"status": "degraded"` when a platform's API fails, the outbox falls behind, rows are dead
or a scheduled job fails. Those are shared by every replica: taking them all out of the
load balancer would stop intake too, while events are stored and sent once the platform
is back. The problems are named in `problems` for the operator (and an alert on
/metrics).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import text
from sqlmodel import Session

from bot.core.clock import Clock
from bot.core.refs import Platform
from bot.handlers.context import Gateways
from store.db import Database
from store.metrics import QueueAges, queue_ages

DB_TIMEOUT = 2.0  # s for the readiness probe's SELECT 1
OUTBOX_LATE = timedelta(minutes=5)  # an unsent row older than this makes the replica degraded

OK, REFUSED, FAILED = "ok", "refused", "failed"


@dataclass
class MethodCalls:
    calls: int = 0
    errors: int = 0
    rate_limited: int = 0


@dataclass(frozen=True)
class Failing:
    since: datetime  # the first failure of this method's current run of failures
    last: datetime
    error: str  # the error's class (an exception type, an HTTP status, a platform code)
    method: str


@dataclass
class ApiCalls:
    """What one platform's API calls did in this process: counts per method (for
    /metrics) and whether the platform answers (for /healthz). A call the platform
    answered with a refusal of that request (`refused`: not in channel, message gone) is
    an error but says the platform works; `failed` (unreachable, 5xx, 429, a bad token)
    says it does not.

    Failures are kept per method (posts may fail while reads work) until that method
    works again; one that is not tried again is forgotten FORGET after its last
    occurrence if the platform answered other calls since."""

    platform: str
    clock: Clock
    methods: dict[str, MethodCalls] = field(default_factory=dict)
    last_call: datetime | None = None
    last_ok: datetime | None = None
    failures: dict[str, Failing] = field(default_factory=dict)

    FORGET = timedelta(minutes=15)

    def record(
        self, method: str, outcome: str, error: str = "", *, rate_limited: bool = False
    ) -> None:
        counts = self.methods.setdefault(method, MethodCalls())
        counts.calls += 1
        counts.errors += outcome != OK
        counts.rate_limited += rate_limited
        now = self.last_call = self.clock.now()
        if outcome != FAILED:
            self.last_ok = now
            self.failures.pop(method, None)
            return
        before = self.failures.get(method)
        self.failures[method] = Failing(before.since if before else now, now, error, method)

    @property
    def failing(self) -> Failing | None:
        """The longest-running failure still in force, or None."""
        now = self.clock.now()
        for method, f in list(self.failures.items()):
            if self.last_ok is not None and self.last_ok > f.last and now - f.last > self.FORGET:
                del self.failures[method]
        return min(self.failures.values(), key=lambda f: f.since, default=None)

    def report(self) -> dict[str, Any]:
        if self.last_call is None:
            return {"status": "unknown", "detail": "no call made yet"}
        failing = self.failing
        if failing is None:
            return {"status": "ok", "last_call": self.last_call.isoformat()}
        return {
            "status": "failing",
            "since": failing.since.isoformat(),
            "error": failing.error,
            "method": failing.method,
            "failing_methods": sorted(self.failures),
            "last_call": self.last_call.isoformat(),
        }


def api_calls(gateways: Gateways) -> list[ApiCalls]:
    """The recorder of every platform gateway that is switched on and keeps one."""
    found = []
    for platform in Platform:
        if gateways.has(platform):
            calls = getattr(gateways.get(platform), "calls", None)
            if isinstance(calls, ApiCalls):
                found.append(calls)
    return found


async def livez(request: web.Request) -> web.Response:
    """Answered on the loop itself: an answer means the loop turns."""
    return web.Response(text="ok")


def _database_ok(session: Session) -> None:
    session.execute(text("SELECT 1"))


def _error_class(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
    return type(cause).__name__ if not isinstance(exc, TimeoutError) else "timeout"


@dataclass(frozen=True)
class HealthSources:
    """What the readiness report reads: `scheduler` gives the scheduler's status (None
    when this process runs none)."""

    org_name: str
    org_id: int
    db: Database
    gateways: Gateways
    clock: Clock
    scheduler: Callable[[], dict[str, Any] | None]


async def readiness(src: HealthSources) -> tuple[int, dict[str, Any]]:
    report: dict[str, Any] = {"status": "ok", "org": src.org_name}
    try:
        await asyncio.wait_for(src.db.run(_database_ok, read_only=True), DB_TIMEOUT)
        now = src.clock.now()
        ages: QueueAges = await asyncio.wait_for(
            src.db.run(lambda s: queue_ages(session=s, org_id=src.org_id, now=now), read_only=True),
            DB_TIMEOUT,
        )
    except Exception as exc:  # the answer is the report: which part failed, and how
        report.update(status="unhealthy", database={"status": "down", "error": _error_class(exc)})
        report["problems"] = [f"database unreachable ({_error_class(exc)})"]
        return 503, report
    report["database"] = {"status": "ok"}
    problems: list[str] = []
    platforms: dict[str, Any] = {}
    for calls in api_calls(src.gateways):
        platforms[calls.platform] = calls.report()
        f = calls.failing
        if f is not None:
            problems.append(f"{calls.platform} failing since {f.since.isoformat()} ({f.error})")
    report["platforms"] = platforms
    scheduler = src.scheduler()
    report["scheduler"] = scheduler if scheduler is not None else "off"
    for job, error in (scheduler or {}).get("errors", {}).items():
        problems.append(f"scheduled job {job} failing ({error})")
    report["outbox"] = {
        "oldest_pending_seconds": ages.outbox_oldest_pending,
        "dead": ages.outbox_dead,
    }
    report["inbox"] = {"oldest_pending_seconds": ages.inbox_oldest_pending, "dead": ages.inbox_dead}
    late = ages.outbox_oldest_pending
    if late is not None and late > OUTBOX_LATE.total_seconds():
        problems.append(f"the oldest unsent outbox row is {late:.0f}s old")
    for queue, dead in (("outbox", ages.outbox_dead), ("inbox", ages.inbox_dead)):
        if dead:
            problems.append(f"{dead} dead {queue} row(s): `crosstalk queue list --dead`")
    if problems:
        report.update(status="degraded", problems=problems)
    return 200, report


def healthz(src: HealthSources) -> Callable[[web.Request], Any]:
    async def handle(request: web.Request) -> web.Response:
        status, report = await readiness(src)
        return web.json_response(report, status=status)

    return handle
