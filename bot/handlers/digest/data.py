"""What a weekly digest is made of, read from the database for one ISO week.

Team-week figures are small (one team's broadcasts in one week), so they are fetched with
plain SQL and summarised here; org-wide network figures and the maturity score come from
the /roi figures engine (see digest_figures)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.core.timecalc import BusinessHours, business_seconds, percentile
from store.models import Broadcast, Flag, FlagTopic, Interpretation, Team

EXCERPT = 90
SAID = 160


@cache
def _hours(text: str) -> BusinessHours:
    return BusinessHours.parse(text)


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class FlagLine:
    flag_id: int
    excerpt: str
    permalink: str | None
    since: datetime
    team: str | None = None


@dataclass(frozen=True)
class Said:
    team: str
    platform: str
    author_id: str
    text: str
    excerpt: str
    permalink: str | None


@dataclass(frozen=True)
class Handled:
    excerpt: str
    permalink: str | None
    topics: tuple[str, ...]
    by: tuple[str, ...]
    resolved: bool


@dataclass(frozen=True)
class TeamWeek:
    key: str
    name: str
    week: str
    sla_seconds: float
    routed: int
    answered: int
    unanswered: tuple[FlagLine, ...]
    said: tuple[Said, ...]
    handled: tuple[Handled, ...]
    ttfr_p50: float | None  # business seconds, the clock the SLA runs on
    within_sla: int
    due: int

    @property
    def quiet(self) -> bool:
        """Nothing routed to the team, nothing said on its flags, nothing on its topics."""
        return self.routed == 0 and not self.said and not self.handled


@dataclass(frozen=True)
class TeamPace:
    name: str
    p50: float
    answered: int


@dataclass(frozen=True)
class Theme:
    topic: str
    flags: int
    negative: int


@dataclass(frozen=True)
class OrgWeek:
    week: str
    flags: int
    broadcasts: int
    answered: int
    interpretations: int
    cross_team: int
    unanswered: tuple[FlagLine, ...]
    pace: tuple[TeamPace, ...]  # fastest first
    themes: tuple[Theme, ...]

    @property
    def quiet(self) -> bool:
        return self.flags == 0 and self.broadcasts == 0 and self.interpretations == 0


def _in(column: Any, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    """Half-open [start, end): consecutive weeks never count a moment twice."""
    expr = column if isinstance(column, ColumnElement) else col(column)
    return [expr >= start, expr < end]


def _routed_at() -> ColumnElement[datetime]:
    """A broadcast's time is the platform's timestamp of its posted card (METRICS "Time
    figures"); a card not posted yet counts from when it was routed."""
    return func.coalesce(col(Broadcast.posted_at), col(Broadcast.created_at))


def _active_flags_of(team_id: int) -> SelectOfScalar[int]:
    return select(Broadcast.flag_id).where(
        Broadcast.team_id == team_id, Broadcast.status == "active"
    )


def _past_sla(b: Broadcast, team: Team, now: datetime) -> bool:
    if b.posted_at is None:
        return False
    spent = business_seconds(b.posted_at, now, _hours(team.business_hours), ZoneInfo(team.timezone))
    return spent > team.sla_seconds


def team_topics(team_key: str, routes: list[tuple[list[str], list[str]]]) -> list[str]:
    """A team's topics: its key (every flag that reaches a team carries it) and the tags of
    the routing rules that send flags to it. `routes` holds (teams, topics) per rule."""
    topics = [team_key]
    for teams, tags in routes:
        if team_key in teams:
            topics += [t for t in tags if t not in topics]
    return topics


def _team_names(session: Session, org_id: int) -> dict[int, str]:
    rows = session.exec(select(Team.id, Team.name).where(Team.org_id == org_id)).all()
    return {tid: name for tid, name in rows if tid is not None}


def _said(session: Session, team: Team, start: datetime, end: datetime) -> list[Said]:
    stmt = (
        select(Interpretation, Flag, Team.name)
        .join(Flag, col(Flag.id) == col(Interpretation.flag_id))
        .outerjoin(Team, col(Team.id) == col(Interpretation.author_team_id))
        .where(
            Interpretation.org_id == team.org_id,
            col(Interpretation.deleted_at).is_(None),
            col(Interpretation.flag_id).in_(_active_flags_of(team.id or 0)),
            or_(
                col(Interpretation.author_team_id).is_(None),
                col(Interpretation.author_team_id) != team.id,
            ),
            *_in(Interpretation.created_at, start, end),
        )
        .order_by(col(Interpretation.created_at), col(Interpretation.id))
    )
    return [
        Said(
            team=name or "outside any team",
            platform=i.platform,
            author_id=i.author_id,
            text=clip(i.text, SAID),
            excerpt=clip(f.excerpt, EXCERPT),
            permalink=f.permalink,
        )
        for i, f, name in session.exec(stmt).all()
    ]


def _handled(
    session: Session, team: Team, topics: list[str], start: datetime, end: datetime
) -> list[Handled]:
    on_topics = select(FlagTopic.flag_id).where(col(FlagTopic.topic).in_(topics))
    replied = select(Interpretation.flag_id).where(col(Interpretation.deleted_at).is_(None))
    flags = session.exec(
        select(Flag)
        .where(
            Flag.org_id == team.org_id,
            col(Flag.id).in_(on_topics),
            col(Flag.id).not_in(_active_flags_of(team.id or 0)),
            or_(col(Flag.id).in_(replied), col(Flag.status) == "resolved"),
            *_in(Flag.flagged_at, start, end),
        )
        .order_by(col(Flag.flagged_at), col(Flag.id))
    ).all()
    ids = [f.id for f in flags]
    tags: defaultdict[int, list[str]] = defaultdict(list)
    for flag_id, topic in session.exec(
        select(FlagTopic.flag_id, FlagTopic.topic)
        .where(col(FlagTopic.flag_id).in_(ids), col(FlagTopic.topic).in_(topics))
        .order_by(col(FlagTopic.id))
    ).all():
        tags[flag_id].append(topic)
    by: defaultdict[int, list[str]] = defaultdict(list)
    for flag_id, name in session.exec(
        select(Interpretation.flag_id, Team.name)
        .join(Team, col(Team.id) == col(Interpretation.author_team_id))
        .where(col(Interpretation.flag_id).in_(ids), col(Interpretation.deleted_at).is_(None))
        .distinct()
        .order_by(col(Interpretation.flag_id), col(Team.name))
    ).all():
        by[flag_id].append(name)
    return [
        Handled(
            excerpt=clip(f.excerpt, EXCERPT),
            permalink=f.permalink,
            topics=tuple(tags[f.id or 0]),
            by=tuple(by[f.id or 0]),
            resolved=f.status == "resolved",
        )
        for f in flags
    ]


def team_week(
    session: Session,
    team: Team,
    *,
    topics: list[str],
    week: str,
    start: datetime,
    end: datetime,
    now: datetime,
) -> TeamWeek:
    rows = session.exec(
        select(Broadcast, Flag)
        .join(Flag, col(Flag.id) == col(Broadcast.flag_id))
        .where(
            Broadcast.team_id == team.id,
            Broadcast.status == "active",
            *_in(_routed_at(), start, end),
        )
        .order_by(_routed_at(), col(Broadcast.id))
    ).all()
    answered = [b for b, _ in rows if b.first_response_at is not None]
    waiting = [
        (b, f)
        for b, f in rows
        if b.first_response_at is None and f.status not in ("resolved", "dismissed")
    ]
    times = [b.ttfr_business_seconds for b in answered if b.ttfr_business_seconds is not None]
    within = sum(1 for t in times if t <= team.sla_seconds)
    missed = sum(1 for b, _ in waiting if _past_sla(b, team, now))
    return TeamWeek(
        key=team.key,
        name=team.name,
        week=week,
        sla_seconds=team.sla_seconds,
        routed=len(rows),
        answered=len(answered),
        unanswered=tuple(
            FlagLine(f.id or 0, clip(f.excerpt, EXCERPT), f.permalink, b.posted_at or b.created_at)
            for b, f in waiting
        ),
        said=tuple(_said(session, team, start, end)),
        handled=tuple(_handled(session, team, topics, start, end)),
        ttfr_p50=percentile(times, 0.5),
        within_sla=within,
        due=len(times) + missed,
    )


def is_quiet(
    session: Session, team: Team, *, topics: list[str], start: datetime, end: datetime
) -> bool:
    """The cheap test the due check runs every minute: no broadcast to the team, no other
    team's interpretation on its flags, nothing handled on its topics."""
    routed = session.exec(
        select(func.count())
        .select_from(Broadcast)
        .where(
            Broadcast.team_id == team.id,
            Broadcast.status == "active",
            *_in(_routed_at(), start, end),
        )
    ).one()
    if routed:
        return False
    return not _said(session, team, start, end) and not _handled(session, team, topics, start, end)


def org_week(
    session: Session, org_id: int, *, week: str, start: datetime, end: datetime
) -> OrgWeek:
    names = _team_names(session, org_id)
    flags = session.exec(
        select(func.count())
        .select_from(Flag)
        .where(Flag.org_id == org_id, *_in(Flag.flagged_at, start, end))
    ).one()
    rows = session.exec(
        select(Broadcast, Flag)
        .join(Flag, col(Flag.id) == col(Broadcast.flag_id))
        .where(
            Broadcast.org_id == org_id,
            Broadcast.status == "active",
            *_in(_routed_at(), start, end),
        )
        .order_by(_routed_at(), col(Broadcast.id))
    ).all()
    per_team: defaultdict[int, list[float]] = defaultdict(list)
    for b, _ in rows:
        if b.ttfr_business_seconds is not None:
            per_team[b.team_id].append(b.ttfr_business_seconds)
    pace = sorted(
        (
            TeamPace(names.get(tid, "?"), percentile(values, 0.5) or 0.0, len(values))
            for tid, values in per_team.items()
        ),
        key=lambda p: (p.p50, p.name),
    )
    interp_total, interp_cross = session.exec(
        select(
            func.count(),
            func.coalesce(func.sum(case((col(Interpretation.cross_team), 1), else_=0)), 0),
        ).where(
            Interpretation.org_id == org_id,
            col(Interpretation.deleted_at).is_(None),
            *_in(Interpretation.created_at, start, end),
        )
    ).one()
    negative = func.sum(case((col(Flag.sentiment) == "negative", 1), else_=0))
    flag_count = func.count(func.distinct(col(Flag.id)))
    themes = session.exec(
        select(FlagTopic.topic, flag_count, negative)
        .join(Flag, col(Flag.id) == col(FlagTopic.flag_id))
        .where(Flag.org_id == org_id, *_in(Flag.flagged_at, start, end))
        .group_by(col(FlagTopic.topic))
        .order_by(flag_count.desc(), col(FlagTopic.topic))
        .limit(5)
    ).all()
    return OrgWeek(
        week=week,
        flags=int(flags),
        broadcasts=len(rows),
        answered=sum(1 for b, _ in rows if b.first_response_at is not None),
        interpretations=int(interp_total),
        cross_team=int(interp_cross),
        unanswered=tuple(
            FlagLine(
                f.id or 0,
                clip(f.excerpt, EXCERPT),
                f.permalink,
                b.posted_at or b.created_at,
                names.get(b.team_id),
            )
            for b, f in rows
            if b.first_response_at is None and f.status not in ("resolved", "dismissed")
        ),
        pace=tuple(pace),
        themes=tuple(Theme(t, int(n), int(neg or 0)) for t, n, neg in themes),
    )
