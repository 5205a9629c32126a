"""Outages of any length lose nothing: an acknowledged event and a queued card are retried
with capped back-off for hours, and go through once the platform is back; what stops for
good is listed by `crosstalk queue list --dead` and sent again by `crosstalk queue retry`.
Slack Connect events, whose envelope names the other organisation, are taken in; and an
outage of `auth.test` does not drop the events it spans. All over HTTP, on a fake clock."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.cli import main
from bot.demo.standins import slack_requests as sr
from bot.demo.standins.harness import Server
from store.models import Flag, InboxEvent, OutboxMessage

CUSTOMERS = "C0CUSTOMERS"
REFUND = "Please refund the invoice, you charged me twice."  # billing


def reaction(server: Server, ts: str, team: str = "T0001") -> sr.SignedRequest:
    return sr.event_reaction_added(team, "U0ANN", "mega", CUSTOMERS, ts, "U0SAM", server.now_ts())


def cards(server: Server, channel: str) -> list[dict[str, object]]:
    return [m for m in server.slack.posted(channel) if m.get("thread_ts") in (None, m["ts"])]


async def hours_pass(server: Server, hours: int) -> None:
    """Let the worker retry through `hours` of fake time, ten minutes at a time."""
    for _ in range(hours * 6):
        server.runtime.clock.advance(timedelta(minutes=10))  # type: ignore[attr-defined]
        await server.settle()


async def test_a_flag_survives_five_hours_of_slack_errors(db_url: str) -> None:
    async with Server(db_url, run_worker=False) as server:
        ts = server.slack.add_message(CUSTOMERS, REFUND, user="U0SAM")
        server.slack.fail_next("conversations.history", status=500, times=10_000)
        assert (await server.send(reaction(server, ts))).status == 200
        await hours_pass(server, 5)
        (event,) = server.query(select(InboxEvent))
        assert event.status == "pending" and event.attempts >= 20  # capped back-off: 10 min
        assert server.query(select(Flag)) == []

        server.slack.clear_faults()
        await hours_pass(server, 1)
        assert len(server.query(select(Flag))) == 1
        assert len(cards(server, "C0BILLING")) == 1


async def test_a_card_survives_five_hours_of_rate_limits_and_is_posted_once(db_url: str) -> None:
    async with Server(db_url, run_worker=False) as server:
        ts = server.slack.add_message(CUSTOMERS, REFUND, user="U0SAM")
        server.slack.fail_next("chat.postMessage", status=429, retry_after=60, times=10_000)
        assert (await server.send(reaction(server, ts))).status == 200
        await hours_pass(server, 5)
        card_rows = server.query(select(OutboxMessage).where(OutboxMessage.kind == "card_post"))
        assert [r.status for r in card_rows] == ["pending"] and card_rows[0].attempts >= 20
        server.slack.clear_faults()
        await hours_pass(server, 1)
        assert len(cards(server, "C0BILLING")) == 1


async def test_while_auth_test_fails_events_are_still_stored(db_url: str) -> None:
    async with Server(db_url, run_worker=False) as server:
        ts = server.slack.add_message(CUSTOMERS, REFUND, user="U0SAM")
        server.slack.fail_next("auth.test", status=500, times=10_000)
        assert (await server.send(reaction(server, ts))).status == 200
        await server.settle()
        assert len(server.query(select(Flag))) == 1


async def test_a_slack_connect_event_from_the_other_org_s_envelope_is_taken_in(
    db_url: str,
) -> None:
    async with Server(db_url, run_worker=False) as server:
        ts = server.slack.add_message("C0SHARED", REFUND, user="U0SAM")
        request = sr.event_reaction_added(
            "T0CUSTOMER", "U0ANN", "mega", "C0SHARED", ts, "U0SAM", server.now_ts()
        )
        body = json.loads(request.body)
        body["authorizations"][0]["team_id"] = "T0001"  # the installation that receives it
        raw = json.dumps(body).encode()
        timestamp = int(server.runtime.clock.now().timestamp())
        signed = sr.SignedRequest(raw, sr.sign(sr.DEFAULT_SIGNING_SECRET, raw, timestamp))
        assert (await server.send(signed)).status == 200
        await server.settle()
        assert len(server.query(select(Flag))) == 1


async def test_a_row_that_stopped_is_listed_and_sent_again(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CROSSTALK_DATABASE_URL", db_url)
    async with Server(db_url, run_worker=False) as server:
        clock = server.runtime.clock
        ts = server.slack.add_message(CUSTOMERS, REFUND, user="U0SAM")
        # A refusal no retry can mend: the card's row stops, loudly.
        server.slack.fail_next("chat.postMessage", error="not_in_channel", times=1)
        assert (await server.send(reaction(server, ts))).status == 200
        await server.settle()
        (dead,) = server.query(select(OutboxMessage).where(OutboxMessage.status == "dead"))

        assert main(["queue", "list", "--dead"], clock=clock) == 0
        listed = capsys.readouterr().out
        assert f"outbox:{dead.id}" in listed and "not_in_channel" in listed
        assert main(["queue", "retry", "outbox:x"], clock=clock) == 2
        assert "is not inbox:ID or outbox:ID" in capsys.readouterr().err

        assert main(["queue", "retry", f"outbox:{dead.id}"], clock=clock) == 0
        assert "1 dead row(s) queued again" in capsys.readouterr().out
        await server.settle()
        assert len(cards(server, "C0BILLING")) == 1
        assert main(["queue", "list", "--dead", "--json"], clock=clock) == 0
        assert capsys.readouterr().out == ""


async def test_handled_events_go_after_the_retention_and_the_rest_stays(db_url: str) -> None:
    """[retention] inbox_days (default 7): a handled event's payload (the customer's words
    as Slack sent them) is deleted by the hourly job; pending and dead rows stay."""
    from bot.scheduler import Scheduler

    async with Server(db_url, run_worker=False) as server:
        ts = server.slack.add_message(CUSTOMERS, REFUND, user="U0SAM")
        assert (await server.send(reaction(server, ts))).status == 200
        await server.settle()
        server.slack.fail_next("conversations.history", status=500, times=10_000)
        later = server.slack.add_message(CUSTOMERS, "The export is broken", user="U0SAM")
        assert (await server.send(reaction(server, later))).status == 200
        await server.settle()
        scheduler = Scheduler(server.runtime)
        server.runtime.clock.advance(timedelta(days=6))  # type: ignore[attr-defined]
        assert await scheduler.run("prune_inbox") == 0
        server.runtime.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
        assert await scheduler.run("prune_inbox") == 1
        (kept,) = server.query(select(InboxEvent))
        assert kept.status == "pending"
        assert len(server.query(select(Flag))) == 1  # what the event made stays


async def test_a_flag_on_a_thread_reply_waits_out_an_outage(db_url: str) -> None:
    """A reply is read with conversations.replies: its 5xx keeps the event, never drops it."""
    async with Server(db_url, run_worker=False) as server:
        root = server.slack.add_message(CUSTOMERS, "Hello", user="U0SAM")
        reply = server.slack.add_message(CUSTOMERS, REFUND, user="U0SAM", thread_ts=root)
        server.slack.fail_next("conversations.replies", status=503, times=10_000)
        assert (await server.send(reaction(server, reply))).status == 200
        await hours_pass(server, 1)
        (event,) = server.query(select(InboxEvent))
        assert event.status == "pending" and server.query(select(Flag)) == []
        server.slack.clear_faults()
        await hours_pass(server, 1)
        (flag,) = server.query(select(Flag))
        assert flag.message_id == reply
