"""SLA nudges (SPEC "Weekly digest and nudges"): a broadcast past its team's SLA with no
response gets one reminder in its thread; past twice the SLA, one escalation to the managers.

The SLA clock is the team's business hours (`add_business_seconds` from the card's posted
time, in the team's timezone), the same clock as METRICS' SLA attainment in the maturity
score: a card posted at 17:00 on a Friday with a 2 h SLA is due on Monday morning, not at
19:00 on Friday. "No response" is no first response (METRICS' TTFR: a human who is not the
flagger), on a broadcast still active (not "not for us") whose flag is still open.

Once means once: each reminder and escalation is an outbox row with a unique key
(`nudge:{broadcast}`, `escalation:{broadcast}`), queued by whichever replica looks first.
The SLA and business hours are the config's (a team gone from it is reminded no more), the
queries the store's (store.nudges).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.cards import Card, Link, RichText
from bot.core.clock import Clock
from bot.core.refs import Platform, UserRef
from bot.core.timecalc import add_business_seconds, business_seconds, format_duration
from bot.handlers.context import OrgContext
from config.schema import TeamConfig
from store.db import session_scope
from store.models import Broadcast, Flag, OutboxMessage
from store.nudges import still_waiting, waiting_cards
from store.outbox_keys import subjects_queued
from store.queue import enqueue_outbox

log = logging.getLogger("crosstalk.nudge")
NUDGE = "nudge"
ESCALATION = "escalation"
HORIZON = timedelta(days=14)  # older unanswered cards are left alone, not escalated in bulk


def due_times(b: Broadcast, team: TeamConfig) -> tuple[datetime, datetime]:
    """When the reminder and the escalation fall due: one and two SLAs of business time
    after the card was posted."""
    assert b.posted_at is not None
    return (
        add_business_seconds(b.posted_at, team.sla_seconds, team.hours, team.zone),
        add_business_seconds(b.posted_at, 2 * team.sla_seconds, team.hours, team.zone),
    )


def escalation_targets(org: OrgContext, broadcast_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(key, platform, target) per recipient: the managers' channel(s), else each manager
    on the platform the config names them on."""
    base = f"escalation:{broadcast_id}"
    d = org.config.digest
    out: list[tuple[str, str, dict[str, Any]]] = []
    if d.managers_channel:
        out.append((base, Platform.SLACK, {"channel": d.managers_channel}))
    if d.managers_teams_channel:
        out.append((f"{base}:teams", Platform.TEAMS, {"channel": d.managers_teams_channel}))
    return out or [
        (f"{base}:{u.id}", u.platform, {"user": u.id}) for u in org.config.roi.manager_refs
    ]


def _wanted(
    org: OrgContext, b: Broadcast, team: TeamConfig, now: datetime, nudged: set[int]
) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(key, kind, platform, target) of what is due for one waiting card."""
    assert b.id is not None
    remind_at, escalate_at = due_times(b, team)
    wanted: list[tuple[str, str, str, dict[str, Any]]] = []
    if now >= remind_at and b.id not in nudged:
        wanted.append((f"nudge:{b.id}", NUDGE, b.platform, {}))
    if now >= escalate_at:
        wanted += [(k, ESCALATION, p, t) for k, p, t in escalation_targets(org, b.id)]
    return wanted


def queue_due(*, session: Session, org: OrgContext, now: datetime) -> list[str]:
    """Queue the reminders and escalations due at `now`; the keys queued. The caller
    commits, then wakes the outbox."""
    cards = waiting_cards(
        session=session, org_id=org.org_id, posted_since=now - HORIZON, unless_queued=ESCALATION
    )
    ids = [b.id for b in cards if b.id is not None]
    nudged = subjects_queued(session=session, kind=NUDGE, subject_ids=ids)
    queued: list[str] = []
    for b in cards:
        team = org.team_by_id(b.team_id)
        if team is None:
            continue  # gone from the config: nobody's SLA to hold it to
        for key, kind, platform, target in _wanted(org, b, team, now, nudged):
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
    return queued


def announce(org: OrgContext, queued: list[str]) -> None:
    """Once the queued rows are committed: log them and wake the outbox."""
    if queued:
        log.info("queued %s", ", ".join(queued))
        org.wake_outbox()


def run_due(*, engine: Engine, org: OrgContext, clock: Clock) -> list[str]:
    """Queue the reminders and escalations due now, in one transaction on this thread."""
    with session_scope(engine) as session:
        queued = queue_due(session=session, org=org, now=clock.now())
    announce(org, queued)
    return queued


def waiting_now(
    session: Session, org: OrgContext, row: OutboxMessage, now: datetime
) -> tuple[Broadcast, Flag, TeamConfig, float] | None:
    """The card, its flag, its team and the business seconds it has waited, while it still
    waits (not answered, re-routed or closed since the row was queued)."""
    found = still_waiting(session=session, broadcast_id=row.subject_id)
    team = org.team_by_id(found[0].team_id) if found else None
    if found is None or team is None:
        return None
    b, flag = found
    assert b.posted_at is not None
    return b, flag, team, business_seconds(b.posted_at, now, team.hours, team.zone)


def reminder_text(team: TeamConfig, waited: float) -> RichText:
    return (
        f"⏰ No first response yet: {format_duration(waited)} of {team.name}'s business hours "
        f"have passed, and the SLA is {format_duration(team.sla_seconds)}. Reply in this thread "
        "with your team's interpretation, or press “Not for us” if it belongs elsewhere.",
    )


def escalation_card(
    b: Broadcast, flag: Flag, team: TeamConfig, waited: float, card_url: str | None
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
