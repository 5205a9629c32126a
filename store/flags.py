"""Queries about flags: the flagged message, who flagged it, its topics."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from store.models import Broadcast, Flag, FlagFlagger, FlagTopic, Interpretation


def get(*, session: Session, flag_id: int, org_id: int | None = None) -> Flag | None:
    """The flag so numbered (only the org's own when `org_id` is given)."""
    flag = session.get(Flag, flag_id)
    if flag is None or (org_id is not None and flag.org_id != org_id):
        return None
    return flag


def by_message(
    *, session: Session, org_id: int, platform: str, channel_id: str, message_id: str
) -> Flag | None:
    return session.exec(
        select(Flag).where(
            Flag.org_id == org_id,
            Flag.platform == platform,
            Flag.channel_id == channel_id,
            Flag.message_id == message_id,
        )
    ).first()


def latest(
    *, session: Session, org_id: int, permalink: str | None = None, crm_ref: str | None = None
) -> Flag | None:
    """The org's latest flag with that permalink or CRM ref (one account may have many
    conversations: the latest one is meant)."""
    stmt = select(Flag).where(Flag.org_id == org_id)
    if permalink is not None:
        stmt = stmt.where(Flag.permalink == permalink)
    if crm_ref is not None:
        stmt = stmt.where(Flag.crm_ref == crm_ref)
    return session.exec(stmt.order_by(col(Flag.flagged_at).desc(), col(Flag.id).desc())).first()


def is_flagger(*, session: Session, flag_id: int, user_id: str) -> bool:
    stmt = select(FlagFlagger.id).where(
        FlagFlagger.flag_id == flag_id, FlagFlagger.user_id == user_id
    )
    return session.exec(stmt).first() is not None


def add_flagger(*, session: Session, flag_id: int, user_id: str, via: str, at: datetime) -> bool:
    """Someone else flagged the same message: added once; False when already there."""
    if is_flagger(session=session, flag_id=flag_id, user_id=user_id):
        return False
    session.add(FlagFlagger(flag_id=flag_id, user_id=user_id, via=via, at=at))
    return True


def add(*, session: Session, flag: Flag, topics: Iterable[str]) -> Flag:
    """A new flag with its first flagger and its topics (a unique key decides a race)."""
    session.add(flag)
    session.flush()
    assert flag.id is not None
    session.add(
        FlagFlagger(flag_id=flag.id, user_id=flag.flagger_id, via=flag.via, at=flag.flagged_at)
    )
    for topic in topics:
        session.add(FlagTopic(flag_id=flag.id, topic=topic))
    return flag


def topics(*, session: Session, flag_id: int) -> Sequence[str]:
    return session.exec(
        select(FlagTopic.topic).where(FlagTopic.flag_id == flag_id).order_by(col(FlagTopic.id))
    ).all()


def of_broadcasts(*, session: Session, ids: Collection[int]) -> dict[int, int]:
    """broadcast id -> its flag's id."""
    if not ids:
        return {}
    rows = session.exec(
        select(Broadcast.id, Broadcast.flag_id).where(col(Broadcast.id).in_(ids))
    ).all()
    return {b: f for b, f in rows if b is not None}


def of_interpretations(*, session: Session, ids: Collection[int]) -> dict[int, int]:
    """interpretation id -> its flag's id."""
    if not ids:
        return {}
    rows = session.exec(
        select(Interpretation.id, Interpretation.flag_id).where(col(Interpretation.id).in_(ids))
    ).all()
    return {i: f for i, f in rows if i is not None}


def flagger_ids(*, session: Session, flag_id: int) -> list[str]:
    """Everyone who flagged the message, the first one first."""
    stmt = (
        select(FlagFlagger.user_id)
        .where(FlagFlagger.flag_id == flag_id)
        .order_by(col(FlagFlagger.id))
    )
    return list(session.exec(stmt).all())
