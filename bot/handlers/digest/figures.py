"""The org-level figures a digest borrows from the /roi figures engine: the maturity score
with its weekly trend, the siloed teams and the new cross-team connections. Borrowed, not
recomputed, so a digest never disagrees with /roi about a METRICS.md figure, and follows the
same privacy floor (teams under 5 members are not named in network figures).

Each week's maturity score is METRICS' 28-day window ending when that week ends; the siloed
teams are judged over the digest week's 28-day window too (one week holds few ties), and
new connections are pairs tied in the digest week and not in the week before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from sqlmodel import Session

from bot.handlers.context import OrgContext
from bot.handlers.roi.figures import ReportContext, maturity, shown, siloed
from bot.handlers.roi.periods import MATURITY_DAYS
from store.reports import org_teams

TREND_WEEKS = 8


@dataclass(frozen=True)
class WeekScore:
    week: str
    end: datetime
    score: int | None  # None: not enough data that week


@dataclass(frozen=True)
class Maturity:
    score: int | None
    stage: str | None
    previous: int | None  # the week before's score
    reason: str | None
    trend: tuple[WeekScore, ...]  # oldest first; the last is the digest's week


@dataclass(frozen=True)
class OrgFigures:
    maturity: Maturity | None  # None: no week to score
    siloed_teams: tuple[str, ...] | None  # team keys
    new_connections: tuple[tuple[str, str], ...]  # team keys, among teams that may be named
    named: frozenset[str]  # teams at or over the privacy floor


def _window_start(end: datetime, tz: tzinfo) -> datetime:
    day = end.astimezone(tz).date() - timedelta(days=MATURITY_DAYS)
    return datetime.combine(day, time(), tzinfo=tz).astimezone(end.tzinfo)


def org_figures(
    session: Session,
    org: OrgContext,
    *,
    weeks: list[tuple[str, datetime]],
    week_start: datetime,
    tz: tzinfo,
    now: datetime,
) -> OrgFigures:
    """Figures for the weeks ending at the given instants (oldest first, the digest's week
    last, starting at `week_start`), as of `now`."""
    ctx = ReportContext(session, org.config, org.org_id, tuple(org_teams(session, org.org_id)), now)
    scores = []
    last = None
    for week, end in weeks:
        last = maturity(ctx, ctx.scope(_window_start(end, tz), end))
        scores.append(WeekScore(week, end, last.score))
    if last is None:
        return OrgFigures(None, None, (), frozenset())
    end = weeks[-1][1]
    listed = {t.id: t for t in ctx.active if shown(t)}
    data = ctx.network(ctx.scope(_window_start(end, tz), end))
    before = week_start - (end - week_start)
    new = ctx.pairs(ctx.scope(week_start, end)) - ctx.pairs(ctx.scope(before, week_start))
    pairs = []
    for a, b in new:
        if a in listed and b in listed:
            first, second = sorted((listed[a].key, listed[b].key))
            pairs.append((first, second))
    return OrgFigures(
        maturity=Maturity(
            score=last.score,
            stage=last.stage,
            previous=scores[-2].score if len(scores) > 1 else None,
            reason=last.reason,
            trend=tuple(scores),
        ),
        siloed_teams=tuple(t.key for t in listed.values() if siloed(data.ei(t.id))),
        new_connections=tuple(sorted(pairs)),
        named=frozenset(t.key for t in listed.values()),
    )
