"""Capture (SPEC "Capture"): turn a flag request into one flag with its broadcasts.

The same message flagged twice is one flag: the unique key on (org, platform, channel,
message) decides, even when two replicas race; the second flagger is added to the first.
What the platform must tell first (the message's text, its permalink, whether its channel
is shared) is asked before the transaction, so no database connection waits on a network.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.core.clock import Clock, from_epoch
from bot.core.events import FlagRequest, Reaction
from bot.core.refs import UserRef
from bot.handlers.broadcast import broadcast
from bot.handlers.context import Gateways, OrgContext
from bot.handlers.redact import redact
from bot.handlers.route import Routing, route, with_override
from bot.handlers.sentiment import analyze
from bot.handlers.webhook import enqueue_webhook
from bot.listening.routing import routing_for as learned_routing
from store import flags
from store.db import Database
from store.models import Flag
from store.orgs import teams_of

log = logging.getLogger("crosstalk.flag")
EXCERPT_LIMIT = 1500


@dataclass(frozen=True)
class FlagResult:
    flag_id: int
    created: bool
    teams: tuple[str, ...]


@dataclass(frozen=True)
class Facts:
    """What the platform says about the flagged message."""

    text: str
    author: UserRef | None
    permalink: str | None
    shared: bool
    private: bool
    at: datetime | None = None  # the message's own timestamp, when the platform tells it


def routing_for(
    text: str, channel_id: str, org: OrgContext, session: Session | None = None
) -> Routing:
    """The teams and topics the rules give a message (also used to prefill the form); with
    a session, the org's model routes a message no rule matches."""
    sentiment = analyze(text).label
    if session is not None:
        return learned_routing(
            session=session, org=org, text=text, channel_id=channel_id, sentiment=sentiment
        )
    return route(text=text, channel_id=channel_id, sentiment=sentiment, config=org.config)


def join(*, session: Session, org: OrgContext, event: FlagRequest) -> int | None:
    """The id of the flag this message already is, with this flagger added; None if new."""
    m = event.message
    existing = flags.by_message(
        session=session,
        org_id=org.org_id,
        platform=m.platform.value,
        channel_id=m.channel.id,
        message_id=m.id,
    )
    if existing is None or existing.id is None:
        return None
    flags.add_flagger(
        session=session, flag_id=existing.id, user_id=event.flagger.id, via=event.via, at=event.at
    )
    return existing.id


def _slack_ts(message_id: str) -> datetime | None:
    """A Slack message's id is its own `ts` (elsewhere the fetched message tells the time)."""
    try:
        return from_epoch(message_id)
    except ValueError:
        return None


async def facts_of(event: FlagRequest, gateways: Gateways) -> Facts | None:
    gateway = gateways.get(event.message.platform)
    text, author = event.text, event.author
    at = event.message_at
    if at is None and event.message.platform.value == "slack":
        at = _slack_ts(event.message.id)
    if text is None:
        fetched = await gateway.fetch_message(event.message)
        if fetched is None:
            return None
        text, author, at = fetched.text, fetched.author, fetched.at
    permalink = await gateway.permalink(event.message)
    shared = await gateway.is_shared_channel(event.message.channel)
    private = await gateway.is_private_channel(event.message.channel)
    return Facts(
        text=text, author=author, permalink=permalink, shared=shared, private=private, at=at
    )


def create(
    *,
    session: Session,
    event: FlagRequest,
    facts: Facts,
    org: OrgContext,
    gateways: Gateways,
    clock: Clock,
) -> FlagResult:
    """The new flag, its broadcasts, its notice and its CRM webhook, in one transaction."""
    sentiment = analyze(facts.text)
    m = event.message
    routing = learned_routing(
        session=session,
        org=org,
        text=facts.text,
        channel_id=m.channel.id,
        sentiment=sentiment.label,
    )
    if event.teams is not None:
        routing = with_override(routing, tuple(t for t in event.teams if org.config.team(t)))
    excerpt = redact(facts.text) if org.config.broadcast.redact_pii else facts.text
    flagger_teams = teams_of(session, org.org_id, m.platform.value, event.flagger.id)
    flag = flags.add(
        session=session,
        flag=Flag(
            org_id=org.org_id,
            platform=m.platform.value,
            workspace_id=event.workspace.id,
            channel_id=m.channel.id,
            message_id=m.id,
            thread_id=m.thread_id,
            permalink=facts.permalink,
            author_id=facts.author.id if facts.author else None,
            excerpt=excerpt[:EXCERPT_LIMIT],
            customer=event.customer,
            note=event.note,
            sentiment=sentiment.label,
            sentiment_score=sentiment.score,
            flagger_id=event.flagger.id,
            flagger_team_id=flagger_teams[0] if flagger_teams else None,
            flagged_at=event.at,
            message_at=facts.at,
            via=event.via,
            is_public=not facts.private,
            origin_shared=facts.shared,
        ),
        topics=routing.topics,
    )
    assert flag.id is not None
    now = clock.now()
    broadcast(
        session=session, org=org, flag=flag, teams=routing.teams, now=now, teaches=routing.teaches
    )
    enqueue_webhook(session, org=org, gateways=gateways, event="flag", subject_id=flag.id, now=now)
    return FlagResult(flag.id, True, routing.teams)


async def flag_message(
    *, event: FlagRequest, db: Database, org: OrgContext, gateways: Gateways, clock: Clock
) -> FlagResult | None:
    joined = await db.run(lambda s: join(session=s, org=org, event=event))
    if joined is not None:
        return FlagResult(joined, False, ())
    facts = await facts_of(event, gateways)
    if facts is None:
        return None
    try:
        result = await db.run(
            lambda s: create(
                session=s, event=event, facts=facts, org=org, gateways=gateways, clock=clock
            )
        )
        m = event.message
        log.info(
            "flag %s created (%s) on %s %s/%s by %s, routed to %s",
            result.flag_id,
            event.via,
            m.platform.value,
            m.channel.id,
            m.id,
            event.flagger.id,
            ", ".join(result.teams) or "no team",
            extra={"flag_id": result.flag_id, "event": "flag_created"},
        )
        return result
    except IntegrityError:  # another process created the same flag a moment ago: join it
        joined = await db.run(lambda s: join(session=s, org=org, event=event))
        assert joined is not None
        return FlagResult(joined, False, ())


async def on_reaction(
    *, event: Reaction, db: Database, org: OrgContext, gateways: Gateways, clock: Clock
) -> FlagResult | None:
    """The configured reaction flags the message it was added to."""
    if event.emoji != org.config.flagging.reaction:
        return None
    request = FlagRequest(
        workspace=event.workspace,
        message=event.message,
        flagger=event.user,
        at=event.at,
        via="reaction",
    )
    return await flag_message(event=request, db=db, org=org, gateways=gateways, clock=clock)
