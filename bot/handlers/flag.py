"""Capture (SPEC "Capture"): turn a flag request into one flag with its broadcasts.

The same message flagged twice is one flag: the unique key on (org, platform, channel,
message) decides, even when two replicas race; the second flagger is added to the first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.core.clock import Clock
from bot.core.events import FlagRequest, Reaction
from bot.core.gateway import FetchedMessage
from bot.handlers.context import Gateways, OrgContext
from bot.handlers.redact import redact
from bot.handlers.route import Routing, route, with_override
from bot.handlers.sentiment import analyze
from bot.handlers.webhook import enqueue_webhook
from store.db import session_scope
from store.models import Broadcast, Flag, FlagFlagger, FlagTopic
from store.orgs import teams_of
from store.queue import enqueue_outbox

EXCERPT_LIMIT = 1500


@dataclass(frozen=True)
class FlagResult:
    flag_id: int
    created: bool
    teams: tuple[str, ...]


def routing_for(text: str, channel_id: str, org: OrgContext) -> Routing:
    """The teams and topics the rules give a message (also used to prefill the form)."""
    sentiment = analyze(text).label
    return route(text=text, channel_id=channel_id, sentiment=sentiment, config=org.config)


def _find(session: Session, org: OrgContext, req: FlagRequest) -> Flag | None:
    root = req.message
    return session.exec(
        select(Flag).where(
            Flag.org_id == org.org_id,
            Flag.platform == root.platform.value,
            Flag.channel_id == root.channel.id,
            Flag.message_id == root.id,
        )
    ).first()


def _add_flagger(session: Session, flag: Flag, req: FlagRequest) -> None:
    exists = session.exec(
        select(FlagFlagger).where(
            FlagFlagger.flag_id == flag.id, FlagFlagger.user_id == req.flagger.id
        )
    ).first()
    if exists is None:
        session.add(
            FlagFlagger(flag_id=flag.id or 0, user_id=req.flagger.id, via=req.via, at=req.at)
        )


async def flag_message(
    *, event: FlagRequest, engine: Engine, org: OrgContext, gateways: Gateways, clock: Clock
) -> FlagResult | None:
    with session_scope(engine) as session:
        existing = _find(session, org, event)
        if existing is not None:
            _add_flagger(session, existing, event)
            return FlagResult(existing.id or 0, False, ())

    gateway = gateways.get(event.message.platform)
    fetched: FetchedMessage | None = None
    text, author = event.text, event.author
    if text is None:
        fetched = await gateway.fetch_message(event.message)
        if fetched is None:
            return None
        text, author = fetched.text, fetched.author
    permalink = await gateway.permalink(event.message)
    shared = await gateway.is_shared_channel(event.message.channel)

    sentiment = analyze(text)
    routing = route(
        text=text, channel_id=event.message.channel.id, sentiment=sentiment.label, config=org.config
    )
    if event.teams is not None:
        routing = with_override(routing, tuple(t for t in event.teams if org.config.team(t)))
    excerpt = redact(text) if org.config.broadcast.redact_pii else text
    try:
        with session_scope(engine) as session:
            result = _create(
                session,
                event,
                org,
                clock,
                routing,
                sentiment.label,
                sentiment.score,
                excerpt,
                permalink,
                shared,
                author.id if author else None,
            )
            enqueue_webhook(
                session,
                org=org,
                gateways=gateways,
                event="flag",
                subject_id=result.flag_id,
                now=clock.now(),
            )
            return result
    except IntegrityError:
        # Another process created the same flag a moment ago: join it.
        with session_scope(engine) as session:
            existing = _find(session, org, event)
            assert existing is not None
            _add_flagger(session, existing, event)
            return FlagResult(existing.id or 0, False, ())


def _create(
    session: Session,
    req: FlagRequest,
    org: OrgContext,
    clock: Clock,
    routing: Routing,
    sentiment: str,
    score: float,
    excerpt: str,
    permalink: str | None,
    shared: bool,
    author_id: str | None,
) -> FlagResult:
    platform = req.message.platform.value
    flagger_teams = teams_of(session, org.org_id, platform, req.flagger.id)
    flag = Flag(
        org_id=org.org_id,
        platform=platform,
        workspace_id=req.workspace.id,
        channel_id=req.message.channel.id,
        message_id=req.message.id,
        thread_id=req.message.thread_id,
        permalink=permalink,
        author_id=author_id,
        excerpt=excerpt[:EXCERPT_LIMIT],
        customer=req.customer,
        note=req.note,
        sentiment=sentiment,
        sentiment_score=score,
        flagger_id=req.flagger.id,
        flagger_team_id=flagger_teams[0] if flagger_teams else None,
        flagged_at=req.at,
        via=req.via,
        is_public=not req.message.channel.id.startswith(("G", "D")),
        origin_shared=shared,
    )
    session.add(flag)
    session.flush()
    assert flag.id is not None
    session.add(FlagFlagger(flag_id=flag.id, user_id=req.flagger.id, via=req.via, at=req.at))
    for topic in routing.topics:
        session.add(FlagTopic(flag_id=flag.id, topic=topic))
    now = clock.now()
    for key in routing.teams:
        team = org.config.team(key)
        assert team is not None
        team_platform, channel = (
            ("slack", team.slack_channel)
            if team.slack_channel
            else ("teams", team.teams_channel or "")
        )
        if (
            team_platform != platform
            and team.slack_channel
            and platform == "teams"
            and team.teams_channel
        ):
            team_platform, channel = "teams", team.teams_channel
        b = Broadcast(
            org_id=org.org_id,
            flag_id=flag.id,
            team_id=org.ids.team_ids[key],
            platform=team_platform,
            channel_id=channel,
            created_at=now,
        )
        session.add(b)
        session.flush()
        enqueue_outbox(
            session,
            org_id=org.org_id,
            dedupe_key=f"card:{b.id}",
            kind="card_post",
            platform=team_platform,
            subject_id=b.id,
            now=now,
        )
    if routing.teams:
        enqueue_outbox(
            session,
            org_id=org.org_id,
            dedupe_key=f"notice:{flag.id}",
            kind="notice",
            platform=platform,
            subject_id=flag.id,
            now=now,
            target=json.dumps({"dm": shared}),
        )
    org.wake_outbox()
    return FlagResult(flag.id, True, routing.teams)


async def on_reaction(
    *, event: Reaction, engine: Engine, org: OrgContext, gateways: Gateways, clock: Clock
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
    return await flag_message(event=request, engine=engine, org=org, gateways=gateways, clock=clock)
