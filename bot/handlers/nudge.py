"""SLA nudges (SPEC "Weekly digest and nudges"): a broadcast past its team's SLA with no
response gets one reminder in its thread; past twice the SLA, one escalation to the managers.

The SLA clock is the team's business hours (`add_business_seconds` from the card's posted
time, in the team's timezone), the same clock as METRICS' SLA attainment in the maturity
score: a card posted at 17:00 on a Friday with a 2 h SLA is due on Monday morning, not at
19:00 on Friday. "No response" is no first response (METRICS' TTFR: a human who is not the
flagger), on a broadcast still active (not "not for us") whose flag is still open.

Once means once: each reminder and escalation is an outbox row with a unique key
(`nudge:{broadcast}`, `escalation:{broadcast}`), queued by whichever replica looks first.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.core.cards import Card, Link, RichText
from bot.core.clock import Clock
from bot.core.refs import ChannelRef, MessageRef, Platform, UserRef
from bot.core.timecalc import BusinessHours, add_business_seconds, business_seconds, format_duration
from bot.handlers.cards import localize
from bot.handlers.context import Gateways, OrgContext
from bot.handlers.digest.plan import user_platform
from bot.handlers.digest.send import post_once, send_to
from store.db import session_scope
from store.models import Broadcast, Flag, OutboxMessage, Team
from store.queue import enqueue_outbox

log = logging.getLogger("crosstalk.nudge")
NUDGE = "nudge"
ESCALATION = "escalation"
HORIZON = timedelta(days=14)  # older unanswered cards are left alone, not escalated in bulk
OPEN = ("open", "acknowledged")


@cache
def _hours(text: str) -> BusinessHours:
    return BusinessHours.parse(text)


def due_times(b: Broadcast, team: Team) -> tuple[datetime, datetime]:
    """When the reminder and the escalation fall due: one and two SLAs of business time
    after the card was posted."""
    assert b.posted_at is not None
    hours, tz = _hours(team.business_hours), ZoneInfo(team.timezone)
    return (
        add_business_seconds(b.posted_at, team.sla_seconds, hours, tz),
        add_business_seconds(b.posted_at, 2 * team.sla_seconds, hours, tz),
    )


def escalation_targets(org: OrgContext, broadcast_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(key, platform, target) per recipient: the managers' channel(s), else each manager."""
    base = f"escalation:{broadcast_id}"
    d = org.config.digest
    out = [(base, "slack", {"channel": d.managers_channel})] if d.managers_channel else []
    if d.managers_teams_channel:
        out.append((f"{base}:teams", "teams", {"channel": d.managers_teams_channel}))
    if out:
        return out
    return [(f"{base}:{u}", user_platform(u), {"user": u}) for u in org.config.roi.managers]


def run_due(*, engine: Engine, org: OrgContext, clock: Clock) -> list[str]:
    """The scheduled job: queue the reminders and escalations that are due now."""
    now = clock.now()
    escalated = exists().where(
        and_(
            col(OutboxMessage.kind) == ESCALATION,
            col(OutboxMessage.subject_id) == col(Broadcast.id),
        )
    )
    queued: list[str] = []
    with session_scope(engine) as session:
        rows = session.exec(
            select(Broadcast, Team)
            .join(Team, col(Team.id) == col(Broadcast.team_id))
            .join(Flag, col(Flag.id) == col(Broadcast.flag_id))
            .where(
                Broadcast.org_id == org.org_id,
                Broadcast.status == "active",
                col(Broadcast.first_response_at).is_(None),
                col(Broadcast.message_id).is_not(None),
                col(Broadcast.posted_at) >= now - HORIZON,
                col(Flag.status).in_(OPEN),
                Team.sla_seconds > 0,
                ~escalated,
            )
            .order_by(col(Broadcast.id))
        ).all()
        ids = [b.id for b, _ in rows]
        nudged = set(
            session.exec(
                select(OutboxMessage.subject_id).where(
                    OutboxMessage.kind == NUDGE, col(OutboxMessage.subject_id).in_(ids)
                )
            ).all()
        )
        for b, team in rows:
            assert b.id is not None
            remind_at, escalate_at = due_times(b, team)
            wanted: list[tuple[str, str, str, dict[str, Any]]] = []
            if now >= remind_at and b.id not in nudged:
                wanted.append((f"nudge:{b.id}", NUDGE, b.platform, {}))
            if now >= escalate_at:
                wanted += [(k, ESCALATION, p, t) for k, p, t in escalation_targets(org, b.id)]
            for key, kind, platform, target in wanted:
                if enqueue_outbox(
                    session,
                    org_id=org.org_id,
                    dedupe_key=key,
                    kind=kind,
                    platform=platform,
                    now=now,
                    subject_id=b.id,
                    target=json.dumps(target),
                ):
                    queued.append(key)
    if queued:
        log.info("queued %s", ", ".join(queued))
        org.wake_outbox()
    return queued


