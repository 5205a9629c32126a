"""The aggregate queries behind /roi (METRICS.md): every count, sum and percentile is computed
by the database over indexed ranges, so a report costs a handful of queries whatever the
number of flags, and the Python above only divides the totals.

A `Scope` is one window of flags: those flagged in [start, end), optionally only those
broadcast to one team or tagged with given topics. Judgements that depend on the moment
("unanswered past the SLA", "older than 7 days") are made at `as_of`, the end of the window
or now, whichever comes first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    or_,
    select,
    text,
    true,
)
from sqlmodel import Session, SQLModel

import store.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from store.reports_percentile import percentiles
from store.types import UtcDateTime

_T = SQLModel.metadata.tables
FLAGS: Table = _T["flags"]
BROADCASTS: Table = _T["broadcasts"]
INTERPS: Table = _T["interpretations"]
TOPICS: Table = _T["flag_topics"]
OUTCOMES: Table = _T["outcomes"]
RATINGS: Table = _T["ratings"]
TEAMS: Table = _T["teams"]
MEMBERS: Table = _T["members"]
F, B, IT = FLAGS.c, BROADCASTS.c, INTERPS.c
CLOSED_AFTER = timedelta(days=7)  # METRICS C6: "flags older than 7 days"

Row = dict[str, Any]


def begin_report(session: Session) -> None:
    """A report is a dozen short aggregate queries whose estimated costs (correlated
    subqueries) make PostgreSQL JIT-compile each one, which takes longer than running
    it; this transaction does without."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


@dataclass(frozen=True)
class Scope:
    org_id: int
    start: datetime
    end: datetime
    as_of: datetime
    team_id: int | None = None
    topics: tuple[str, ...] | None = None  # None: every flag; else flags with one of these


