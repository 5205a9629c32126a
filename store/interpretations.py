"""Queries about interpretations: replies in card threads and form answers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from store.models import Interpretation


def get(*, session: Session, interpretation_id: int) -> Interpretation | None:
    return session.get(Interpretation, interpretation_id)


def by_message(
    *, session: Session, platform: str, channel_id: str, message_id: str
) -> Interpretation | None:
    return session.exec(
        select(Interpretation).where(
            Interpretation.platform == platform,
            Interpretation.channel_id == channel_id,
            Interpretation.message_id == message_id,
        )
    ).first()


def save(*, session: Session, interpretation: Interpretation) -> Interpretation:
    """A new or changed interpretation, flushed so the figures read it."""
    session.add(interpretation)
    session.flush()
    return interpretation


def live_of_broadcast(*, session: Session, broadcast_id: int | None) -> Sequence[Interpretation]:
    """The broadcast's interpretations that are not deleted, oldest first."""
    return session.exec(
        select(Interpretation)
        .where(
            Interpretation.broadcast_id == broadcast_id, col(Interpretation.deleted_at).is_(None)
        )
        .order_by(col(Interpretation.created_at), col(Interpretation.id))
    ).all()