def _still_waiting(b: Broadcast | None, flag: Flag | None) -> bool:
    return (
        b is not None
        and flag is not None
        and b.status == "active"
        and b.first_response_at is None
        and flag.status in OPEN
    )


def reminder_text(team: Team, waited: float) -> RichText:
    return (
        f"⏰ No first response yet: {format_duration(waited)} of {team.name}'s business hours "
        f"have passed, and the SLA is {format_duration(team.sla_seconds)}. Reply in this thread "
        "with your team's interpretation, or press “Not for us” if it belongs elsewhere.",
    )


async def deliver_nudge(
    row: OutboxMessage, engine: Engine, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    from bot.outbox.deliver import SKIP  # deliver.py imports this module for DELIVERERS

    with session_scope(engine) as session:
        b = session.get(Broadcast, row.subject_id)
        flag = session.get(Flag, b.flag_id) if b else None
        if not _still_waiting(b, flag) or b is None or b.posted_at is None:
            return SKIP  # answered, re-routed or closed since it was queued
        team = session.get(Team, b.team_id)
        assert team is not None and b.message_id is not None
        waited = business_seconds(
            b.posted_at, clock.now(), _hours(team.business_hours), ZoneInfo(team.timezone)
        )
    channel = ChannelRef(Platform(b.platform), b.channel_id)
    posted = await post_once(
        gws.get(b.platform), row, channel, reminder_text(team, waited), thread_id=b.message_id
    )
    return f"{posted.message.channel.id}|{posted.message.id}"


def escalation_card(
    b: Broadcast, flag: Flag, team: Team, waited: float, card_url: str | None
) -> Card:
    facts: list[tuple[str, RichText]] = [
        ("Team", (team.name,)),
        (
            "Waiting",
            (
                f"{format_duration(waited)} of business hours"
                f" (SLA {format_duration(team.sla_seconds)})",
            ),
        ),
        ("Flagged by", (UserRef(Platform(flag.platform), flag.flagger_id),)),
        ("Customer", (flag.customer or "not named",)),
    ]
    if card_url:
        facts.append(("Card", (Link(card_url, f"open {team.name}'s card"),)))
    if flag.permalink:
        facts.append(("Original", (Link(flag.permalink, "open the conversation"),)))
    return Card(
        title=f"⏫ {team.name} has not answered a flagged conversation",
        summary=f"{team.name}: no first response after twice the SLA",
        quote=flag.excerpt or "(no text)",
        facts=tuple(facts),
        notes=(("Past twice the team's SLA with no response; the team was reminded at the SLA.",),),
    )


async def deliver_escalation(
    row: OutboxMessage, engine: Engine, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    from bot.outbox.deliver import SKIP  # deliver.py imports this module for DELIVERERS

    with session_scope(engine) as session:
        b = session.get(Broadcast, row.subject_id)
        flag = session.get(Flag, b.flag_id) if b else None
        if not _still_waiting(b, flag) or b is None or flag is None or b.posted_at is None:
            return SKIP
        team = session.get(Team, b.team_id)
        assert team is not None and b.message_id is not None
        waited = business_seconds(
            b.posted_at, clock.now(), _hours(team.business_hours), ZoneInfo(team.timezone)
        )
    card_url = await gws.get(b.platform).permalink(
        MessageRef(ChannelRef(Platform(b.platform), b.channel_id), b.message_id)
    )
    content = escalation_card(b, flag, team, waited, card_url)
    content = await localize(content, row.platform, gws)  # the manager may be elsewhere
    posted = await send_to(gws.get(row.platform), row, json.loads(row.target), content)
    return f"{posted.message.channel.id}|{posted.message.id}"
