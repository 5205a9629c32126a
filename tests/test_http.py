"""The edges of POST /slack/events and GET /healthz, over real HTTP with signed requests:
nothing that fails the signature, is stale, malformed or from a workspace no org claims
leaves a row behind or reaches Slack."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from bot.core.clock import FakeClock
from bot.demo.standins import slack_requests as sr
from bot.demo.standins.harness import Server
from bot.demo.standins.serving import START
from bot.demo.standins.slack_requests import DEFAULT_SIGNING_SECRET, SignedRequest, sign
from store.db import make_engine
from store.models import Broadcast, Flag, InboxEvent, OutboxMessage

CUSTOMERS = "C0CUSTOMERS"


def counts(server: Server) -> dict[str, int]:
    return {
        model.__name__: server.query(select(func.count()).select_from(model))[0]
        for model in (InboxEvent, OutboxMessage, Flag, Broadcast)
    }


NOTHING = {"InboxEvent": 0, "OutboxMessage": 0, "Flag": 0, "Broadcast": 0}


def reaction(server: Server, *, team: str = "T0001", **signing: object) -> SignedRequest:
    ts = server.slack.add_message(CUSTOMERS, "Please refund the invoice", user="U0SAM")
    return sr.event_reaction_added(
        team, "U0ANN", "mega", CUSTOMERS, ts, "U0SAM", server.now_ts(), **signing
    )


def signed(body: bytes, content_type: str) -> SignedRequest:
    return SignedRequest(body, sign(DEFAULT_SIGNING_SECRET, body, content_type=content_type))


async def test_bad_signature_and_stale_timestamp_are_refused(db_url: str) -> None:
    async with Server(db_url) as server:
        wrong = await server.send(reaction(server, secret="not-the-secret"))
        assert wrong.status == 401
        now = int(server.clock.now().timestamp())
        stale = await server.send(reaction(server, timestamp=now - 5 * 60 - 10))
        assert stale.status == 401
        ahead = await server.send(reaction(server, timestamp=now + 5 * 60 + 10))
        assert ahead.status == 401
        # A valid request whose body was changed after signing.
        good = reaction(server)
        tampered = SignedRequest(good.body.replace(b"mega", b"eyes"), good.headers)
        assert (await server.send(tampered)).status == 401
        # Headers that are missing or not what Slack sends are refused, never a 500.
        for name, value in [
            ("X-Slack-Request-Timestamp", None),
            ("X-Slack-Signature", None),
            ("X-Slack-Request-Timestamp", "yesterday"),
            ("X-Slack-Signature", "v0=é"),
        ]:
            headers = {k: v for k, v in good.headers.items() if k != name}
            if value is not None:
                headers[name] = value
            assert (await server.send(SignedRequest(good.body, headers))).status == 401
        await server.settle()
        assert counts(server) == NOTHING
        assert not server.slack.calls


async def test_the_signing_time_is_checked_on_the_server_s_clock(db_url: str) -> None:
    """Five minutes either way of the server's now, whatever the date outside: a request
    signed on the server's calendar is taken, even days after the test was written."""
    clock = FakeClock(START)
    async with Server(db_url, clock=clock, run_worker=False) as server:
        now = int(clock.now().timestamp())
        assert (await server.send(reaction(server, timestamp=now - 4 * 60))).status == 200
        clock.advance(timedelta(days=40))
        late = reaction(server, timestamp=now)  # signed before the clock moved on
        assert (await server.send(late)).status == 401
        assert (await server.send(reaction(server))).status == 200  # signed at the new now
        assert counts(server)["InboxEvent"] == 2


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"type": "event_callback", "event": {', "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b"team_id=T0001&user_id=U0ANN", "application/x-www-form-urlencoded"),
        (b"payload=%7Bnot-json", "application/x-www-form-urlencoded"),
        (b"payload=\xff\xfe\xfd", "application/x-www-form-urlencoded"),
        (b'{"type": "url_verification", "challenge": "\xff"}', "application/json"),
        (b"", "application/json"),
    ],
    ids=[
        "broken-json",
        "json-array",
        "form-without-payload",
        "payload-not-json",
        "non-utf8-form",
        "non-utf8-json",
        "empty",
    ],
)
async def test_malformed_body_with_a_valid_signature_is_400(
    db_url: str, body: bytes, content_type: str
) -> None:
    async with Server(db_url) as server:
        assert server.http is not None
        request = signed(body, content_type)
        async with server.http.post(
            server.url + "/slack/events", data=request.body, headers=request.headers
        ) as resp:
            assert resp.status == 400
            assert resp.content_type == "application/json"
            assert (await resp.json())["error"]
        await server.settle()
        assert counts(server) == NOTHING
        assert not server.slack.calls


async def test_url_verification_answers_the_challenge(db_url: str) -> None:
    async with Server(db_url) as server:
        assert server.http is not None
        request = sr.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
        async with server.http.post(
            server.url + "/slack/events", data=request.body, headers=request.headers
        ) as resp:
            assert resp.status == 200
            assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in await resp.text()
        assert counts(server) == NOTHING


async def test_healthz_reports_the_database(db_url: str) -> None:
    async with Server(db_url) as server:
        assert server.http is not None
        async with server.http.get(server.url + "/healthz") as resp:
            assert resp.status == 200
            body = await resp.json()
        assert body["status"] == "ok" and body["org"] == "Acme"
        # With the database unreachable the answer says so instead of pretending.
        db = server.runtime.db
        up = db.engine
        db.engine = make_engine("postgresql://nobody@127.0.0.1:9/gone")
        try:
            async with server.http.get(server.url + "/healthz") as resp:
                assert resp.status == 503
                assert (await resp.json())["status"] == "unhealthy"
        finally:
            db.engine.dispose()
            db.engine = up


async def test_unclaimed_workspace_leaves_no_trace(db_url: str) -> None:
    async with Server(db_url) as server:
        ts = server.slack.add_message(CUSTOMERS, "I was charged twice, refund!", user="U0SAM")
        requests = [
            sr.event_reaction_added(
                "T0OTHER", "U0ANN", "mega", CUSTOMERS, ts, "U0SAM", server.now_ts()
            ),
            sr.event_app_mention("T0OTHER", CUSTOMERS, "U0ANN", "<@UBOT> flag", "2.0", ts),
            sr.event_message("T0OTHER", CUSTOMERS, "U0BOB", "we refund it", "3.0", ts),
            sr.block_action(
                "T0OTHER",
                "U0BOB",
                "C0BILLING",
                "4.0",
                "ct_ack",
                "1",
                sr.new_trigger_id(),
                server.slack.response_url("other"),
                "5.0",
            ),
        ]
        for request in requests:
            resp = await server.send(request)
            assert resp.status == 200
        await server.settle()
        assert counts(server) == NOTHING
        assert {c.method for c in server.slack.calls} <= {"auth.test"}
        assert not server.slack.responses["other"]
        # The same reaction from the claimed workspace is taken.
        resp = await server.send(
            sr.event_reaction_added(
                "T0001", "U0ANN", "mega", CUSTOMERS, ts, "U0SAM", server.now_ts()
            )
        )
        assert resp.status == 200
        await server.settle()
        assert counts(server)["Flag"] == 1
