"""One-time dashboard sign-in links (SPEC "Dashboard"): only a hash of each token is kept.

A link is consumed by one conditional UPDATE (unused and unexpired, in the same statement),
so two replicas given the same link at the same moment cannot both accept it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import update
from sqlmodel import Session, col, select

from store.models_dashboard import LoginLink

Refusal = Literal["unknown", "used", "expired"]


@dataclass(frozen=True)
class Consumed:
    """A link just used: who it names."""

    org_id: int
    user_platform: str
    user_id: str


def add_link(
    *,
    session: Session,
    org_id: int,
    token_hash: str,
    user_platform: str,
    user_id: str,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    session.add(
        LoginLink(
            org_id=org_id,
            token_hash=token_hash,
            user_platform=user_platform,
            user_id=user_id,
            created_at=created_at,
            expires_at=expires_at,
        )
    )
    session.flush()


def consume_link(*, session: Session, token_hash: str, now: datetime) -> Consumed | Refusal:
    """Mark the link used if it is unused and unexpired; otherwise say why not."""
    claimed = session.execute(
        update(LoginLink)
        .where(
            col(LoginLink.token_hash) == token_hash,
            col(LoginLink.used_at).is_(None),
            col(LoginLink.expires_at) > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    row = session.exec(select(LoginLink).where(col(LoginLink.token_hash) == token_hash)).first()
    if row is None:
        return "unknown"
    if getattr(claimed, "rowcount", 0) != 1:
        return "used" if row.used_at is not None else "expired"
    return Consumed(org_id=row.org_id, user_platform=row.user_platform, user_id=row.user_id)


def peek_link(*, session: Session, token_hash: str, now: datetime) -> Consumed | Refusal:
    """What consuming the link would answer, without consuming it (the page before)."""
    row = session.exec(select(LoginLink).where(col(LoginLink.token_hash) == token_hash)).first()
    if row is None:
        return "unknown"
    if row.used_at is not None:
        return "used"
    if row.expires_at <= now:
        return "expired"
    return Consumed(org_id=row.org_id, user_platform=row.user_platform, user_id=row.user_id)
