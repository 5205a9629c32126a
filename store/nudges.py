"""The SLA nudges' reads: the posted cards still waiting for a first response, and whether
one still is by the time its reminder or escalation goes out.

"Waiting" is METRICS' no first response, on a broadcast still active (not "not for us")
whose flag is still open."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists
from sqlmodel import Session, col, select

from store.models import Broadcast, Flag, OutboxMessage, Team

OPEN = ("open", "acknowledged")


def waiting_cards(
    *, session: Session, org_id: int, posted_since: datetime, unless_queued: str
) -> list[Broadcast]:
    """Posted cards since `posted_since` still waiting, of teams with an SLA, leaving out
    those with an outbox row of kind `unless_queued` (already escalated), oldest first."""
    queued = exists().where(
        and_(
            col(OutboxMessage.kind) == unless_queued,
            col(OutboxMessage.subject_id) == col(Broadcast.id),
        )
    )
    return list(
        session.exec(
            select(Broadcast)
            .join(Team, col(Team.id) == col(Broadcast.team_id))
            .join(Flag, col(Flag.id) == col(Broadcast.flag_id))
            .where(
                Broadcast.org_id == org_id,
                Broadcast.status == "active",
                col(Broadcast.first_response_at).is_(None),
                col(Broadcast.message_id).is_not(None),
                col(Broadcast.posted_at) >= posted_since,
                col(Flag.status).in_(OPEN),
                Team.sla_seconds > 0,
                ~queued,
            )
            .order_by(col(Broadcast.id))
        ).all()
    )


def still_waiting(*, session: Session, broadcast_id: int | None) -> tuple[Broadcast, Flag] | None:
    """The posted card and its flag while it still waits; None once answered, re-routed
    or closed."""
    b = session.get(Broadcast, broadcast_id) if broadcast_id is not None else None
    flag = session.get(Flag, b.flag_id) if b is not None else None
    if b is None or flag is None or b.posted_at is None or b.message_id is None:
        return None
    if b.status != "active" or b.first_response_at is not None or flag.status not in OPEN:
        return None
    return b, flag
