"""Route each stored inbound event to the handler that owns it."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.core.clock import Clock
from bot.core.events import (
    CardAction,
    Event,
    FlagRequest,
    IncomingMessage,
    InterpretationForm,
    OutcomeForm,
    RatingGiven,
    Reaction,
)
from bot.handlers import actions, flag, interpret, outcomes, ratings
from bot.handlers.context import Gateways, OrgContext


async def handle_event(
    event: Event, *, engine: Engine, org: OrgContext, gateways: Gateways, clock: Clock
) -> None:
    if isinstance(event, IncomingMessage):
        interpret.on_message(event=event, engine=engine, org=org, clock=clock)
    elif isinstance(event, Reaction):
        if event.emoji == org.config.flagging.reaction:
            await flag.on_reaction(
                event=event, engine=engine, org=org, gateways=gateways, clock=clock
            )
        else:
            actions.on_ack_reaction(event=event, engine=engine, org=org, clock=clock)
    elif isinstance(event, FlagRequest):
        await flag.flag_message(event=event, engine=engine, org=org, gateways=gateways, clock=clock)
    elif isinstance(event, InterpretationForm):
        interpret.on_form(event=event, engine=engine, org=org, clock=clock)
    elif isinstance(event, CardAction):
        actions.on_card_action(event=event, engine=engine, org=org, clock=clock)
    elif isinstance(event, OutcomeForm):
        outcomes.on_form(event=event, engine=engine, org=org, gateways=gateways, clock=clock)
    elif isinstance(event, RatingGiven):
        ratings.rate(event=event, engine=engine, org=org, clock=clock)
