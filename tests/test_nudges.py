"""SLA nudges (SPEC "Weekly digest and nudges"), end to end over HTTP: a card with no
response gets one reminder in its thread at its team's SLA, counted in the team's business
hours, and one escalation to the managers at twice the SLA; never repeated, and not at all
once someone answers, the team passes it on, or the flag is resolved.

`T` is Friday 2026-11-20 17:00 in London (UTC in November). Billing's SLA is 4 h over
Mon-Fri 09:00-17:30: a card posted at T is due on Monday at 12:30, escalated at 16:30.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.core.clock import FakeClock
from bot.demo.org import ORG_TOML
from bot.demo.standins.harness import Server
from bot.handlers import nudge
from store.models import OutboxMessage
from tests.fakes.core_loop import (
    T,
    all_text,
    broadcast_in,
    card,
    cards_in,
    click,
    fields,
    flag_by_reaction,
    reply,
    thread,
)

REFUND = "Please refund the invoice"  # billing only
MONDAY = datetime(2026, 11, 23, tzinfo=UTC)
FRIDAY = datetime.fromtimestamp(T, UTC)


def at(hour: int, minute: int = 0, second: int = 0, day: datetime = MONDAY) -> datetime:
    return day + timedelta(hours=hour, minutes=minute, seconds=second)


def due(server: Server, clock: FakeClock, now: datetime) -> list[str]:
    clock.set(now)
    run = server.runtime
    return nudge.run_due(engine=run.engine, org=run.org, clock=clock)


def reminders(server: Server, channel: str = "C0BILLING") -> list[str]:
    root = card(server.slack, channel)["ts"]
    return [m["text"] for m in thread(server.slack, channel, root)]


async def test_one_reminder_at_the_sla_and_one_escalation_at_twice(db_url: str) -> None:
    clock = FakeClock(FRIDAY)
    async with Server(db_url, clock=clock) as server:
        await flag_by_reaction(server, REFUND, flagged_at=T - 60, card_at=T)
        bid = broadcast_in(server, "C0BILLING").id

        # Four wall-clock hours later it is Friday night: outside business hours.
        assert due(server, clock, FRIDAY + timedelta(hours=4)) == []
        assert due(server, clock, at(12, 29, 59)) == []
        assert due(server, clock, at(12, 30)) == [f"nudge:{bid}"]
        await server.settle()
        assert reminders(server) == [
            "⏰ No first response yet: 4h of Billing's business hours have passed, and the SLA"
            " is 4h. Reply in this thread with your team's interpretation, or press “Not for"
            " us” if it belongs elsewhere."
        ]
        assert due(server, clock, at(12, 31)) == []

        assert due(server, clock, at(16, 29, 59)) == []
        assert due(server, clock, at(16, 30)) == [f"escalation:{bid}:U0MGR"]
        await server.settle()
        (opened,) = server.slack.calls_to("conversations.open")
        assert opened.args["users"] == "U0MGR"
        (escalation,) = [m for m in server.slack.posted() if "⏫" in all_text(m)]
        assert escalation["blocks"][0]["text"]["text"] == (
            "⏫ Billing has not answered a flagged conversation"
        )
        facts = fields(escalation)
        assert facts["Waiting"] == "8h of business hours (SLA 4h)"
        assert facts["Card"].startswith("<https://acme.slack.com/archives/C0BILLING/p")
        assert facts["Flagged by"] == "<@U0ANN>"

        # Never repeated, however long it waits.
        for later in (
            at(17),
            at(12, day=MONDAY + timedelta(days=1)),
            at(9, day=MONDAY + timedelta(days=7)),
        ):
            assert due(server, clock, later) == []
        await server.settle()
        assert len(reminders(server)) == 1
        assert len([m for m in server.slack.posted() if "⏫" in all_text(m)]) == 1


async def test_an_answered_card_is_never_nudged(db_url: str) -> None:
    clock = FakeClock(FRIDAY)
    async with Server(db_url, clock=clock) as server:
        await flag_by_reaction(server, REFUND, flagged_at=T - 60, card_at=T)
        billing = card(server.slack, "C0BILLING")
        await server.send(reply("C0BILLING", billing["ts"], "U0BOB", "On it.", T + 600))
        await server.settle()
        assert due(server, clock, at(17)) == []
        assert reminders(server) == []


async def test_a_reminder_queued_just_before_an_answer_is_not_sent(db_url: str) -> None:
    clock = FakeClock(FRIDAY)
    async with Server(db_url, clock=clock, run_worker=False) as server:
        await flag_by_reaction(server, REFUND, flagged_at=T - 60, card_at=T)
        billing = card(server.slack, "C0BILLING")
        bid = broadcast_in(server, "C0BILLING").id
        assert due(server, clock, at(12, 30)) == [f"nudge:{bid}"]
        # The answer lands before the worker gets to the reminder.
        await server.send(
            reply("C0BILLING", billing["ts"], "U0BOB", "Refunded.", at(12, 30, 5).timestamp())
        )
        await server.settle()
        (row,) = server.query(select(OutboxMessage).where(OutboxMessage.kind == "nudge"))
        assert row.status == "skipped"
        assert reminders(server) == []
        assert due(server, clock, at(17)) == []  # and no escalation either


async def test_passed_on_and_resolved_flags_are_not_nudged(db_url: str) -> None:
    clock = FakeClock(FRIDAY)
    async with Server(db_url, clock=clock) as server:
        await flag_by_reaction(server, "I was charged twice and now the app is broken")
        await server.send(
            click(server, card(server.slack, "C0BILLING"), "U0BOB", "ct_not_for_us", T + 60)
        )
        await server.send(click(server, card(server.slack, "C0ENG"), "U0EVE", "ct_resolve", T + 90))
        await server.settle()
        assert due(server, clock, at(9, day=MONDAY + timedelta(days=2))) == []


async def test_escalations_go_to_the_managers_channel_when_there_is_one(db_url: str) -> None:
    toml = ORG_TOML + '\n[digest]\nmanagers_channel = "C0LEADERS"\n'
    clock = FakeClock(FRIDAY)
    async with Server(db_url, clock=clock, config_toml=toml) as server:
        server.slack.add_channel("C0LEADERS", "leaders")
        await flag_by_reaction(server, REFUND, flagged_at=T - 60, card_at=T)
        bid = broadcast_in(server, "C0BILLING").id
        # First seen after twice the SLA (say the server was down): both, once each.
        assert due(server, clock, at(17)) == [f"nudge:{bid}", f"escalation:{bid}"]
        await server.settle()
        (posted,) = cards_in(server.slack, "C0LEADERS")
        assert "Billing has not answered" in all_text(posted)
        assert len(reminders(server)) == 1
        assert server.slack.calls_to("conversations.open") == []


async def test_business_hours_follow_new_york_across_the_november_switch(db_url: str) -> None:
    """Product (Mon-Fri 09:00-17:00 America/New_York) with a 2 h SLA: a card posted on
    Friday 30 October at 16:00 EDT has one business hour left that day; the other is on
    Monday 2 November, after the clocks went back, so it is due at 10:00 EST = 15:00 UTC."""
    toml = ORG_TOML.replace(
        'sla = "1d"\ntimezone = "America/New_York"', 'sla = "2h"\ntimezone = "America/New_York"'
    )
    posted = datetime(2026, 10, 30, 20, tzinfo=UTC)  # 16:00 EDT
    monday = datetime(2026, 11, 2, tzinfo=UTC)
    clock = FakeClock(posted)
    async with Server(db_url, clock=clock, config_toml=toml) as server:
        t = posted.timestamp()
        await flag_by_reaction(
            server, "the dashboard export fails", said_at=t - 120, flagged_at=t - 60, card_at=t
        )
        bid = broadcast_in(server, "C0PRODUCT").id
        assert due(server, clock, at(14, 59, 59, day=monday)) == []
        assert due(server, clock, at(15, day=monday)) == [f"nudge:{bid}"]
        assert due(server, clock, at(16, 59, 59, day=monday)) == []
        assert due(server, clock, at(17, day=monday)) == [f"escalation:{bid}:U0MGR"]
        await server.settle()
        (text,) = reminders(server, "C0PRODUCT")
        assert text.startswith("⏰ No first response yet: 4h of Product's business hours")
