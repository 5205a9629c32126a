"""Durable work queues in the database: the inbox (inbound events) and the outbox (side
effects). Rows are claimed with a lease by a conditional UPDATE, so on SQLite and on
PostgreSQL alike one row is worked on by one process at a time, and a row whose worker
died is taken up again when its lease runs out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, and_, case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from store.models import InboxEvent, OutboxMessage

Row = TypeVar("Row", InboxEvent, OutboxMessage)
MAX_ERROR = 500
# Inbound kinds whose payload is erased once handled: a watched channel's messages, scored
# and (unless suggested, then kept in `suggestions`) forgotten; the key stays, for retries.
FORGET_WHEN_DONE = ("watched",)


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
) -> list[Row]:
    """Lease up to `limit` due rows to `owner` and return them (attempts already counted),
    in one statement: the oldest due rows, skipped by PostgreSQL when another replica is
    claiming them at the same moment (FOR UPDATE SKIP LOCKED), so replicas never queue
    behind each other's claims; SQLite has one writer, and the conditions are checked
    again by the UPDATE either way."""
    conditions = _claimable(model, now)
    candidates = select(col(model.id)).where(and_(*conditions)).order_by(col(model.id)).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        # A CTE, evaluated once: as an IN (subquery) PostgreSQL may run it again per row
        # and lease more than `limit`.
        due = candidates.with_for_update(skip_locked=True).cte("due")
        chosen: ColumnElement[bool] = col(model.id) == due.c.id
    else:
        chosen = col(model.id).in_(candidates.scalar_subquery())
    stmt = (
        update(model)
        .where(chosen, *conditions)
        .values(lease_owner=owner, lease_until=now + lease, attempts=col(model.attempts) + 1)
        .returning(model)
        .execution_options(synchronize_session=False)
    )
    rows = list(session.scalars(stmt).all())
    session.commit()
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
) -> bool:
    """Hand a leased row back for another attempt at `at` (or bury it when `dead`);
    False when the lease was lost, so a worker that overran its lease changes nothing."""
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
    stmt = (
        update(model)
        .where(col(model.id) == row.id, col(model.lease_owner) == owner)
        .values(**values)
    )
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def next_due(session: Session, model: type[Row], *, now: datetime) -> datetime | None:
    """When the earliest unleased pending row becomes due, so an idle worker can wake for
    it (a Retry-After of 1 s is honoured in about 1 s, not at the next poll)."""
    stmt = select(func.min(col(model.next_attempt_at))).where(
        col(model.status) == "pending",
        or_(col(model.lease_until).is_(None), col(model.lease_until) < now),
    )
    value = session.execute(stmt).scalar()  # min() keeps the column type: aware UTC
    assert value is None or isinstance(value, datetime)
    return value


def _insert_new(session: Session, model: type[Row], values: dict[str, object]) -> int | None:
    """INSERT unless a row with the same dedupe_key exists (ON CONFLICT DO NOTHING, which
    SQLite and PostgreSQL share); the new id, or None. One plain statement in the caller's
    transaction: a concurrent insert of the same key waits for it, then does nothing. (A
    savepoint would not do on SQLite: opened before any write, pysqlite has no transaction
    yet, so releasing it commits on the spot and a later rollback keeps the row.)"""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(col(model.id))
    )
    new_id = session.execute(stmt).scalar()
    assert new_id is None or isinstance(new_id, int)
    return new_id


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
    transaction, so the intent commits (or rolls back) together with the state it reflects."""
    values: dict[str, object] = {
        "org_id": org_id,
        "dedupe_key": dedupe_key,
        "kind": kind,
        "platform": platform,
        "subject_id": subject_id,
        "target": target,
        "next_attempt_at": now,
        "created_at": now,
    }
    return _insert_new(session, OutboxMessage, values) is not None