def count_if(cond: ColumnElement[bool]) -> ColumnElement[Any]:
    """How many rows meet `cond` (0 over no rows, on both stores)."""
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def within(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def _topics(flag_id: Any, topics: Sequence[str]) -> ColumnElement[bool]:
    if not topics:
        return false()
    return exists().where(TOPICS.c.flag_id == flag_id, TOPICS.c.topic.in_(topics))


def _routed_to(flag_id: Any, team_id: int) -> ColumnElement[bool]:
    """The flag is on the team's figures: broadcast to it, and not sent back."""
    b = BROADCASTS.alias("routed").c
    return exists().where(b.flag_id == flag_id, b.team_id == team_id, b.status == "active")


def flag_where(s: Scope, *, team: bool = True) -> list[ColumnElement[bool]]:
    """The scope's flags (conditions on FLAGS); `team=False` when the caller already joins
    the team's broadcasts itself."""
    conds = [F.org_id == s.org_id, within(F.flagged_at, s.start, s.end)]
    if team and s.team_id is not None:
        conds.append(_routed_to(F.id, s.team_id))
    if s.topics is not None:
        conds.append(_topics(F.id, s.topics))
    return conds


def human_reply() -> ColumnElement[bool]:
    """A live interpretation in a broadcast thread: a human who is not the flagger (bots'
    and the flagger's messages are never stored with a broadcast)."""
    return and_(IT.deleted_at.is_(None), IT.broadcast_id.is_not(None))


def flag_summary(
    session: Session, s: Scope, linked_topics: Sequence[str], team_ids: Sequence[int]
) -> Row:
    """Counts over the scope's flags in one pass: everything METRICS divides by "flags".
    `linked_topics` are the objectives' topics; `team_ids` the teams that count as flagging
    teams (the active ones)."""
    # The cross-team first response is kept on the broadcast from the live, human,
    # cross-team replies in its thread (bot.handlers.timing); a reply implies a post.
    answered = exists().where(B.flag_id == F.id, B.cross_first_response_at.is_not(None))
    posted = exists().where(B.flag_id == F.id, B.posted_at.is_not(None))
    closed = or_(F.status == "resolved", exists().where(OUTCOMES.c.flag_id == F.id))
    older = F.flagged_at < s.as_of - CLOSED_AFTER
    teams = case((F.flagger_team_id.in_(team_ids), F.flagger_team_id))
    stmt = select(
        func.count().label("flags"),
        count_if(answered).label("answered"),
        count_if(F.status == "resolved").label("resolved"),
        count_if(F.crm_ref.is_not(None)).label("crm"),
        count_if(F.is_public.is_(true())).label("public"),
        count_if(F.sentiment == "positive").label("positive"),
        count_if(F.sentiment == "neutral").label("neutral"),
        count_if(F.sentiment == "negative").label("negative"),
        count_if(posted).label("broadcast"),
        count_if(older).label("older"),
        count_if(and_(older, closed)).label("older_closed"),
        count_if(or_(F.crm_ref.is_not(None), _topics(F.id, linked_topics))).label("linked"),
        func.count(teams.distinct()).label("flagging_teams"),
    ).where(*flag_where(s))
    return {k: int(v) for k, v in session.execute(stmt).one()._mapping.items()}


def flag_counts(session: Session, s: Scope) -> Row:
    """Only flags, answered and resolved: what an objective's KPI needs, cheaply."""
    answered = exists().where(B.flag_id == F.id, B.cross_first_response_at.is_not(None))
    stmt = select(
        func.count().label("flags"),
        count_if(answered).label("answered"),
        count_if(F.status == "resolved").label("resolved"),
    ).where(*flag_where(s))
    return {k: int(v) for k, v in session.execute(stmt).one()._mapping.items()}


def _broadcasts(s: Scope, *columns: Any) -> Any:
    """The scope's live broadcasts (a team's "not for us" takes the flag off its figures)."""
    stmt = (
        select(*columns)
        .select_from(BROADCASTS.join(FLAGS, F.id == B.flag_id))
        .where(*flag_where(s, team=False), B.status == "active")
    )
    return stmt.where(B.team_id == s.team_id) if s.team_id is not None else stmt


TIME_COLUMNS = (
    "tta_seconds",
    "tta_business_seconds",
    "ttfr_seconds",
    "ttfr_business_seconds",
    "cross_ttfr_seconds",
    "cross_ttfr_business_seconds",
)


def time_quantiles(
    session: Session, s: Scope, columns: Sequence[str] = TIME_COLUMNS
) -> dict[str, tuple[float | None, ...]]:
    """p50 and p90 of response times over the scope's broadcasts."""
    base = _broadcasts(s, *(B[c] for c in columns))
    return percentiles(session, base, columns).get(None, dict.fromkeys(columns, (None, None)))


def ttr_quantiles(session: Session, s: Scope) -> dict[str, tuple[float | None, ...]]:
    """p50 and p90 of the time to resolution, one value per flag however many teams it
    reached."""
    columns = ("ttr_seconds", "ttr_business_seconds")
    base = select(F.ttr_seconds, F.ttr_business_seconds).where(*flag_where(s))
    return percentiles(session, base, columns).get(None, dict.fromkeys(columns, (None, None)))


def team_ttfr(session: Session, s: Scope) -> dict[int, tuple[float | None, ...]]:
    base = _broadcasts(s, B.team_id, B.ttfr_seconds)
    rows = percentiles(session, base, ("ttfr_seconds",), group="team_id")
    return {int(k): v["ttfr_seconds"] for k, v in rows.items()}


def _cut(cutoffs: Mapping[int, datetime]) -> Any:
    """Each team's cutoff instant, chosen in SQL by the broadcast's team."""
    whens = {tid: bindparam(None, at, type_=UtcDateTime()) for tid, at in cutoffs.items()}
    return case(whens, value=B.team_id, else_=None) if whens else None


def team_sla(
    session: Session,
    s: Scope,
    wall_cutoffs: Mapping[int, datetime],
    business_cutoffs: Mapping[int, datetime],
) -> dict[int, Row]:
    """Per team: flags broadcast to it, and SLA met/due counts. Due = answered, or still
    unanswered at `as_of` and posted before the team's cutoff (as_of minus its SLA, in
    wall-clock or business time). "sla" is the plain first response on the wall clock;
    "c5" is METRICS C5: the cross-team first response in business hours."""
    sla = TEAMS.c.sla_seconds
    wall, business = _cut(wall_cutoffs), _cut(business_cutoffs)
    never = false()
    stmt = (
        _broadcasts(
            s,
            B.team_id,
            func.count().label("flags"),
            count_if(B.ttfr_seconds <= sla).label("sla_met"),
            count_if(
                or_(B.ttfr_seconds.is_not(None), B.posted_at < wall if wall is not None else never)
            ).label("sla_due"),
            count_if(B.cross_ttfr_business_seconds <= sla).label("c5_met"),
            count_if(
                or_(
                    B.cross_ttfr_business_seconds.is_not(None),
                    B.posted_at < business if business is not None else never,
                )
            ).label("c5_due"),
        )
        .join(TEAMS, TEAMS.c.id == B.team_id)
        .group_by(B.team_id)
    )
    rows = session.execute(stmt).all()
    return {int(r.team_id): {k: int(v) for k, v in r._mapping.items()} for r in rows}


def ratings(session: Session, s: Scope) -> Row:
    r = RATINGS.c
    stmt = (
        select(
            func.count().label("count"),
            func.coalesce(func.sum(r.score), 0).label("total"),
            count_if(r.score >= 4).label("satisfied"),
        )
        .select_from(RATINGS.join(FLAGS, F.id == r.flag_id))
        .where(*flag_where(s))
    )
    return {k: int(v) for k, v in session.execute(stmt).one()._mapping.items()}


def _flag_scope(flag_id: Any, s: Scope) -> list[ColumnElement[bool]]:
    """Rows of other tables whose flag is in the scope's team or topics (not its window)."""
    conds: list[ColumnElement[bool]] = []
    if s.team_id is not None:
        conds.append(_routed_to(flag_id, s.team_id))
    if s.topics is not None:
        conds.append(_topics(flag_id, s.topics))
    return conds


def outcome_totals(session: Session, s: Scope) -> list[tuple[str, str, float, int]]:
    """(kind, currency, total amount, outcomes) recorded in the window."""
    o = OUTCOMES.c
    stmt = (
        select(o.kind, o.currency, func.sum(o.amount), func.count())
        .where(o.org_id == s.org_id, within(o.created_at, s.start, s.end))
        .where(*_flag_scope(o.flag_id, s))
        .group_by(o.kind, o.currency)
        .order_by(o.kind, o.currency)
    )
    return [(k, c, float(t), int(n)) for k, c, t, n in session.execute(stmt).all()]


def interpretation_count(session: Session, s: Scope) -> int:
    """Interpretations written in the window (program cost: the time people spent)."""
    stmt = select(func.count()).where(
        IT.org_id == s.org_id, within(IT.created_at, s.start, s.end), IT.deleted_at.is_(None)
    )
    if s.team_id is not None:
        stmt = stmt.where(
            exists().where(B.id == IT.broadcast_id, B.team_id == s.team_id, B.status == "active")
        )
    if s.topics is not None:
        stmt = stmt.where(_topics(IT.flag_id, s.topics))
    return int(session.execute(stmt).scalar_one())


@dataclass(frozen=True)
class TeamInfo:
    id: int
    key: str
    sla_seconds: float
    timezone: str
    business_hours: str
    active: bool
    size: int  # distinct people, whichever source listed them


def org_teams(session: Session, org_id: int) -> list[TeamInfo]:
    m = MEMBERS.c
    people = (
        select(m.team_id, m.platform, m.user_id).where(m.org_id == org_id).distinct().subquery()
    )
    t = TEAMS.c
    stmt = (
        select(
            t.id,
            t.key,
            t.sla_seconds,
            t.timezone,
            t.business_hours,
            t.active,
            func.count(people.c.user_id).label("size"),
        )
        .select_from(TEAMS.outerjoin(people, people.c.team_id == t.id))
        .where(t.org_id == org_id)
        .group_by(t.id, t.key, t.sla_seconds, t.timezone, t.business_hours, t.active)
        .order_by(t.id)
    )
    return [
        TeamInfo(
            r.id, r.key, float(r.sla_seconds), r.timezone, r.business_hours, bool(r.active), r.size
        )
        for r in session.execute(stmt).all()
    ]
