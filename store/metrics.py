"""What /metrics reports from the database: queue rows by status, and stored totals."""

from __future__ import annotations

from dataclasses import dataclass, field

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
