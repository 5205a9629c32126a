"""The aggregate queries behind /roi (METRICS.md): every count, sum and percentile is computed
by the database over indexed ranges, so a report costs a handful of queries whatever the
number of flags, and the Python above only divides the totals.

A `Scope` is one window of flags: those flagged in [start, end), optionally only those
broadcast to one team or tagged with given topics. Judgements that depend on the moment
("unanswered past the SLA", "older than 7 days") are made at `as_of`, the end of the window
or now, whichever comes first.

A report looks at several windows (the period, the one before, the maturity and objective
windows); each query here takes all of them and reads the rows once, over the span that
covers them, with one conditional aggregate per window (`count_if(in_scope(...))`), so the
number of statements does not grow with the windows.
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


def begin_report(*, session: Session) -> None:
    """A report is a few aggregate queries whose estimated costs (correlated subqueries)
    make PostgreSQL JIT-compile each one, which takes longer than running it; this
    transaction does without."""
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


def span(column: Any, scopes: Sequence[Scope]) -> ColumnElement[bool]:
    """The range that covers every scope's window (the rows a multi-window query reads)."""
    return within(column, min(s.start for s in scopes), max(s.end for s in scopes))


def common_team(scopes: Sequence[Scope]) -> int | None:
    """The team every scope is about, if they all are about the same one."""
    teams = {s.team_id for s in scopes}
    return teams.pop() if len(teams) == 1 else None


def topics_of(flag_id: Any, topics: Sequence[str]) -> ColumnElement[bool]:
    if not topics:
        return false()
    return exists().where(TOPICS.c.flag_id == flag_id, TOPICS.c.topic.in_(topics))


def routed_to(flag_id: Any, team_id: int) -> ColumnElement[bool]:
    """The flag is on the team's figures: broadcast to it, and not sent back."""
    b = BROADCASTS.alias("routed").c
    return exists().where(b.flag_id == flag_id, b.team_id == team_id, b.status == "active")


def flag_in(s: Scope, *, team: Any = None) -> ColumnElement[bool]:
    """A row's flag is in the scope: its window, its topics, and its team (by `team`, the
    row's own broadcast team when there is one, else through the flag's broadcasts)."""
    conds = [within(F.flagged_at, s.start, s.end)]
    if s.team_id is not None:
        conds.append(team == s.team_id if team is not None else routed_to(F.id, s.team_id))
    if s.topics is not None:
        conds.append(topics_of(F.id, s.topics))
    return and_(*conds)


def flag_rows(scopes: Sequence[Scope]) -> list[ColumnElement[bool]]:
    """WHERE terms for the flags any of the scopes may count."""
    conds = [F.org_id == scopes[0].org_id, span(F.flagged_at, scopes)]
    if (team := common_team(scopes)) is not None:
        conds.append(routed_to(F.id, team))
    return conds


def human_reply() -> ColumnElement[bool]:
    """A live interpretation in a broadcast thread: a human who is not the flagger (bots'
    and the flagger's messages are never stored with a broadcast)."""
    return and_(IT.deleted_at.is_(None), IT.broadcast_id.is_not(None))


SUMMARY_KEYS = (
    "flags",
    "answered",
    "resolved",
    "crm",
    "public",
    "positive",
    "neutral",
    "negative",
    "broadcast",
    "older",
    "older_closed",
    "linked",
    "flagging_teams",
)


def _summary(s: Scope, linked_topics: Sequence[str], team_ids: Sequence[int]) -> Any:
    """One scope's counts: everything METRICS divides by "flags"."""
    # The cross-team first response is kept on the broadcast from the live, human,
    # cross-team replies in its thread (bot.handlers.timing); a reply implies a post.
    answered = exists().where(B.flag_id == F.id, B.cross_first_response_at.is_not(None))
    posted = exists().where(B.flag_id == F.id, B.posted_at.is_not(None))
    closed = or_(F.status == "resolved", exists().where(OUTCOMES.c.flag_id == F.id))
    older = F.flagged_at < s.as_of - CLOSED_AFTER
    teams = case((F.flagger_team_id.in_(team_ids), F.flagger_team_id))
    return select(
        func.count(),
        count_if(answered),
        count_if(F.status == "resolved"),
        count_if(F.crm_ref.is_not(None)),
        count_if(F.is_public.is_(true())),
        count_if(F.sentiment == "positive"),
        count_if(F.sentiment == "neutral"),
        count_if(F.sentiment == "negative"),
        count_if(posted),
        count_if(older),
        count_if(and_(older, closed)),
        count_if(or_(F.crm_ref.is_not(None), topics_of(F.id, linked_topics))),
        func.count(teams.distinct()),
    ).where(F.org_id == s.org_id, flag_in(s))


def flag_summaries(
    *,
    session: Session,
    scopes: Sequence[Scope],
    linked_topics: Sequence[str],
    team_ids: Sequence[int],
) -> list[Row]:
    """Counts over each scope's flags. `linked_topics` are the objectives' topics;
    `team_ids` the teams that count as flagging teams (the active ones). One statement
    per scope: the correlated lookups make a pass over several windows' flags slower
    than a pass per window, on both stores (measured with bench/roi.py)."""
    out = []
    for s in scopes:
        row = session.execute(_summary(s, linked_topics, team_ids)).one()
        out.append(dict(zip(SUMMARY_KEYS, map(int, row), strict=True)))
    return out


