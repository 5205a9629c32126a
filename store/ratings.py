"""Queries about ratings: one per (flag, flagger)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from store.models import Rating


def upsert(
    *, session: Session, org_id: int, flag_id: int, user_id: str, score: int, at: datetime
) -> None:
    """A new press replaces the old score in one statement on the unique key, so two quick
    presses never leave two rows; an older press never wins over a newer one."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(Rating).values(
        org_id=org_id, flag_id=flag_id, user_id=user_id, score=score, at=at
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["flag_id", "user_id"],
        set_={"score": stmt.excluded.score, "at": stmt.excluded.at},
        where=col(Rating.at) <= stmt.excluded.at,
    )
    session.execute(stmt)


def of_flag(*, session: Session, flag_id: int) -> Sequence[Rating]:
    return session.exec(
        select(Rating).where(Rating.flag_id == flag_id).order_by(col(Rating.id))
    ).all()
