"""What /metrics reports from the database: queue rows by status, and stored totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from store.models import Broadcast, Flag, InboxEvent, Interpretation, OutboxMessage


@dataclass
class Snapshot:
    queues: dict[str, dict[str, int]] = field(default_factory=dict)  # queue -> status -> rows
    totals: dict[str, int] = field(default_factory=dict)


def snapshot(*, session: Session, org_id: int) -> Snapshot:
    shot = Snapshot()
    for name, model in (("inbox", InboxEvent), ("outbox", OutboxMessage)):
        stmt = (
            select(col(model.status), func.count())
            .where(col(model.org_id) == org_id)
            .group_by(col(model.status))
        )
        shot.queues[name] = {status: int(n) for status, n in session.exec(stmt).all()}
    counted: tuple[tuple[str, type[Flag | Broadcast | Interpretation]], ...] = (
        ("flags", Flag),
        ("broadcasts", Broadcast),
        ("interpretations", Interpretation),
    )
    for label, table in counted:
        stmt_total = select(func.count()).select_from(table).where(col(table.org_id) == org_id)
        shot.totals[label] = int(session.exec(stmt_total).one())
    return shot


@dataclass(frozen=True)
class QueueAges:
    """How far behind the queues are at `now`: the age in seconds of the oldest pending
    row (None when none is pending) and the dead rows, per queue."""

    outbox_oldest_pending: float | None = None
    outbox_dead: int = 0
    inbox_oldest_pending: float | None = None
    inbox_dead: int = 0


def _age(oldest: datetime | None, now: datetime) -> float | None:
    if oldest is None:
        return None
    if oldest.tzinfo is None:  # SQLite hands naive UTC back in some aggregate paths
        oldest = oldest.replace(tzinfo=UTC)
    return max(0.0, (now - oldest).total_seconds())


def queue_ages(*, session: Session, org_id: int, now: datetime) -> QueueAges:
    out_oldest = session.exec(
        select(func.min(col(OutboxMessage.created_at))).where(
            col(OutboxMessage.org_id) == org_id, col(OutboxMessage.status) == "pending"
        )
    ).one()
    in_oldest = session.exec(
        select(func.min(col(InboxEvent.received_at))).where(
            col(InboxEvent.org_id) == org_id, col(InboxEvent.status) == "pending"
        )
    ).one()
    dead: dict[str, int] = {}
    for name, model in (("outbox", OutboxMessage), ("inbox", InboxEvent)):
        stmt = select(func.count()).where(col(model.org_id) == org_id, col(model.status) == "dead")
        dead[name] = int(session.exec(stmt).one())
    return QueueAges(
        outbox_oldest_pending=_age(_as_time(out_oldest), now),
        outbox_dead=dead["outbox"],
        inbox_oldest_pending=_age(_as_time(in_oldest), now),
        inbox_dead=dead["inbox"],
    )


def _as_time(value: object) -> datetime | None:
    """min() over a timestamp column comes back as a datetime, or on SQLite as text."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


@dataclass(frozen=True)
class Lags:
    """Seconds from stored to done of the rows finished in the window before `now`,
    sorted (bounded by LAG_SAMPLE): the outbox's delivery lag and the inbox's handling lag."""

    outbox: list[float] = field(default_factory=list)
    inbox: list[float] = field(default_factory=list)


LAG_SAMPLE = 5000


def lags(*, session: Session, org_id: int, now: datetime, window: timedelta) -> Lags:
    since = now - window
    found: dict[str, list[float]] = {}
    pairs: tuple[tuple[str, Any, Any, Any], ...] = (
        ("outbox", OutboxMessage, OutboxMessage.created_at, OutboxMessage.done_at),
        ("inbox", InboxEvent, InboxEvent.received_at, InboxEvent.done_at),
    )
    for name, model, start, end in pairs:
        stmt = (
            select(col(start), col(end))
            .where(col(model.org_id) == org_id, col(model.status) == "done")
            .where(col(end) >= since)
            .order_by(col(end).desc())
            .limit(LAG_SAMPLE)
        )
        found[name] = sorted(
            max(0.0, (b - a).total_seconds()) for a, b in session.exec(stmt).all() if a and b
        )
    return Lags(outbox=found["outbox"], inbox=found["inbox"])
