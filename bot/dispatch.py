"""Route each stored inbound event to the handler that owns it: one path for every event,
whether the worker takes it from the inbox or a request handles it on the spot
(`Runtime.handle_now`). Each handler gets a session in one transaction, on a database
thread; what a platform call must fetch first (a flagged message) is fetched before."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.clock import Clock
from bot.core.events import (
    CardAction,
    Event,
    FlagRequest,
    IncomingMessage,
    InterpretationForm,
    OutcomeForm,
    Reaction,
    SuggestionAnswer,
    WatchedMessage,
)
from bot.handlers import actions, flag, interpret, listen, outcomes, ratings, suggest
from bot.handlers.context import Gateways, OrgContext
from store.db import Database


@dataclass(frozen=True)
class Answer:
    """What the person who caused an event is told (privately), if anything."""

    message: str | None = None


def order_key(event: Event) -> str:
    """Events with one key are handled in the order they arrived (a reply, then its edit;
    two flags of one message); events with different keys side by side."""
    if isinstance(event, IncomingMessage | Reaction | FlagRequest):
        m = event.message
        return f"m:{m.platform.value}:{m.channel.id}:{m.thread_id or m.id}"
    if isinstance(event, CardAction | InterpretationForm | OutcomeForm):
        return f"b:{event.broadcast_id}"
    if isinstance(event, WatchedMessage):
        m = event.message
        return f"w:{m.platform.value}:{m.channel.id}:{m.id}"
    if isinstance(event, SuggestionAnswer):
        return f"s:{event.suggestion_id}"
    return f"f:{event.flag_id}"


async def handle_event(
    event: Event, *, db: Database, org: OrgContext, gateways: Gateways, clock: Clock
) -> Answer:
    if isinstance(event, IncomingMessage):
        await db.run(lambda s: interpret.on_message(event=event, session=s, org=org, clock=clock))
    elif isinstance(event, Reaction) and event.emoji == org.config.flagging.reaction:
        await flag.on_reaction(event=event, db=db, org=org, gateways=gateways, clock=clock)
    elif isinstance(event, Reaction):
        await db.run(
            lambda s: actions.on_ack_reaction(event=event, session=s, org=org, clock=clock)
        )
    elif isinstance(event, FlagRequest):
        await flag.flag_message(event=event, db=db, org=org, gateways=gateways, clock=clock)
    elif isinstance(event, InterpretationForm):
        await db.run(lambda s: interpret.on_form(event=event, session=s, org=org, clock=clock))
    elif isinstance(event, CardAction):
        done = await db.run(
            lambda s: actions.on_card_action(event=event, session=s, org=org, clock=clock)
        )
        return Answer(done.message)
    elif isinstance(event, WatchedMessage):
        await listen.on_watched(event=event, db=db, org=org, clock=clock)
    elif isinstance(event, SuggestionAnswer):
        said = await suggest.on_answer(event=event, db=db, org=org, gateways=gateways, clock=clock)
        return Answer(said)
    elif isinstance(event, OutcomeForm):
        await db.run(
            lambda s: outcomes.on_form(
                event=event, session=s, org=org, gateways=gateways, clock=clock
            )
        )
    else:
        rated = await db.run(lambda s: ratings.rate(event=event, session=s, org=org, clock=clock))
        return Answer(rated.message)
    return Answer()
