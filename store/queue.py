"""Durable work queues in the database: the inbox (inbound events) and the outbox (side
effects). Rows are claimed with a lease by a conditional UPDATE, so on SQLite and on
PostgreSQL alike one row is worked on by one process at a time, and a row whose worker
died is taken up again when its lease runs out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from store.models import InboxEvent, OutboxMessage

Row = TypeVar("Row", InboxEvent, OutboxMessage)
MAX_ERROR = 500


def _claimable(model: type[Row], now: datetime) -> list[ColumnElement[bool]]:
    return [
        col(model.status) == "pending",
        col(model.next_attempt_at) <= now,
        or_(col(model.lease_until).is_(None), col(model.lease_until) < now),
    ]


def claim(
    session: Session,
    model: type[Row],
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int = 20,
    only_id: int | None = None,
) -> list[Row]:
    """Lease up to `limit` due rows to `owner` and return them (attempts already counted)."""
    conditions = _claimable(model, now)
    if only_id is not None:
        conditions.append(col(model.id) == only_id)
    candidates = select(col(model.id)).where(and_(*conditions)).order_by(col(model.id)).limit(limit)
    ids = list(session.exec(candidates).scalars().all())  # type: ignore[call-overload]
    if not ids:
        return []
    stmt = (
        update(model)
        .where(col(model.id).in_(ids), *conditions)
        .values(lease_owner=owner, lease_until=now + lease, attempts=col(model.attempts) + 1)
        .returning(col(model.id))
    )
    claimed = list(session.execute(stmt).scalars().all())
    session.commit()
    if not claimed:
        return []
    rows = session.exec(select(model).where(col(model.id).in_(claimed))).scalars().all()  # type: ignore[call-overload]
    return sorted(rows, key=lambda r: r.id or 0)


def finish(
    session: Session,
    row: Row,
    *,
    owner: str,
    now: datetime,
    status: str = "done",
    result_id: str | None = None,
) -> bool:
    """Mark a leased row finished; False when the lease was lost to another worker."""
    values: dict[str, object] = {
        "status": status,
        "lease_owner": None,
        "lease_until": None,
        "done_at": now,
    }
    if isinstance(row, OutboxMessage):
        values["result_id"] = result_id
    model = type(row)
    stmt = (
        update(model)
        .where(col(model.id) == row.id, col(model.lease_owner) == owner)
        .values(**values)
    )
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def retry_later(
    session: Session,
    row: Row,
    *,
    owner: str,
    at: datetime,
    error: str,
    ambiguous: bool = False,
    dead: bool = False,
) -> None:
    values: dict[str, object] = {
        "lease_owner": None,
        "lease_until": None,
        "next_attempt_at": at,
        "last_error": error[:MAX_ERROR],
        "status": "dead" if dead else "pending",
    }
    if isinstance(row, OutboxMessage) and ambiguous:
        values["ambiguous"] = True
    model = type(row)
    session.execute(
        update(model)
        .where(col(model.id) == row.id, col(model.lease_owner) == owner)
        .values(**values)
    )


def enqueue_outbox(
    session: Session,
    *,
    org_id: int,
    dedupe_key: str,
    kind: str,
    platform: str,
    now: datetime,
    subject_id: int | None = None,
    target: str = "{}",
) -> bool:
    """Add a side effect unless one with the same key exists. Runs inside the caller's
    transaction (a savepoint), so the intent commits together with the state it reflects."""
    if session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)).first():  # type: ignore[call-overload]
        return False
    row = OutboxMessage(
        org_id=org_id,
        dedupe_key=dedupe_key,
        kind=kind,
        platform=platform,
        subject_id=subject_id,
        target=target,
        next_attempt_at=now,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def add_inbox(
    session: Session, *, org_id: int, dedupe_key: str, kind: str, payload: str, now: datetime
) -> int | None:
    """Store an inbound event; None when it was seen before (a platform redelivery)."""
    row = InboxEvent(
        org_id=org_id,
        dedupe_key=dedupe_key,
        kind=kind,
        payload=payload,
        next_attempt_at=now,
        received_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row.id
