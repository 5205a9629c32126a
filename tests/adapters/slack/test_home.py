"""The Slack App Home (SPEC "Dashboard"), over signed requests against the real server and
FakeSlack: opening the Home tab publishes the person's own view (views.publish, read back
from the stand-in); a member sees their teams' waiting cards, past the SLA first; a flagger
sees the flags waiting for their rating and rates from there; a manager sees the /roi
figures and gets a dashboard link by DM; nobody else does.

Clock: flags on Friday 2026-11-20 at 17:00 London and on Monday 23 at 09:30; the homes
are opened on Monday at 12:00 UTC (London is on UTC in November). Customer Success has a
2h SLA; Product a 1d SLA on New York hours (Mon-Fri 09:00-17:00), so Product's Friday card
(5 business hours old) is within its SLA while Success's Monday card (2h 30m) is past it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from bot.cli import main
from bot.core.clock import FakeClock
from bot.demo.standins.harness import Server
from bot.demo.standins.slack.home_requests import event_app_home_opened, home_block_action
from store.models import Rating
from store.models_dashboard import LoginLink
from tests.fakes.core_loop import T, card, flag_by_reaction, reply

MONDAY_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
MONDAY_0930 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC).timestamp()
PUBLIC = "https://crosstalk.example.com"


async def open_home(server: Server, user: str, tab: str = "home") -> dict[str, Any] | None:
    response = await server.send(event_app_home_opened("T0001", user, server.now_ts(), tab=tab))
    assert response.status == 200
    await server.settle()
    return server.slack.home_views.get(user)


def texts(view: dict[str, Any]) -> list[str]:
    """Every text of the view, block by block, as Slack shows it."""
    out: list[str] = []
    for block in view["blocks"]:
        if "text" in block:
            out.append(block["text"]["text"])
        out += [f["text"] for f in block.get("fields", [])]
        out += [e["text"] for e in block.get("elements", []) if isinstance(e.get("text"), str)]
        out += [
            e["text"]["text"] for e in block.get("elements", []) if isinstance(e.get("text"), dict)
        ]
    return out


def action_ids(view: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (e["action_id"], e["value"])
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]


async def story(server: Server, clock: FakeClock) -> None:
    """Product's card on Friday; Success's on Monday 09:30; Billing's answered by Bob."""
    await flag_by_reaction(server, "Any chance of a dashboard feature for exports?")
    await flag_by_reaction(
        server, "Please refund the invoice", said_at=T + 10, flagged_at=T + 20, card_at=T + 30
    )
    billing = card(server.slack, "C0BILLING")
    await server.send(reply("C0BILLING", billing["ts"], "U0BOB", "Refund issued.", T + 600))
    await server.settle()
    clock.set(datetime.fromtimestamp(MONDAY_0930, UTC))
    await flag_by_reaction(
        server,
        "Hello, a quick question about our account",
        said_at=MONDAY_0930 - 60,
        flagged_at=MONDAY_0930 - 30,
        card_at=MONDAY_0930,
    )
    clock.set(MONDAY_NOON)
    server.slack.set_now(None)


async def test_a_member_sees_their_teams_waiting_cards_past_the_sla_first(db_url: str) -> None:
    clock = FakeClock(datetime.fromtimestamp(T, UTC))
    async with Server(db_url, clock=clock) as server:
        await story(server, clock)
        view = await open_home(server, "U0CAL")  # in Customer Success and Product
        assert view is not None and view["type"] == "home"
        shown = texts(view)
        heading = next(t for t in shown if t.startswith("*Your teams' cards waiting"))
        assert heading == "*Your teams' cards waiting for a first response* (2, 1 past SLA)"
        cards = [t for t in shown if t.startswith(("🔴", "⏳"))]
        assert len(cards) == 2
        assert cards[0].startswith("🔴 *Past SLA* · *Customer Success* · waiting 2h 30m")
        assert cards[0].splitlines()[0].endswith("SLA 2h")
        assert "a quick question about our account" in cards[0]
        assert cards[1].startswith("⏳ Within SLA · *Product* · waiting 5h of business hours")
        assert "<#C0PRODUCT>" in cards[1]
        # Not a manager: no figures, no dashboard button, no rating buttons (Cal flagged nothing).
        assert not any("Social ROI" in t for t in shown)
        assert action_ids(view) == []
        # Bob's only card was answered: nothing waits for Billing.
        bob = await open_home(server, "U0BOB")
        assert bob is not None
        assert "Nothing waiting: every card of your teams has a first response." in texts(bob)
        # The Messages tab publishes nothing.
        assert await open_home(server, "U0PAM", tab="messages") is None