def broadcast_rows(scopes: Sequence[Scope], *columns: Any) -> Any:
    """The live broadcasts of the scopes' flags (a team's "not for us" takes the flag off
    its figures), joined to their flags."""
    stmt = (
        select(*columns)
        .select_from(BROADCASTS.join(FLAGS, F.id == B.flag_id))
        .where(F.org_id == scopes[0].org_id, span(F.flagged_at, scopes), B.status == "active")
    )
    team = common_team(scopes)
    return stmt.where(B.team_id == team) if team is not None else stmt


def _cut(cutoffs: Mapping[int, datetime]) -> Any:
    """Each team's cutoff instant, chosen in SQL by the broadcast's team."""
    whens = {tid: bindparam(None, at, type_=UtcDateTime()) for tid, at in cutoffs.items()}
    return case(whens, value=B.team_id, else_=None) if whens else None


SLA_KEYS = ("flags", "sla_met", "sla_due", "c5_met", "c5_due")


def _sla_columns(
    s: Scope, wall_cutoffs: Mapping[int, datetime], business: Mapping[int, datetime]
) -> list[Any]:
    sla = TEAMS.c.sla_seconds
    wall, late = _cut(wall_cutoffs), _cut(business)
    inside = flag_in(s, team=B.team_id)
    conds = (
        true(),
        B.ttfr_seconds <= sla,
        or_(B.ttfr_seconds.is_not(None), B.posted_at < wall if wall is not None else false()),
        B.cross_ttfr_business_seconds <= sla,
        or_(
            B.cross_ttfr_business_seconds.is_not(None),
            B.posted_at < late if late is not None else false(),
        ),
    )
    return [count_if(and_(inside, c)) for c in conds]


def team_sla(
    *,
    session: Session,
    scopes: Sequence[Scope],
    cutoffs: Sequence[tuple[Mapping[int, datetime], Mapping[int, datetime]]],
) -> list[dict[int, Row]]:
    """Per scope and team: flags broadcast to it, and SLA met/due counts. Due = answered,
    or still unanswered at `as_of` and posted before the team's cutoff (as_of minus its
    SLA, in wall-clock, then business time: `cutoffs` per scope). "sla" is the plain first
    response on the wall clock; "c5" is METRICS C5: the cross-team first response in
    business hours."""
    if not scopes:
        return []
    columns = [c for s, (w, b) in zip(scopes, cutoffs, strict=True) for c in _sla_columns(s, w, b)]
    stmt = (
        broadcast_rows(scopes, B.team_id, *columns)
        .join(TEAMS, TEAMS.c.id == B.team_id)
        .group_by(B.team_id)
    )
    out: list[dict[int, Row]] = [{} for _ in scopes]
    width = len(SLA_KEYS)
    for team_id, *counts in session.execute(stmt).all():
        for w, mine in enumerate(out):
            row = dict(zip(SLA_KEYS, map(int, counts[w * width : (w + 1) * width]), strict=True))
            if row["flags"]:
                mine[int(team_id)] = row
    return out


def ratings(*, session: Session, s: Scope) -> Row:
    r = RATINGS.c
    stmt = (
        select(
            func.count().label("count"),
            func.coalesce(func.sum(r.score), 0).label("total"),
            count_if(r.score >= 4).label("satisfied"),
        )
        .select_from(RATINGS.join(FLAGS, F.id == r.flag_id))
        .where(F.org_id == s.org_id, flag_in(s))
    )
    return {k: int(v) for k, v in session.execute(stmt).one()._mapping.items()}


def _flag_scope(flag_id: Any, s: Scope) -> ColumnElement[bool]:
    """Rows of other tables whose flag is in the scope's team or topics (not its window)."""
    conds: list[ColumnElement[bool]] = []
    if s.team_id is not None:
        conds.append(routed_to(flag_id, s.team_id))
    if s.topics is not None:
        conds.append(topics_of(flag_id, s.topics))
    return and_(true(), *conds)


Outcomes = list[tuple[str, str, float, int]]


def outcome_totals(*, session: Session, scopes: Sequence[Scope]) -> list[Outcomes]:
    """Per scope: (kind, currency, total amount, outcomes) recorded in its window."""
    if not scopes:
        return []
    o = OUTCOMES.c
    columns: list[Any] = []
    for s in scopes:
        inside = and_(within(o.created_at, s.start, s.end), _flag_scope(o.flag_id, s))
        columns += [func.sum(case((inside, o.amount))), count_if(inside)]
    stmt = (
        select(o.kind, o.currency, *columns)
        .where(o.org_id == scopes[0].org_id, span(o.created_at, scopes))
        .group_by(o.kind, o.currency)
        .order_by(o.kind, o.currency)
    )
    out: list[Outcomes] = [[] for _ in scopes]
    for kind, currency, *sums in session.execute(stmt).all():
        for w, mine in enumerate(out):
            total, count = sums[2 * w], sums[2 * w + 1]
            if count:
                mine.append((kind, currency, float(total), int(count)))
    return out


def interpretation_count(*, session: Session, s: Scope) -> int:
    """Interpretations written in the window (program cost: the time people spent)."""
    stmt = select(func.count()).where(
        IT.org_id == s.org_id, within(IT.created_at, s.start, s.end), IT.deleted_at.is_(None)
    )
    if s.team_id is not None:
        stmt = stmt.where(
            exists().where(B.id == IT.broadcast_id, B.team_id == s.team_id, B.status == "active")
        )
    if s.topics is not None:
        stmt = stmt.where(topics_of(IT.flag_id, s.topics))
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
    """Every team of the org with its size. (Positional for bot.handlers.digest.)"""
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
