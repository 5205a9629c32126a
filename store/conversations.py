"""Stored conversation references: where the bot may post proactively in Teams.

A reference is written when the bot is added to a team and refreshed from any activity
in a channel, so broadcasts, digests and nudges reach a channel from any replica, after
any restart. Only authenticated activities from a claimed tenant ever get here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from store.models import ConversationRef

TEAMS = "teams"


def save_reference(
    session: Session,
    *,
    org_id: int,
    tenant_id: str,
    team_id: str | None,
    channel_id: str,
    service_url: str,
    reference: str,
    now: datetime,
) -> None:
    """Insert or refresh the reference of one channel (one statement, race-free: two
    replicas seeing the same install both end with one row)."""
    values: dict[str, object] = {
        "org_id": org_id,
        "platform": TEAMS,
        "tenant_id": tenant_id,
        "team_id": team_id,
        "channel_id": channel_id,
        "service_url": service_url,
        "reference": reference,
        "updated_at": now,
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(ConversationRef).values(**values)
    changed = {k: v for k, v in values.items() if k not in ("org_id", "platform", "channel_id")}
    if team_id is None:
        changed.pop("team_id")  # a reference without team context keeps the one it had
    stmt = stmt.on_conflict_do_update(
        index_elements=["org_id", "platform", "channel_id"], set_=changed
    )
    session.execute(stmt)


def get_reference(session: Session, *, org_id: int, channel_id: str) -> ConversationRef | None:
    return session.exec(
        select(ConversationRef).where(
            ConversationRef.org_id == org_id,
            ConversationRef.platform == TEAMS,
            ConversationRef.channel_id == channel_id,
        )
    ).first()


def latest_reference(
    session: Session,
    *,
    org_id: int,
    tenant_id: str | None = None,
    team_id: str | None = None,
) -> ConversationRef | None:
    """The most recently refreshed reference (of a tenant, of a team): its service URL and
    tenant reach any channel of a team the bot is in, and any user for a direct message."""
    stmt = select(ConversationRef).where(
        ConversationRef.org_id == org_id, ConversationRef.platform == TEAMS
    )
    if tenant_id is not None:
        stmt = stmt.where(ConversationRef.tenant_id == tenant_id)
    if team_id is not None:
        stmt = stmt.where(ConversationRef.team_id == team_id)
    stmt = stmt.order_by(col(ConversationRef.updated_at).desc(), col(ConversationRef.id).desc())
    return session.exec(stmt).first()


def references(session: Session, *, org_id: int) -> list[ConversationRef]:
    stmt = (
        select(ConversationRef)
        .where(ConversationRef.org_id == org_id, ConversationRef.platform == TEAMS)
        .order_by(col(ConversationRef.id))
    )
    return list(session.exec(stmt).all())