async def test_a_flagger_sees_flags_to_rate_and_rates_from_home(db_url: str) -> None:
    clock = FakeClock(datetime.fromtimestamp(T, UTC))
    async with Server(db_url, clock=clock) as server:
        await story(server, clock)
        view = await open_home(server, "U0ANN")
        assert view is not None
        shown = texts(view)
        assert "*Flags you raised, waiting for your rating* (1)" in shown
        (flag_text,) = [t for t in shown if "to rate" in t]
        assert "Please refund the invoice" in flag_text and "1 interpretation to rate" in flag_text
        buttons = action_ids(view)
        flag_id = buttons[0][1]
        assert buttons == [(f"home_rate_{n}", flag_id) for n in range(1, 6)]

        press = home_block_action("T0001", "U0ANN", view, "home_rate_4", flag_id, server.now_ts())
        assert (await server.send(press)).status == 200
        await server.settle()
        (rating,) = server.query(select(Rating))
        assert (rating.user_id, rating.score, str(rating.flag_id)) == ("U0ANN", 4, flag_id)
        after = texts(server.slack.home_views["U0ANN"])
        assert "✅ Thank you: your 4 ★ is recorded." in after
        assert "*Flags you raised, waiting for your rating* (0)" in after
        # Someone who did not flag it is refused, and nothing is recorded for them.
        bob_view = await open_home(server, "U0BOB")
        assert bob_view is not None
        press = home_block_action(
            "T0001", "U0BOB", bob_view, "home_rate_1", flag_id, server.now_ts()
        )
        assert (await server.send(press)).status == 200
        await server.settle()
        assert len(server.query(select(Rating))) == 1
        assert any(
            "Only the people who flagged" in t for t in texts(server.slack.home_views["U0BOB"])
        )


async def test_a_manager_sees_the_figures_and_gets_a_dashboard_link(db_url: str) -> None:
    clock = FakeClock(datetime.fromtimestamp(T, UTC))
    env: dict[str, str | None] = {"CROSSTALK_PUBLIC_URL": PUBLIC}
    async with Server(db_url, clock=clock, env=env) as server:
        await story(server, clock)
        view = await open_home(server, "U0MGR")
        assert view is not None
        shown = texts(view)
        assert "The figures (as /roi, last 30 days)" in shown
        social = next(t for t in shown if t.startswith("*Social ROI*"))
        assert social.startswith("*Social ROI*\n3 flags · ")
        assert action_ids(view) == [("home_dashboard_link", "dashboard")]

        press = home_block_action(
            "T0001", "U0MGR", view, "home_dashboard_link", "dashboard", server.now_ts()
        )
        assert (await server.send(press)).status == 200
        await server.settle()
        dms = [m for m in server.slack.posted() if f"{PUBLIC}/dashboard/login?token=" in m["text"]]
        assert len(dms) == 1 and dms[0]["channel"].startswith("D")
        (link,) = server.query(select(LoginLink))
        assert (link.user_id, link.used_at) == ("U0MGR", None)
        assert "✅ A dashboard link is in your direct messages with Crosstalk." in texts(
            server.slack.home_views["U0MGR"]
        )
        # A non-manager pressing a stale button gets nothing.
        press = home_block_action(
            "T0001", "U0BOB", view, "home_dashboard_link", "dashboard", server.now_ts()
        )
        assert (await server.send(press)).status == 200
        await server.settle()
        assert len(server.query(select(LoginLink))) == 1


async def test_without_a_public_url_the_manager_is_told_why(db_url: str) -> None:
    clock = FakeClock(datetime.fromtimestamp(T, UTC))
    async with Server(db_url, clock=clock) as server:
        view = await open_home(server, "U0MGR")
        assert view is not None
        assert action_ids(view) == []
        assert any("CROSSTALK_PUBLIC_URL" in t for t in texts(view))


async def test_a_slack_failure_is_logged_not_a_500(db_url: str) -> None:
    clock = FakeClock(datetime.fromtimestamp(T, UTC))
    async with Server(db_url, clock=clock) as server:
        server.slack.fail_next("views.publish", status=500)
        assert await open_home(server, "U0BOB") is None
        assert json.dumps(server.slack.calls_to("views.publish")[0].args["view"])  # it was tried
        assert (await open_home(server, "U0BOB")) is not None  # the next opening publishes


def test_the_manifest_turns_the_home_tab_on_and_subscribes_to_its_event(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["slack-manifest", "--url", "https://bot.acme.com"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "app_home_opened" in data["settings"]["event_subscriptions"]["bot_events"]
    assert data["features"]["app_home"]["home_tab_enabled"] is True
