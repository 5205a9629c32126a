"""Steps of the core loop on Slack (flag, click, reply) and readers of what FakeSlack shows,
shared by the end-to-end tests of capture, broadcast, interpretations and card buttons.

Times are Slack `ts` values chosen by the test: `T` is Friday 2026-11-20 17:00 in
Europe/London (UTC+0 in November), half an hour before the sample org's day ends.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from bot.core.clock import from_epoch
from bot.demo.standins import slack_requests as sr
from bot.demo.standins.harness import Server
from bot.demo.standins.slack_api import FakeSlack
from bot.demo.standins.slack_requests import SignedRequest
from store.models import Broadcast, Flag, FlagFlagger, FlagTopic, Interpretation, Team

CUSTOMERS = "C0CUSTOMERS"
SHARED = "C0SHARED"
T = 1795194000.0  # Fri 2026-11-20 17:00:00 Europe/London
JSONDict = dict[str, Any]


def ts(at: float) -> str:
    """A Slack ts for an epoch second."""
    return f"{at:.6f}"


def at(value: float) -> datetime:
    return from_epoch(value)


# ---------------------------------------------------------------------------- actions


def customer_says(slack: FakeSlack, text: str, at_: float, channel: str = CUSTOMERS) -> str:
    """A customer message already in the channel (Crosstalk reads it with the history API)."""
    return slack.add_message(channel, text, user="U0SAM", ts=ts(at_))


def reaction(
    message_ts: str,
    at_: float,
    *,
    user: str = "U0ANN",
    emoji: str = "mega",
    channel: str = CUSTOMERS,
    item_user: str = "U0SAM",
) -> SignedRequest:
    return sr.event_reaction_added(
        "T0001", user, emoji, channel, message_ts, item_user, ts(at_), event_time=int(at_)
    )


def reply(
    channel: str,
    thread_ts: str,
    user: str,
    text: str,
    at_: float,
    *,
    bot_id: str | None = None,
) -> SignedRequest:
    return sr.event_message(
        "T0001", channel, user, text, ts(at_), thread_ts, bot_id, event_time=int(at_)
    )


async def flag_by_reaction(
    server: Server,
    text: str,
    *,
    said_at: float = T - 600,
    flagged_at: float = T - 60,
    card_at: float = T,
    user: str = "U0ANN",
    channel: str = CUSTOMERS,
) -> str:
    """The customer says `text`, `user` reacts with :mega:, and the cards go out at
    `card_at` (FakeSlack's clock). Returns the customer message's ts."""
    message_ts = customer_says(server.slack, text, said_at, channel)
    server.slack.set_now(card_at)
    resp = await server.send(reaction(message_ts, flagged_at, user=user, channel=channel))
    assert resp.status == 200
    await server.settle()
    return message_ts


def click(
    server: Server,
    card: JSONDict,
    user: str,
    action_id: str,
    at_: float,
    *,
    hook: str = "hook",
) -> SignedRequest:
    """`user` presses the button `action_id` on `card` (a message FakeSlack holds)."""
    (button,) = [b for b in buttons(card) if b["action_id"] == action_id]
    return sr.block_action(
        "T0001",
        user,
        card["channel"],
        card["ts"],
        action_id,
        button["value"],
        sr.new_trigger_id(),
        server.slack.response_url(hook),
        ts(at_),
        "ct_card_actions",
        message={k: v for k, v in card.items() if k != "channel"},
    )


# ---------------------------------------------------------------------------- what Slack shows


def cards_in(slack: FakeSlack, channel: str) -> list[JSONDict]:
    """Top-level messages Crosstalk posted in `channel`, as Slack holds them now."""
    return [m for m in slack.posted(channel) if m.get("thread_ts") in (None, m["ts"])]


def card(slack: FakeSlack, channel: str) -> JSONDict:
    (only,) = cards_in(slack, channel)
    return only


def thread(slack: FakeSlack, channel: str, root_ts: str) -> list[JSONDict]:
    """Crosstalk's replies in a thread, oldest first."""
    return slack.posted(channel, thread_ts=root_ts)


def buttons(message: JSONDict) -> list[JSONDict]:
    return [
        element
        for block in message.get("blocks", [])
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def fields(message: JSONDict) -> dict[str, str]:
    """The card's labelled facts: {"Topics": "billing, product", ...}."""
    out: dict[str, str] = {}
    for block in message.get("blocks", []):
        for field in block.get("fields", []):
            label, _, value = field["text"].partition("\n")
            out[label.strip("*")] = value
    return out


def all_text(message: JSONDict) -> str:
    """Every piece of text in a message: its fallback text and all its blocks."""
    parts = [message.get("text", ""), json.dumps(message.get("blocks", []), ensure_ascii=False)]
    return "\n".join(parts)


def quote(message: JSONDict) -> str:
    """The quoted excerpt section of a card."""
    sections = [
        b["text"]["text"]
        for b in message["blocks"]
        if b["type"] == "section" and "text" in b and b["text"]["text"].startswith(">")
    ]
    assert len(sections) == 1, sections
    return str(sections[0])


# ---------------------------------------------------------------------------- the database


def the_flag(server: Server) -> Flag:
    (flag,) = server.query(select(Flag))
    return flag


def broadcasts(server: Server) -> list[Broadcast]:
    return server.query(select(Broadcast).order_by(col(Broadcast.id)))


def broadcast_in(server: Server, channel: str) -> Broadcast:
    (b,) = server.query(select(Broadcast).where(Broadcast.channel_id == channel))
    return b


def team_keys(server: Server, team_ids: list[int]) -> list[str]:
    names = dict(server.query(select(Team.id, Team.key)))
    return [names[t] for t in team_ids]


def topics(server: Server, flag_id: int) -> list[str]:
    return server.query(
        select(FlagTopic.topic).where(FlagTopic.flag_id == flag_id).order_by(col(FlagTopic.id))
    )


def flaggers(server: Server) -> list[tuple[str, str]]:
    return [
        (f.user_id, f.via) for f in server.query(select(FlagFlagger).order_by(col(FlagFlagger.id)))
    ]


def interpretations(server: Server) -> list[Interpretation]:
    return server.query(select(Interpretation).order_by(col(Interpretation.id)))
