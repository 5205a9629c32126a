"""The weekly digest's reads: one team's week (what was routed to it, what other teams said
on its flags, what others handled on its topics) and the org's week (counts, pace, themes).

Every window is half-open, [start, end), so consecutive weeks never count a moment twice.
A broadcast's time is the platform's timestamp of its posted card (METRICS "Time
figures"); a card not posted yet counts from when it was routed."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from store.models import Broadcast, Flag, FlagTopic, Interpretation, Team


def _in(column: Any, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    expr = column if isinstance(column, ColumnElement) else col(column)
    return [expr >= start, expr < end]


def _routed_at() -> ColumnElement[datetime]:
    return func.coalesce(col(Broadcast.posted_at), col(Broadcast.created_at))


def _active_flags_of(team_id: int) -> SelectOfScalar[int]:
    return select(Broadcast.flag_id).where(
        Broadcast.team_id == team_id, Broadcast.status == "active"
    )


def team_names(*, session: Session, org_id: int) -> dict[int, str]:
    """Every team's name by id, those gone from the config included (their broadcasts stay)."""
    rows = session.exec(select(Team.id, Team.name).where(Team.org_id == org_id)).all()
    return {tid: name for tid, name in rows if tid is not None}


def routed_to_team(
    *, session: Session, team_id: int, start: datetime, end: datetime
) -> list[tuple[Broadcast, Flag]]:
    """The team's active broadcasts of the window with their flags, oldest first."""
    return list(
        session.exec(
            select(Broadcast, Flag)
            .join(Flag, col(Flag.id) == col(Broadcast.flag_id))
            .where(
                Broadcast.team_id == team_id,
                Broadcast.status == "active",
                *_in(_routed_at(), start, end),
            )
            .order_by(_routed_at(), col(Broadcast.id))
        ).all()
    )


def count_routed_to_team(*, session: Session, team_id: int, start: datetime, end: datetime) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(Broadcast)
            .where(
                Broadcast.team_id == team_id,
                Broadcast.status == "active",
                *_in(_routed_at(), start, end),
            )
        ).one()
    )


def said_on_team_flags(
    *, session: Session, org_id: int, team_id: int, start: datetime, end: datetime
) -> list[tuple[Interpretation, Flag, str | None]]:
    """Interpretations of the window by anyone outside the team (another team, or no team)
    on flags routed to it, with the flag and the author's team name, oldest first."""
    stmt = (
        select(Interpretation, Flag, Team.name)
        .join(Flag, col(Flag.id) == col(Interpretation.flag_id))
        .outerjoin(Team, col(Team.id) == col(Interpretation.author_team_id))
        .where(
            Interpretation.org_id == org_id,
            col(Interpretation.deleted_at).is_(None),
            col(Interpretation.flag_id).in_(_active_flags_of(team_id)),
            or_(
                col(Interpretation.author_team_id).is_(None),
                col(Interpretation.author_team_id) != team_id,
            ),
            *_in(Interpretation.created_at, start, end),
        )
        .order_by(col(Interpretation.created_at), col(Interpretation.id))
    )
    return [(i, f, name) for i, f, name in session.exec(stmt).all()]


def handled_elsewhere(
    *,
    session: Session,
    org_id: int,
    team_id: int,
    topics: list[str],
    start: datetime,
    end: datetime,
) -> list[Flag]:
    """Flags of the window on the team's topics that were not routed to it and that someone
    answered or resolved, oldest first."""
    on_topics = select(FlagTopic.flag_id).where(col(FlagTopic.topic).in_(topics))
    replied = select(Interpretation.flag_id).where(col(Interpretation.deleted_at).is_(None))
    return list(
        session.exec(
            select(Flag)
            .where(
                Flag.org_id == org_id,
                col(Flag.id).in_(on_topics),
                col(Flag.id).not_in(_active_flags_of(team_id)),
                or_(col(Flag.id).in_(replied), col(Flag.status) == "resolved"),
                *_in(Flag.flagged_at, start, end),
            )
            .order_by(col(Flag.flagged_at), col(Flag.id))
        ).all()
    )


def topics_among(
    *, session: Session, flag_ids: list[int], topics: list[str]
) -> dict[int, list[str]]:
    """Each flag's tags among `topics`, in the order they were tagged."""
    tags: defaultdict[int, list[str]] = defaultdict(list)
    for flag_id, topic in session.exec(
        select(FlagTopic.flag_id, FlagTopic.topic)
        .where(col(FlagTopic.flag_id).in_(flag_ids), col(FlagTopic.topic).in_(topics))
        .order_by(col(FlagTopic.id))
    ).all():
        tags[flag_id].append(topic)
    return dict(tags)


def answering_teams(*, session: Session, flag_ids: list[int]) -> dict[int, list[str]]:
    """The names of the teams whose members interpreted each flag, alphabetically."""
    by: defaultdict[int, list[str]] = defaultdict(list)
    for flag_id, name in session.exec(
        select(Interpretation.flag_id, Team.name)
        .join(Team, col(Team.id) == col(Interpretation.author_team_id))
        .where(col(Interpretation.flag_id).in_(flag_ids), col(Interpretation.deleted_at).is_(None))
        .distinct()
        .order_by(col(Interpretation.flag_id), col(Team.name))
    ).all():
        by[flag_id].append(name)
    return dict(by)


def count_flags(*, session: Session, org_id: int, start: datetime, end: datetime) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(Flag)
            .where(Flag.org_id == org_id, *_in(Flag.flagged_at, start, end))
        ).one()
    )


def routed_in_org(
    *, session: Session, org_id: int, start: datetime, end: datetime
) -> list[tuple[Broadcast, Flag]]:
    """Every active broadcast of the window with its flag, oldest first."""
    return list(
        session.exec(
            select(Broadcast, Flag)
            .join(Flag, col(Flag.id) == col(Broadcast.flag_id))
            .where(
                Broadcast.org_id == org_id,
                Broadcast.status == "active",
                *_in(_routed_at(), start, end),
            )
            .order_by(_routed_at(), col(Broadcast.id))
        ).all()
    )


def count_interpretations(
    *, session: Session, org_id: int, start: datetime, end: datetime
) -> tuple[int, int]:
    """(all, cross-team) interpretations of the window, deleted ones left out."""
    total, cross = session.exec(
        select(
            func.count(),
            func.coalesce(func.sum(case((col(Interpretation.cross_team), 1), else_=0)), 0),
        ).where(
            Interpretation.org_id == org_id,
            col(Interpretation.deleted_at).is_(None),
            *_in(Interpretation.created_at, start, end),
        )
    ).one()
    return int(total), int(cross)


def top_topics(
    *, session: Session, org_id: int, start: datetime, end: datetime, limit: int = 5
) -> list[tuple[str, int, int]]:
    """(topic, flags, negative flags) for the window's most flagged topics."""
    negative = func.sum(case((col(Flag.sentiment) == "negative", 1), else_=0))
    flag_count = func.count(func.distinct(col(Flag.id)))
    rows = session.exec(
        select(FlagTopic.topic, flag_count, negative)
        .join(Flag, col(Flag.id) == col(FlagTopic.flag_id))
        .where(Flag.org_id == org_id, *_in(Flag.flagged_at, start, end))
        .group_by(col(FlagTopic.topic))
        .order_by(flag_count.desc(), col(FlagTopic.topic))
        .limit(limit)
    ).all()
    return [(topic, int(n), int(neg or 0)) for topic, n, neg in rows]
