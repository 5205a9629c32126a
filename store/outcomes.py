"""Queries about business outcomes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from store.models import Outcome


def add(*, session: Session, outcome: Outcome) -> Outcome:
    session.add(outcome)
    session.flush()
    return outcome


def get(*, session: Session, outcome_id: int) -> Outcome | None:
    return session.get(Outcome, outcome_id)


def of_flag(*, session: Session, flag_id: int) -> Sequence[Outcome]:
    return session.exec(
        select(Outcome).where(Outcome.flag_id == flag_id).order_by(col(Outcome.id))
    ).all()


def by_key(*, session: Session, org_id: int, key: str) -> Outcome | None:
    return session.exec(
        select(Outcome).where(Outcome.org_id == org_id, Outcome.idempotency_key == key)
    ).first()
