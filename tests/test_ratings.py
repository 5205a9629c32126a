"""Ratings on the notice in the origin thread, over signed requests against the real
server and FakeSlack: only a flagger may rate, one rating per (flag, flagger), a new press
replaces the old score, and the notice shows it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from bot.core.clock import FakeClock
from bot.demo.standins import slack_requests as sr
from bot.demo.standins.harness import Server
from bot.demo.standins.serving import START
from bot.demo.standins.slack_requests import SignedRequest
from store.models import Flag, Rating

CUSTOMERS = "C0CUSTOMERS"


def react(server: Server, ts: str, user: str, channel: str = CUSTOMERS) -> SignedRequest:
    return sr.event_reaction_added("T0001", user, "mega", channel, ts, "U0SAM", server.now_ts())


def rate(
    server: Server,
    notice: dict[str, Any],
    user: str,
    score: int,
    flag_id: int,
    *,
    name: str = "rate",
    action_ts: str | None = None,
) -> SignedRequest:
    """A press of one of the notice's rating buttons, at the server's now by default."""
    return sr.block_action(
        "T0001", user, notice["channel"], notice["ts"], f"ct_rate_{score}", str(flag_id),
        sr.new_trigger_id(), server.slack.response_url(name),
        action_ts or server.now_ts(), thread_ts=notice.get("thread_ts"),
    )  # fmt: skip


def ratings(server: Server) -> list[tuple[str, int]]:
    rows = server.query(select(Rating).order_by(col(Rating.user_id)))
    return [(r.user_id, r.score) for r in rows]


def shown(server: Server, notice: dict[str, Any]) -> str:
    message = server.slack.get_message(notice["channel"], notice["ts"])
    assert message is not None
    return json.dumps(message["blocks"])


async def flag_and_notice(server: Server, channel: str = CUSTOMERS) -> tuple[Flag, dict[str, Any]]:
    ts = server.slack.add_message(channel, "You charged me twice, refund please", user="U0SAM")
    assert (await server.send(react(server, ts, "U0ANN", channel))).status == 200
    await server.settle()
    (flag,) = server.query(select(Flag))
    notices = [
        m for m in server.slack.posted()
        if any(b["type"] == "actions" and b["elements"][0]["action_id"] == "ct_rate_1"
               for b in m.get("blocks", []))
    ]  # fmt: skip
    (notice,) = notices
    return flag, notice


async def test_the_flagger_rates_and_a_new_press_replaces_the_old(db_url: str) -> None:
    clock = FakeClock(START)
    async with Server(db_url, clock=clock, run_worker=False) as server:
        flag, notice = await flag_and_notice(server)
        assert notice["channel"] == CUSTOMERS and notice["thread_ts"] == flag.message_id
        (actions,) = [b for b in notice["blocks"] if b["type"] == "actions"]
        assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
            (f"ct_rate_{n}", str(flag.id)) for n in range(1, 6)
        ]
        assert "not rated yet" in shown(server, notice)

        clock.advance(timedelta(minutes=5))
        first = server.now_ts()
        press = rate(server, notice, "U0ANN", 4, flag.id or 0, action_ts=first)
        assert (await server.send(press)).status == 200
        await server.settle()
        assert ratings(server) == [("U0ANN", 4)]
        assert "4/5 by <@U0ANN>" in shown(server, notice)

        clock.advance(timedelta(minutes=1))
        assert (await server.send(rate(server, notice, "U0ANN", 2, flag.id or 0))).status == 200
        await server.settle()
        assert ratings(server) == [("U0ANN", 2)]  # replaced, not added
        assert "2/5 by <@U0ANN>" in shown(server, notice) and "4/5" not in shown(server, notice)

        # A press older than the one recorded (a late delivery) does not win.
        clock.advance(timedelta(minutes=1))
        before = f"{float(first) - 1:.6f}"
        late = rate(server, notice, "U0ANN", 5, flag.id or 0, action_ts=before)
        assert (await server.send(late)).status == 200
        await server.settle()
        assert ratings(server) == [("U0ANN", 2)]

        # A second flagger of the same message rates too: one rating each.
        assert (await server.send(react(server, flag.message_id, "U0CAL"))).status == 200
        await server.settle()
        clock.advance(timedelta(minutes=1))
        assert (await server.send(rate(server, notice, "U0CAL", 5, flag.id or 0))).status == 200
        await server.settle()
        assert ratings(server) == [("U0ANN", 2), ("U0CAL", 5)]
        assert "2/5 by <@U0ANN>, 5/5 by <@U0CAL>" in shown(server, notice)
        assert server.slack.responses["rate"] == []  # no refusal for any of them


async def test_someone_who_did_not_flag_cannot_rate(db_url: str) -> None:
    async with Server(db_url, run_worker=False) as server:
        flag, notice = await flag_and_notice(server)
        updates = len(server.slack.calls_to("chat.update"))
        request = rate(server, notice, "U0BOB", 1, flag.id or 0, name="bob")
        assert (await server.send(request)).status == 200
        (refusal,) = await server.slack.wait_for_response("bob")
        assert refusal["response_type"] == "ephemeral" and refusal["replace_original"] is False
        assert "Only the people who flagged" in refusal["text"]
        unknown = rate(server, notice, "U0ANN", 3, 999_999, name="unknown")
        assert (await server.send(unknown)).status == 200
        (refusal,) = await server.slack.wait_for_response("unknown")
        assert "no longer known" in refusal["text"]
        await server.settle()
        assert ratings(server) == []
        assert len(server.slack.calls_to("chat.update")) == updates
        assert "not rated yet" in shown(server, notice)


async def test_a_notice_sent_by_dm_is_rated_there(db_url: str) -> None:
    """From a channel shared with a customer the notice goes to the flagger's DM."""
    async with Server(db_url, run_worker=False) as server:
        flag, notice = await flag_and_notice(server, "C0SHARED")
        assert notice["channel"] != "C0SHARED" and notice["channel"].startswith("D")
        assert (await server.send(rate(server, notice, "U0ANN", 5, flag.id or 0))).status == 200
        await server.settle()
        assert ratings(server) == [("U0ANN", 5)]
        assert "5/5 by <@U0ANN>" in shown(server, notice)
        assert "5/5" not in json.dumps(server.slack.messages("C0SHARED"))
