"""Erasing a customer: every row Crosstalk keeps about the flags of one CRM ref or one
customer name — the flags, who flagged them, their topics, broadcasts, interpretations,
outcomes, ratings, routing feedback, queued side effects and stored inbound events."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Delete, delete, func, or_, select
from sqlmodel import Session, col

from store.models import (
    Broadcast,
    Flag,
    FlagFlagger,
    FlagTopic,
    InboxEvent,
    Interpretation,
    OutboxMessage,
    Outcome,
    Rating,
    RoutingFeedback,
)


def _flags(session: Session, crm_ref: str | None, customer: str | None) -> Sequence[Flag]:
    named = []
    if crm_ref is not None:
        named.append(col(Flag.crm_ref) == crm_ref)
        outcome_flags = select(col(Outcome.flag_id)).where(col(Outcome.crm_ref) == crm_ref)
        named.append(col(Flag.id).in_(outcome_flags))
    if customer is not None:
        named.append(func.lower(col(Flag.customer)) == customer.lower())
    return session.execute(select(Flag).where(or_(*named))).scalars().all()


def erase_customer(
    *, session: Session, crm_ref: str | None = None, customer: str | None = None
) -> dict[str, int]:
    """Delete it all in the caller's transaction; how many rows of each kind went."""
    found = _flags(session, crm_ref, customer)
    flag_ids = [f.id for f in found if f.id is not None]
    counts: dict[str, int] = {"flags": len(flag_ids)}
    if not flag_ids:
        return counts
    broadcast_ids = list(
        session.execute(
            select(col(Broadcast.id)).where(col(Broadcast.flag_id).in_(flag_ids))
        ).scalars()
    )
    interp_ids = list(
        session.execute(
            select(col(Interpretation.id)).where(col(Interpretation.flag_id).in_(flag_ids))
        ).scalars()
    )
    outcome_ids = list(
        session.execute(select(col(Outcome.id)).where(col(Outcome.flag_id).in_(flag_ids))).scalars()
    )
    subjects = [*flag_ids, *broadcast_ids, *interp_ids, *outcome_ids]
    counts["outbox"] = _gone(
        session, delete(OutboxMessage).where(col(OutboxMessage.subject_id).in_(subjects))
    )
    messages = [f.message_id for f in found] + [f.thread_id for f in found if f.thread_id]
    mentions = [col(InboxEvent.payload).contains(m) for m in messages]
    counts["inbox"] = _gone(session, delete(InboxEvent).where(or_(*mentions)))
    for name, model in (
        ("interpretations", Interpretation),
        ("outcomes", Outcome),
        ("ratings", Rating),
        ("routing_feedback", RoutingFeedback),
        ("broadcasts", Broadcast),
        ("flaggers", FlagFlagger),
        ("topics", FlagTopic),
    ):
        counts[name] = _gone(session, delete(model).where(col(model.flag_id).in_(flag_ids)))
    _gone(session, delete(Flag).where(col(Flag.id).in_(flag_ids)))
    return counts


def _gone(session: Session, statement: Delete) -> int:
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]
