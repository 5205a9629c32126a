"""Queries about broadcasts: one per (flag, team), and the card that carries it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from store.models import Broadcast, Team


def by_id(*, session: Session, broadcast_id: int) -> Broadcast | None:
    return session.get(Broadcast, broadcast_id)


def get(*, session: Session, org_id: int, broadcast_id: int) -> Broadcast | None:
    """The org's broadcast so numbered; never another org's."""
    broadcast = session.get(Broadcast, broadcast_id)
    return broadcast if broadcast is not None and broadcast.org_id == org_id else None


def by_card(
    *, session: Session, org_id: int, platform: str, channel_id: str, message_id: str
) -> Broadcast | None:
    """The broadcast whose card is that message (a thread root, or a reacted-to card)."""
    return session.exec(
        select(Broadcast).where(
            Broadcast.org_id == org_id,
            Broadcast.platform == platform,
            Broadcast.channel_id == channel_id,
            Broadcast.message_id == message_id,
        )
    ).first()


def is_card_thread(
    *, session: Session, org_id: int, platform: str, channel_id: str, message_id: str
) -> bool:
    stmt = select(Broadcast.id).where(
        Broadcast.org_id == org_id,
        Broadcast.platform == platform,
        Broadcast.channel_id == channel_id,
        Broadcast.message_id == message_id,
    )
    return session.exec(stmt).first() is not None


def card_channels(*, session: Session, org_id: int) -> set[tuple[str, str]]:
    """Every (platform, channel) a card of the org was posted in."""
    stmt = (
        select(Broadcast.platform, Broadcast.channel_id)
        .where(Broadcast.org_id == org_id, col(Broadcast.message_id).is_not(None))
        .distinct()
    )
    return {(p, c) for p, c in session.exec(stmt).all()}


def of_flag(*, session: Session, flag_id: int) -> Sequence[Broadcast]:
    return session.exec(
        select(Broadcast).where(Broadcast.flag_id == flag_id).order_by(col(Broadcast.id))
    ).all()


def team_ids_of_flag(*, session: Session, flag_id: int) -> Sequence[int]:
    return session.exec(select(Broadcast.team_id).where(Broadcast.flag_id == flag_id)).all()


def active_others(*, session: Session, flag_id: int, but: int | None) -> Sequence[Broadcast]:
    """The flag's other broadcasts still active (not "not for us")."""
    return session.exec(
        select(Broadcast).where(
            Broadcast.flag_id == flag_id,
            Broadcast.status == "active",
            col(Broadcast.id) != but,
        )
    ).all()


def any_active(*, session: Session, flag_id: int) -> bool:
    stmt = select(Broadcast.id).where(Broadcast.flag_id == flag_id, Broadcast.status == "active")
    return session.exec(stmt).first() is not None


def add(
    *,
    session: Session,
    org_id: int,
    flag_id: int,
    team_id: int,
    platform: str,
    channel_id: str,
    now: datetime,
) -> Broadcast:
    broadcast = Broadcast(
        org_id=org_id,
        flag_id=flag_id,
        team_id=team_id,
        platform=platform,
        channel_id=channel_id,
        created_at=now,
    )
    session.add(broadcast)
    session.flush()
    return broadcast


def active_team_names(
    *, session: Session, flag_id: int, exclude_team: int | None = None
) -> list[str]:
    """The names of the teams that still hold the flag, in the order they got it."""
    stmt = (
        select(Team.name)
        .join(Broadcast, col(Broadcast.team_id) == col(Team.id))
        .where(Broadcast.flag_id == flag_id, Broadcast.status == "active")
        .order_by(col(Broadcast.id))
    )
    if exclude_team is not None:
        stmt = stmt.where(Broadcast.team_id != exclude_team)
    return list(session.exec(stmt).all())


def active_team_keys(*, session: Session, flag_id: int) -> list[str]:
    stmt = (
        select(Team.key)
        .join(Broadcast, col(Broadcast.team_id) == col(Team.id))
        .where(Broadcast.flag_id == flag_id, Broadcast.status == "active")
        .order_by(col(Broadcast.id))
    )
    return list(session.exec(stmt).all())
