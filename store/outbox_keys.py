"""What the outbox already holds, asked by the due checks before they queue anything, so a
digest, reminder or escalation already queued (by this replica or another) is left alone
without trying an insert per key."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from store.models import OutboxMessage


def existing_keys(*, session: Session, keys: Iterable[str]) -> set[str]:
    """The dedupe keys among `keys` that have an outbox row, whatever its status."""
    wanted = list(keys)
    if not wanted:
        return set()
    stmt = select(OutboxMessage.dedupe_key).where(col(OutboxMessage.dedupe_key).in_(wanted))
    return set(session.exec(stmt).all())


def subjects_queued(*, session: Session, kind: str, subject_ids: Iterable[int]) -> set[int]:
    """The subjects among `subject_ids` that have an outbox row of `kind`."""
    wanted = list(subject_ids)
    if not wanted:
        return set()
    stmt = select(OutboxMessage.subject_id).where(
        OutboxMessage.kind == kind, col(OutboxMessage.subject_id).in_(wanted)
    )
    return {s for s in session.exec(stmt).all() if s is not None}
