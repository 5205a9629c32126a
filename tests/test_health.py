"""Liveness and readiness over HTTP: /livez answers while the loop turns; /healthz names
what is wrong — the database (503, not ready), a platform whose calls fail, an outbox
falling behind, dead rows (200 "degraded": every replica shares those) — against the
failing Slack stand-in, on a fake clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.core.clock import FakeClock
from bot.demo.standins import slack_requests as sr
from bot.demo.standins.bot_connector import BotConnector
from bot.demo.standins.harness import Server
from bot.demo.standins.serving import START
from store.db import make_engine
from tests.adapters.teams.test_teams_capture import seed
from tests.adapters.teams.test_teams_reliability import flag_for_product, offline

CUSTOMERS = "C0CUSTOMERS"
REFUND = "Please refund the invoice, you charged me twice."  # billing


async def get(server: Server, path: str) -> tuple[int, Any]:
    assert server.http is not None
    async with server.http.get(server.url + path) as resp:
        if resp.content_type == "application/json":
            return resp.status, await resp.json()
        return resp.status, await resp.text()


async def flag(server: Server) -> None:
    ts = server.slack.add_message(CUSTOMERS, REFUND, user="U0SAM")
    request = sr.event_reaction_added(
        "T0001", "U0ANN", "mega", CUSTOMERS, ts, "U0SAM", server.now_ts()
    )
    assert (await server.send(request)).status == 200


async def test_livez_and_a_healthy_report(db_url: str) -> None:
    async with Server(db_url) as server:
        assert await get(server, "/livez") == (200, "ok")
        status, before = await get(server, "/healthz")
        assert status == 200 and before["status"] == "ok"
        assert before["platforms"]["slack"]["status"] == "unknown"  # no call made yet
        await flag(server)
        await server.settle()
        status, report = await get(server, "/healthz")
    assert status == 200
    assert report["status"] == "ok" and "problems" not in report
    assert report["database"] == {"status": "ok"}
    assert report["platforms"]["slack"]["status"] == "ok"
    assert report["outbox"] == {"oldest_pending_seconds": None, "dead": 0}
    assert report["inbox"] == {"oldest_pending_seconds": None, "dead": 0}
    assert report["scheduler"] == "off"


async def test_slack_failing_is_degraded_then_recovers(db_url: str) -> None:
    clock = FakeClock(START)
    async with Server(db_url, clock=clock, run_worker=False) as server:
        worker = server.runtime.worker
        server.slack.fail_next("chat.postMessage", status=503, times=10_000)
        await flag(server)
        await worker.run_inbox()
        await worker.run_outbox()
        status, report = await get(server, "/healthz")
        assert status == 200  # still ready: events are stored while Slack is down
        assert report["status"] == "degraded"
        slack = report["platforms"]["slack"]
        assert slack["status"] == "failing" and slack["error"] == "HTTP 503"
        assert slack["since"] == START.isoformat() and slack["method"] == "chat.postMessage"

        clock.advance(timedelta(minutes=10))
        await worker.run_outbox()
        status, report = await get(server, "/healthz")
        assert status == 200 and report["status"] == "degraded"
        assert report["platforms"]["slack"]["since"] == START.isoformat()  # since the first
        assert report["outbox"]["oldest_pending_seconds"] == 600
        assert "the oldest unsent outbox row is 600s old" in report["problems"]

        server.slack.clear_faults()
        clock.advance(timedelta(minutes=10))
        await server.settle()
        status, report = await get(server, "/healthz")
    assert status == 200 and report["status"] == "ok"
    assert report["platforms"]["slack"]["status"] == "ok"
    assert report["outbox"]["oldest_pending_seconds"] is None


async def test_a_refusal_is_not_an_outage_but_a_dead_row_is_named(db_url: str) -> None:
    """Slack answering `channel_not_found` works: the platform is ok; the card that can
    never be posted is a dead row, which the report names with the command to see it."""
    async with Server(db_url, run_worker=False) as server:
        server.slack.fail_next("chat.postMessage", error="channel_not_found", times=10)
        await flag(server)
        await server.settle()
        status, report = await get(server, "/healthz")
    assert status == 200 and report["status"] == "degraded"
    assert report["platforms"]["slack"]["status"] == "ok"
    assert report["outbox"]["dead"] >= 1
    assert any("dead outbox row(s): `crosstalk queue list --dead`" in p for p in report["problems"])


async def test_the_database_down_is_not_ready(db_url: str) -> None:
    async with Server(db_url) as server:
        db = server.runtime.db
        up = db.engine
        db.engine = make_engine("postgresql://nobody@127.0.0.1:9/gone")
        try:
            status, report = await get(server, "/healthz")
            assert await get(server, "/livez") == (200, "ok")  # alive, only not ready
        finally:
            db.engine.dispose()
            db.engine = up
    assert status == 503
    assert report["status"] == "unhealthy"
    assert report["database"] == {"status": "down", "error": "OperationalError"}
    assert report["problems"] == ["database unreachable (OperationalError)"]


async def test_teams_failing_is_degraded_and_counted(db_url: str) -> None:
    """The Bot Connector answering 502 to every new thread: Teams is failing since the first
    refusal (named with its method), /metrics counts the errors, and Slack is unaffected."""
    async with BotConnector() as connector:
        seed(connector)
        server, clock = offline(db_url, connector)
        async with server:
            connector.fail_next("create", 502, times=50)
            await flag_for_product(server, connector)
            clock.advance(timedelta(minutes=1))
            status, report = await get(server, "/healthz")
            _, metrics = await get(server, "/metrics")
    assert status == 200 and report["status"] == "degraded"
    teams = report["platforms"]["teams"]
    assert (teams["status"], teams["error"], teams["method"]) == ("failing", "HTTP 502", "post")
    assert teams["since"] == START.isoformat()
    assert f"teams failing since {START.isoformat()} (HTTP 502)" in report["problems"]
    assert report["platforms"]["slack"]["status"] in ("ok", "unknown")
    assert 'crosstalk_platform_api_errors_total{method="post",platform="teams"} 1.0' in metrics