_INBOX = InboxEvent.metadata.tables[str(InboxEvent.__tablename__)]
# Built once: the request path stores an event before every ack, and building the ORM
# statement again each time cost several times the INSERT itself (bench/slack_events.py).
_INBOX_INSERTS = {
    name: insert(_INBOX)
    .on_conflict_do_nothing(index_elements=["dedupe_key"])
    .returning(_INBOX.c.id)
    for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


@dataclass(frozen=True)
class InboxRow:
    org_id: int
    dedupe_key: str
    kind: str
    payload: str
    now: datetime
    leased_to: str | None = None  # stored already leased: handled in its own request
    lease: timedelta = timedelta(0)


def add_inbox_many(session: Session, rows: list[InboxRow]) -> list[int | None]:
    """Store several inbound events in the caller's transaction (one commit for a burst of
    requests); for each, its new id, or None when its key was seen before."""
    statement = _INBOX_INSERTS[session.get_bind().dialect.name]
    ids: list[int | None] = []
    for row in rows:
        values = {
            "org_id": row.org_id,
            "dedupe_key": row.dedupe_key,
            "kind": row.kind,
            "payload": row.payload,
            "next_attempt_at": row.now,
            "received_at": row.now,
        }
        if row.leased_to is not None:
            values.update(lease_owner=row.leased_to, lease_until=row.now + row.lease, attempts=1)
        new_id = session.execute(statement, values).scalar()
        assert new_id is None or isinstance(new_id, int)
        ids.append(new_id)
    return ids


def finish_many(
    session: Session, model: type[Row], ids: list[int], *, owner: str, now: datetime
) -> int:
    """Mark several leased rows done in one statement; how many were still this owner's."""
    if not ids:
        return 0
    values: dict[str, object] = {
        "status": "done",
        "lease_owner": None,
        "lease_until": None,
        "done_at": now,
    }
    if model is InboxEvent:  # words nobody flagged are not kept (SPEC "Listening": privacy)
        values["payload"] = case(
            (col(InboxEvent.kind).in_(FORGET_WHEN_DONE), "{}"), else_=col(InboxEvent.payload)
        )
    stmt = (
        update(model)
        .where(col(model.id).in_(ids), col(model.lease_owner) == owner)
        .values(**values)
    )
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def by_key(*, session: Session, dedupe_key: str) -> OutboxMessage | None:
    stmt = select(OutboxMessage).where(col(OutboxMessage.dedupe_key) == dedupe_key)
    row = session.execute(stmt).scalars().first()
    assert row is None or isinstance(row, OutboxMessage)
    return row


def pending_post(*, session: Session, broadcast_id: int | None) -> OutboxMessage | None:
    """The card_post row of a broadcast while it may still post (due later, or in flight on
    some replica); None once it is settled (done, skipped, dead) or never was."""
    stmt = select(OutboxMessage).where(
        col(OutboxMessage.kind) == "card_post",
        col(OutboxMessage.subject_id) == broadcast_id,
        col(OutboxMessage.status) == "pending",
    )
    row = session.execute(stmt).scalars().first()
    assert row is None or isinstance(row, OutboxMessage)
    return row


def renew(session: Session, row: Row, *, owner: str, now: datetime, lease: timedelta) -> bool:
    """Extend a leased row's lease before work on it starts (a row that waited behind
    others of its batch); False when it is no longer this owner's."""
    model = type(row)
    stmt = (
        update(model)
        .where(col(model.id) == row.id, col(model.lease_owner) == owner)
        .values(lease_until=now + lease)
    )
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def release(
    session: Session, model: type[Row], row_id: int, *, owner: str, at: datetime, error: str
) -> bool:
    """Hand a leased row back to the queue, due at `at` (its handling failed elsewhere)."""
    stmt = (
        update(model)
        .where(col(model.id) == row_id, col(model.lease_owner) == owner)
        .values(
            lease_owner=None, lease_until=None, next_attempt_at=at, last_error=error[:MAX_ERROR]
        )
    )
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def newer_pending(*, session: Session, row: OutboxMessage) -> bool:
    """Whether a later row of the same kind and subject waits: this one can be skipped,
    since that one will show the same state or a newer one (updates coalesce)."""
    stmt = select(col(OutboxMessage.id)).where(
        col(OutboxMessage.kind) == row.kind,
        col(OutboxMessage.subject_id) == row.subject_id,
        col(OutboxMessage.status) == "pending",
        col(OutboxMessage.id) > row.id,
    )
    return session.execute(stmt.limit(1)).first() is not None


Queue = type[InboxEvent] | type[OutboxMessage]


def rows(
    *, session: Session, model: Queue, status: str | None = None, limit: int = 100
) -> list[InboxEvent | OutboxMessage]:
    """Rows not done, oldest first (or those of one status): what an operator looks at."""
    stmt = select(model).order_by(col(model.id)).limit(limit)
    stmt = (
        stmt.where(col(model.status) == status)
        if status
        else stmt.where(col(model.status).in_(("pending", "dead")))
    )
    return list(session.execute(stmt).scalars().all())


def revive(*, session: Session, model: Queue, ids: list[int] | None, now: datetime) -> int:
    """Send dead rows again (these ids, or every dead one): due now, attempts kept, so a
    post that may have gone through is still looked for by its marker first."""
    stmt = update(model).where(col(model.status) == "dead")
    if ids is not None:
        stmt = stmt.where(col(model.id).in_(ids))
    stmt = stmt.values(status="pending", next_attempt_at=now, lease_owner=None, lease_until=None)
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def prune_inbox(*, session: Session, before: datetime, limit: int = 5_000) -> int:
    """Delete inbound events handled before `before` (their payloads hold the customer's
    words as the platform sent them); what is pending or dead stays. A platform's retries
    come within minutes, so the de-duplication keys are not needed for days."""
    old = (
        select(col(InboxEvent.id))
        .where(col(InboxEvent.status) == "done", col(InboxEvent.done_at) < before)
        .limit(limit)
    )
    ids = list(session.execute(old).scalars().all())
    if not ids:
        return 0
    session.execute(delete(InboxEvent).where(col(InboxEvent.id).in_(ids)))
    return len(ids)


def renew_many(
    session: Session, model: type[Row], ids: list[int], *, owner: str, until: datetime
) -> int:
    """Extend the leases this owner still holds on these rows (a heartbeat)."""
    if not ids:
        return 0
    stmt = (
        update(model)
        .where(col(model.id).in_(ids), col(model.lease_owner) == owner)
        .values(lease_until=until)
    )
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def release_many(
    session: Session, model: type[Row], ids: list[int], *, owner: str, at: datetime, error: str
) -> int:
    """Hand leased rows back untried, due at `at` (their attempt is not counted)."""
    if not ids:
        return 0
    stmt = (
        update(model)
        .where(col(model.id).in_(ids), col(model.lease_owner) == owner)
        .values(
            lease_owner=None,
            lease_until=None,
            next_attempt_at=at,
            attempts=col(model.attempts) - 1,
            last_error=error[:MAX_ERROR],
        )
    )
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]
