"""The outbound CRM webhook, end to end: the real server flags a message (over signed Slack
requests) and records outcomes (over POST /api/outcomes); a local receiver checks every
signature and counts deliveries by their id. Time is a FakeClock wherever a retry has
to wait, so the tests move time instead of sleeping."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
import logging
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot.core.clock import FakeClock
from bot.demo.org import ORG_TOML
from bot.demo.standins import slack_requests as sr
from bot.demo.standins.crm import FakeCrm
from bot.demo.standins.harness import Server
from bot.handlers.webhook import retry_after
from store.models import Flag, OutboxMessage

SECRET = "whsec-7f3a9c1e5b"
CUSTOMERS = "C0CUSTOMERS"
TEXT = "You charged me twice, refund the invoice please. Mail me at jo@globex.com"


def config(url: str) -> str:
    return ORG_TOML + f'crm_webhook_url = "{url}"\n'  # ORG_TOML ends in its [api] table


def crm_server(db_url: str, crm: FakeCrm, *, secret: str = SECRET) -> Server:
    """A server on the receiver's clock (the receiver checks the signed timestamp's age)."""
    return Server(
        db_url,
        config_toml=config(crm.url),
        env={"CROSSTALK_CRM_WEBHOOK_SECRET": secret},
        clock=crm.clock,
        run_worker=False,
    )


async def flag_message(server: Server) -> Flag:
    ts = server.slack.add_message(CUSTOMERS, TEXT, user="U0SAM")
    reaction = sr.event_reaction_added(
        "T0001", "U0ANN", "mega", CUSTOMERS, ts, "U0SAM", server.slack.next_ts()
    )
    assert (await server.send(reaction)).status == 200
    await server.settle()
    (flag,) = server.query(select(Flag).where(Flag.message_id == ts))
    return flag


async def post_outcome(server: Server, body: dict[str, Any]) -> dict[str, Any]:
    assert server.http is not None
    headers = {"Authorization": "Bearer test-token"}
    async with server.http.post(server.url + "/api/outcomes", json=body, headers=headers) as resp:
        assert resp.status == 201, await resp.text()
        data: dict[str, Any] = await resp.json()
        return data


def webhooks(server: Server) -> list[OutboxMessage]:
    return server.query(
        select(OutboxMessage)
        .where(OutboxMessage.kind == "crm_webhook")
        .order_by(col(OutboxMessage.id))
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_new_flag_and_its_outcome_reach_the_crm_signed(db_url: str) -> None:
    async with FakeCrm(SECRET) as crm, crm_server(db_url, crm) as server:
        flag = await flag_message(server)
        key = f"webhook:flag:{flag.id}"
        assert list(crm.deliveries) == [key]
        (got,) = crm.received
        assert (got.status, got.event, got.delivery) == (202, "flag.created", key)
        # The signature is HMAC-SHA256 over "<timestamp>.<body>", checked here as well.
        assert got.timestamp == str(int(server.clock.now().timestamp()))
        mac = hmac.new(SECRET.encode(), f"{got.timestamp}.".encode() + got.body, hashlib.sha256)
        assert got.signature == "sha256=" + mac.hexdigest()
        assert crm.accepted[key] == {
            "event": "flag.created",
            "delivery_id": key,
            "org": "Acme",
            "flag": {
                "id": flag.id,
                "platform": "slack",
                "permalink": server.slack.permalink(CUSTOMERS, flag.message_id),
                "excerpt": "You charged me twice, refund the invoice please. Mail me at [email]",
                "customer": None,
                "crm_ref": None,
                "sentiment": flag.sentiment,
                "sentiment_score": flag.sentiment_score,
                "topics": ["billing"],
                "teams": ["billing"],
                "status": "open",
                "flagged_at": flag.flagged_at.isoformat().replace("+00:00", "Z"),
            },
        }

        outcome = await post_outcome(
            server, {"crm_ref": None, "flag_id": flag.id, "kind": "retained", "amount": 4800}
        )
        await server.settle()
        okey = f"webhook:outcome:{outcome['id']}"
        assert list(crm.deliveries) == [key, okey]
        sent = crm.accepted[okey]
        assert sent["event"] == "outcome.recorded" and crm.received[1].event == "outcome.recorded"
        assert sent["outcome"] == {
            "id": outcome["id"],
            "flag_id": flag.id,
            "kind": "retained",
            "amount": 4800.0,
            "currency": "USD",
            "crm_ref": None,
            "note": None,
            "source": "api",
            "created_at": outcome["created_at"],
        }
        assert sent["flag"]["status"] == "resolved"  # composed at send time
        rows = webhooks(server)
        assert [(r.dedupe_key, r.status, r.attempts, r.result_id) for r in rows] == [
            (key, "done", 1, "HTTP 202"),
            (okey, "done", 1, "HTTP 202"),
        ]


async def test_a_receiver_that_rejects_the_signature_gets_no_retries(db_url: str) -> None:
    async with FakeCrm("another-secret") as crm, crm_server(db_url, crm) as server:
        await flag_message(server)
        (row,) = webhooks(server)
        assert (row.status, row.attempts) == ("dead", 1)  # a 4xx other than 429 is final
        assert "HTTP 401" in (row.last_error or "")
        assert [r.status for r in crm.received] == [401] and not crm.deliveries


async def test_a_server_error_is_retried_and_delivered_exactly_once(db_url: str) -> None:
    async with FakeCrm(SECRET) as crm, crm_server(db_url, crm) as server:
        clock = server.clock
        assert isinstance(clock, FakeClock)
        crm.fail_next(2, status=500)
        flag = await flag_message(server)
        (row,) = webhooks(server)
        assert (row.status, row.attempts) == ("pending", 1)
        assert "HTTP 500" in (row.last_error or "")
        for attempt in (2, 3):
            clock.set(row.next_attempt_at)
            await server.settle()
            (row,) = webhooks(server)
            assert row.attempts == attempt
        key = f"webhook:flag:{flag.id}"
        assert [(r.delivery, r.status) for r in crm.received] == [
            (key, 500),
            (key, 500),
            (key, 202),
        ]
        assert crm.deliveries == {key: 1} and not crm.duplicates
        assert row.status == "done"
        clock.advance(timedelta(hours=1))
        await server.settle()
        assert len(crm.received) == 3  # nothing more is ever sent for it


async def test_too_many_requests_waits_for_retry_after(db_url: str) -> None:
    async with FakeCrm(SECRET) as crm, crm_server(db_url, crm) as server:
        clock = server.clock
        assert isinstance(clock, FakeClock)
        crm.fail_next(status=429, retry_after="30")
        await flag_message(server)
        failed_at = clock.now()
        (row,) = webhooks(server)
        wait = (row.next_attempt_at - failed_at).total_seconds()
        assert 30 <= wait <= 30.5, wait
        clock.advance(timedelta(seconds=29))
        await server.settle()
        assert len(crm.received) == 1  # not before Retry-After
        clock.set(row.next_attempt_at)
        await server.settle()
        assert [r.status for r in crm.received] == [429, 202]
        assert webhooks(server)[0].status == "done"


async def test_an_unreachable_receiver_is_retried_until_it_is_back(db_url: str) -> None:
    port = free_port()
    crm = FakeCrm(SECRET, port=port)
    async with crm_server(db_url, crm) as server:
        clock = server.clock
        assert isinstance(clock, FakeClock)
        flag = await flag_message(server)  # nobody listens on that port yet
        (row,) = webhooks(server)
        assert (row.status, row.attempts) == ("pending", 1)
        assert "unreachable" in (row.last_error or "")
        clock.set(row.next_attempt_at)
        await server.settle()
        assert webhooks(server)[0].attempts == 2
        async with crm:
            clock.set(webhooks(server)[0].next_attempt_at)
            await server.settle()
            assert crm.deliveries == {f"webhook:flag:{flag.id}": 1}
            (row,) = webhooks(server)
            assert (row.status, row.attempts) == ("done", 3)


async def test_a_timed_out_delivery_is_resent_with_the_same_id(db_url: str) -> None:
    """The receiver took the first request but answered too late: the retry carries the
    same delivery id, so the receiver keeps one delivery and answers the repeat."""
    async with FakeCrm(SECRET) as crm, crm_server(db_url, crm) as server:
        clock = server.clock
        assert isinstance(clock, FakeClock)
        gateways = server.runtime.gateways
        assert gateways.webhook is not None
        gateways.webhook = dataclasses.replace(gateways.webhook, timeout=0.2)
        crm.answer_after(0.5)
        flag = await flag_message(server)
        (row,) = webhooks(server)
        assert (row.status, row.ambiguous) == ("pending", True)
        assert "timed out" in (row.last_error or "")
        key = f"webhook:flag:{flag.id}"
        for _ in range(100):  # the receiver finishes the first request on its own time
            if crm.deliveries:
                break
            await asyncio.sleep(0.01)
        crm.answer_after(0)
        clock.set(row.next_attempt_at)
        await server.settle()
        assert [r.delivery for r in crm.received] == [key, key]
        assert crm.deliveries == {key: 1} and crm.duplicates == {key: 1}
        assert webhooks(server)[0].status == "done"


async def test_without_a_secret_the_webhook_is_off_and_says_so_once(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with FakeCrm(SECRET) as crm, crm_server(db_url, crm, secret="") as server:
        flag = await flag_message(server)
        await post_outcome(server, {"flag_id": flag.id, "kind": "upsell", "amount": 10})
        await server.settle()
        assert webhooks(server) == [] and crm.received == []
    warnings = [r for r in caplog.records if "CRM webhook is off" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING


def test_retry_after_reads_seconds_and_dates_and_caps_them() -> None:
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert retry_after("7", now) == 7.0
    assert retry_after("Fri, 20 Nov 2026 12:01:30 GMT", now) == 90.0
    assert retry_after("Fri, 20 Nov 2026 11:00:00 GMT", now) == 0.0
    assert retry_after("99999999", now) == 3600.0
    assert retry_after("soon", now) is None and retry_after(None, now) is None
    assert retry_after("nan", now) is None


def test_the_signature_covers_timestamp_and_body() -> None:
    from bot.handlers.webhook import sign

    body = json.dumps({"event": "flag.created"}).encode()
    one = sign(b"k", "1700000000", body)
    assert one.startswith("sha256=") and len(one) == 7 + 64
    assert sign(b"k", "1700000001", body) != one
    assert sign(b"k", "1700000000", body + b" ") != one
    assert sign(b"other", "1700000000", body) != one
