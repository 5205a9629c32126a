"""Nudges, escalations and weekly digests reach Teams channels and people, proactively,
through the stored conversation references (the digest's chart, an inline image, is
covered in test_teams_reliability). Fake clock: Friday 2026-11-20 17:00 London;
Engineering (SLA 4h, Mon-Fri 09:00-17:30) is due Monday 12:30, escalated at 16:30."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.core.clock import FakeClock
from bot.demo.standins import teams_activities as ta
from bot.demo.standins.bot_connector import BotConnector
from bot.handlers import nudge
from bot.handlers.digest import plan as digest
from store.models import Broadcast
from tests.adapters.teams.test_teams_capture import install, seed, teams_server

FRIDAY = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
MONDAY = datetime(2026, 11, 23, tzinfo=UTC)


def iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def flag_for_engineering(server: object, connector: BotConnector) -> None:
    submit = ta.flag_action(
        connector.service_url,
        "composeExtension/submitAction",
        ta.CUSTOMERS,
        ta.message_id(),
        "The app crashes when I open a report",
        user=ta.LIZ,
        author=ta.PIA,
        data={"teams": "engineering"},
    )
    submit["timestamp"] = iso(FRIDAY - timedelta(seconds=60))
    assert (await server.send_activity(submit))[0] == 200  # type: ignore[attr-defined]
    await server.settle()  # type: ignore[attr-defined]


async def test_a_teams_card_is_nudged_in_its_thread_then_escalated(db_url: str) -> None:
    clock = FakeClock(FRIDAY)
    async with BotConnector() as connector:
        seed(connector)
        async with teams_server(db_url, connector, clock=clock) as server:
            await install(server, connector)
            await flag_for_engineering(server, connector)
            [card] = connector.threads(ta.ENGINEERING)
            [b] = server.query(select(Broadcast))
            assert (b.platform, b.message_id) == ("teams", card.id)
            run = server.runtime

            clock.set(MONDAY + timedelta(hours=12, minutes=30))
            assert nudge.run_due(engine=run.engine, org=run.org, clock=clock) == [f"nudge:{b.id}"]
            await server.settle()
            [reminder] = connector.replies(ta.ENGINEERING, card.id)
            assert reminder.text.startswith("⏰ No first response yet")

            clock.set(MONDAY + timedelta(hours=16, minutes=30))
            assert sorted(nudge.run_due(engine=run.engine, org=run.org, clock=clock)) == sorted(
                [f"escalation:{b.id}:U0MGR", f"escalation:{b.id}:{ta.MGR}"]
            )
            await server.settle()
            [escalated] = connector.chat(ta.MGR)  # the Teams manager, in a 1:1 chat
            shown = json.dumps(escalated.card, ensure_ascii=False)
            assert "Engineering has not answered" in shown
            assert "<at>Liz Moreau</at>" in shown
            # The Slack manager's DM names the Teams flagger; no broken mention.
            [dm] = [m for m in server.slack.posted() if "has not answered" in str(m.get("blocks"))]
            assert ta.LIZ not in json.dumps(dm) and "Liz Moreau" in json.dumps(dm)


async def test_weekly_digests_are_posted_in_teams_channels(db_url: str) -> None:
    clock = FakeClock(FRIDAY)
    async with BotConnector() as connector:
        seed(connector)
        async with teams_server(db_url, connector, clock=clock) as server:
            await install(server, connector)
            await flag_for_engineering(server, connector)
            [card] = connector.threads(ta.ENGINEERING)
            reply = ta.channel_message(
                connector.service_url, ta.ENGINEERING, "Fixed in 4.2", user=ta.EVE, root=card.id
            )
            reply["timestamp"] = iso(FRIDAY + timedelta(minutes=10))
            await server.send_activity(reply)
            await server.settle()

            run = server.runtime
            clock.set(MONDAY + timedelta(hours=9))
            queued = digest.run_due(engine=run.engine, org=run.org, clock=clock).queued
            org_id = run.org.org_id
            # Engineering lives in both: its digest goes to each of its channels.
            assert f"digest:{org_id}:engineering:2026-W47:teams" in queued
            await server.settle()
            posted = [m for m in connector.threads(ta.ENGINEERING) if m.id != card.id]
            [weekly] = [m for m in posted if "Weekly digest" in json.dumps(m.card)]
            shown = json.dumps(weekly.card, ensure_ascii=False)
            assert "Engineering" in shown and "2026-W47" in shown
            # The same week in Slack too, and each sent once.
            assert any(
                "Weekly digest" in str(m.get("blocks")) for m in server.slack.posted("C0ENG")
            )
            again = digest.run_due(engine=run.engine, org=run.org, clock=clock)
            assert again.queued == []
