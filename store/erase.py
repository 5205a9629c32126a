"""Erasing a customer: every row Crosstalk keeps about the flags of one CRM ref or one
customer name — the flags, who flagged them, their topics, broadcasts, interpretations,
outcomes, ratings, routing feedback, queued side effects and stored inbound events, and
what listening kept of them (the suggestions of those messages, labels holding their text)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Delete, and_, delete, func, or_, select
from sqlmodel import Session, col

from store import labels
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
from store.models_listening import Suggestion

# Which outbox kinds name which table's row as their subject.
_SUBJECTS = {
    "flag": ("notice", "notice_update"),
    "broadcast": ("card_post", "card_update", "nudge", "escalation"),
    "interpretation": ("mirror", "mirror_update"),
}


def _like(text: str) -> str:
    """`text` as a LIKE pattern that matches it literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _flags(
    session: Session, org_id: int, crm_ref: str | None, customer: str | None
) -> Sequence[Flag]:
    named = []
    if crm_ref is not None:
        named.append(col(Flag.crm_ref) == crm_ref)
        outcome_flags = select(col(Outcome.flag_id)).where(col(Outcome.crm_ref) == crm_ref)
        named.append(col(Flag.id).in_(outcome_flags))
    if customer is not None:
        named.append(func.lower(col(Flag.customer)) == customer.lower())
    stmt = select(Flag).where(col(Flag.org_id) == org_id, or_(*named))
    return session.execute(stmt).scalars().all()


def erase_customer(
    *, session: Session, org_id: int, crm_ref: str | None = None, customer: str | None = None
) -> dict[str, int]:
    """Delete it all in the caller's transaction; how many rows of each kind went."""
    found = _flags(session, org_id, crm_ref, customer)
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
    kind, subject = col(OutboxMessage.kind), col(OutboxMessage.subject_id)
    target = col(OutboxMessage.target)
    ours = or_(
        and_(kind.in_(_SUBJECTS["flag"]), subject.in_(flag_ids)),
        and_(kind.in_(_SUBJECTS["broadcast"]), subject.in_(broadcast_ids)),
        and_(kind.in_(_SUBJECTS["interpretation"]), subject.in_(interp_ids)),
        and_(kind == "crm_webhook", subject.in_(flag_ids), target.like('%"flag.%')),
        and_(kind == "crm_webhook", subject.in_(outcome_ids), target.like('%"outcome.%')),
    )
    counts["outbox"] = _gone(
        session, delete(OutboxMessage).where(col(OutboxMessage.org_id) == org_id, ours)
    )
    messages = [f.message_id for f in found] + [f.thread_id for f in found if f.thread_id]
    mentions = [col(InboxEvent.payload).like(_like(m), escape="\\") for m in messages]
    counts["inbox"] = _gone(
        session, delete(InboxEvent).where(col(InboxEvent.org_id) == org_id, or_(*mentions))
    )
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
    counts["labels"], counts["suggestions"] = _listening(session, org_id, found, broadcast_ids)
    _gone(session, delete(Flag).where(col(Flag.id).in_(flag_ids)))
    return counts


def _listening(
    session: Session, org_id: int, found: Sequence[Flag], broadcast_ids: list[int]
) -> tuple[int, int]:
    """The suggestions of the erased messages, and every label holding their words."""
    flag_ids = [f.id for f in found if f.id is not None]
    same_message = [
        and_(col(Suggestion.channel_id) == f.channel_id, col(Suggestion.message_id) == f.message_id)
        for f in found
    ]
    mine = and_(
        col(Suggestion.org_id) == org_id,
        or_(col(Suggestion.flag_id).in_(flag_ids), *same_message),
    )
    said = list(session.execute(select(col(Suggestion.text)).where(mine)).scalars())
    texts = [f.excerpt for f in found] + said
    erased = labels.erase(
        session, org_id=org_id, flag_ids=flag_ids, broadcast_ids=broadcast_ids, texts=texts
    )
    return erased, _gone(session, delete(Suggestion).where(mine))


def _gone(session: Session, statement: Delete) -> int:
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]
