"""The dashboard's figures, from the /roi engine (bot.handlers.roi) and the store's report
queries: nothing here re-derives a figure, it asks the same functions for more windows.

Week-by-week series run over the 12 local weeks (Monday to Monday, the org's timezone)
that end with the report's period; each kind of total is fetched for all the weeks in one
statement where the store offers it (SLA counts, networks), as /roi itself does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.core.clock import Clock
from bot.handlers.context import OrgContext
from bot.handlers.roi.figures import (
    PRIVACY_FLOOR,
    ReportContext,
    maturity,
    ratio,
    shown,
    siloed,
)
from bot.handlers.roi.maturity import MIN_FLAGS
from bot.handlers.roi.periods import MATURITY_DAYS, Period, local_midnight
from bot.handlers.roi.report import build_report, network_figures  # /roi's own, not a copy
from bot.web.cache import WeekCache
from store.reports import Row, Scope, begin_report, org_teams
from store.reports_percentile import Quantiles
from store.reports_times import team_ttfr

WEEKS = 12


@dataclass(frozen=True)
class Week:
    label: str  # "W47"
    start: datetime
    end: datetime


def weeks(period: Period, now: datetime, count: int = WEEKS) -> list[Week]:
    """The `count` local weeks up to the period's end (the last one may be under way)."""
    end = min(period.end, now)
    last_day = end.astimezone(period.tz).date()
    monday = last_day - timedelta(days=last_day.weekday())
    out = []
    for k in range(count - 1, -1, -1):
        first = monday - timedelta(weeks=k)
        start = local_midnight(first, period.tz)
        stop = min(local_midnight(first + timedelta(days=7), period.tz), period.end)
        out.append(Week(f"W{first.isocalendar().week:02d}", start, stop))
    return out


def _context(session: Session, org: OrgContext, clock: Clock) -> ReportContext:
    begin_report(session=session)
    teams = tuple(org_teams(session, org.org_id))
    return ReportContext(session, org.config, org.org_id, teams, clock.now())


def report(
    session: Session, *, org: OrgContext, clock: Clock, period: Period, team: str | None = None
) -> dict[str, Any]:
    """The `crosstalk roi --json` object (the same function builds it)."""
    return build_report(session=session, org=org, clock=clock, period=period, team=team).to_json()


def maturity_trend(
    session: Session, *, org: OrgContext, clock: Clock, period: Period, cache: WeekCache
) -> list[tuple[str, int | None]]:
    """Each week's maturity score, over the 28 days that end with the week (METRICS)."""
    ctx = _context(session, org, clock)
    windows = [
        (w.label, ctx.scope(w.end - timedelta(days=MATURITY_DAYS), w.end))
        for w in weeks(period, ctx.now)
    ]
    known = {s: cache.get(("maturity", org.org_id, s.end), ctx.now) for _, s in windows}
    scopes = [s for s, (hit, _) in known.items() if not hit]
    ctx.prefetch_summaries(scopes)
    scored = [s for s in scopes if ctx.summary(s)["flags"] >= MIN_FLAGS]
    ctx.prefetch_sla(scored)
    ctx.prefetch_networks(scored)
    out = []
    for label, s in windows:
        hit, score = known[s]
        if not hit:
            score = maturity(ctx, s).score
            cache.put(("maturity", org.org_id, s.end), s.end, ctx.now, score)
        out.append((label, score))
    return out


@dataclass(frozen=True)
class TeamWeeks:
    key: str
    name: str
    sla_seconds: float
    p50: list[float | None]
    p90: list[float | None]
    attainment: list[float | None]
    flags: int  # in the whole period, with its p50, p90 and attainment (as /roi's rows)
    period_p50: float | None
    period_p90: float | None
    period_attainment: float | None


WeekTeams = tuple[dict[int, Row], dict[int, Quantiles]]  # SLA counts, TTFR, by team id


def _team_week_figures(
    ctx: ReportContext, scopes: list[Scope], cache: WeekCache
) -> list[WeekTeams]:
    """Each week's SLA counts and first-response quantiles per team (cached once over)."""
    keys = [("team-weeks", ctx.org_id, s.start, s.end) for s in scopes]
    known = [cache.get(k, ctx.now) for k in keys]
    todo = [s for s, (hit, _) in zip(scopes, known, strict=True) if not hit]
    ctx.prefetch_sla(todo)
    out = []
    for key, s, (hit, value) in zip(keys, scopes, known, strict=True):
        if not hit:
            value = (ctx.sla(s), team_ttfr(session=ctx.session, s=s))
            cache.put(key, s.end, ctx.now, value)
        out.append(value)
    return out


def team_weeks(
    session: Session, *, org: OrgContext, clock: Clock, period: Period, cache: WeekCache
) -> tuple[list[str], list[TeamWeeks]]:
    """Each active team's first-response p50/p90 and SLA attainment, week by week, and over
    the whole period (the same queries as /roi's team rows)."""
    ctx = _context(session, org, clock)
    ws = weeks(period, ctx.now)
    whole = ctx.scope(period.start, period.end)
    ctx.prefetch_sla([whole])
    weekly = _team_week_figures(ctx, [ctx.scope(w.start, w.end) for w in ws], cache)
    ttfr = [q for _, q in weekly]
    overall = team_ttfr(session=session, s=whole)
    rows = []
    for t in ctx.active:
        config = org.config.team(t.key)
        sla = [counts.get(t.id) for counts, _ in weekly]
        mine = ctx.sla(whole).get(t.id)
        p50, p90 = overall.get(t.id, (None, None))
        rows.append(
            TeamWeeks(
                key=t.key,
                name=config.name if config else t.key,
                sla_seconds=t.sla_seconds,
                p50=[q.get(t.id, (None, None))[0] for q in ttfr],
                p90=[q.get(t.id, (None, None))[1] for q in ttfr],
                attainment=[ratio(r["sla_met"], r["sla_due"]) if r else None for r in sla],
                flags=mine["flags"] if mine else 0,
                period_p50=p50,
                period_p90=p90,
                period_attainment=ratio(mine["sla_met"], mine["sla_due"]) if mine else None,
            )
        )
    return [w.label for w in ws], rows


@dataclass(frozen=True)
class SiloTeam:
    key: str
    name: str
    size: int
    shown: bool
    ei: float | None
    reach: float | None
    siloed: bool | None
    internal: int | None
    external: int | None


@dataclass(frozen=True)
class SiloMap:
    teams: list[SiloTeam]
    edges: list[tuple[str, str, int]]  # between teams over the floor, ties both ways
    hidden_ties: int  # cross-team ties with a team under the floor (counted, not drawn)
    network: dict[str, Any]  # /roi's "network": org E-I, siloed teams, new connections
    floor: int = PRIVACY_FLOOR


def silo_map(session: Session, *, org: OrgContext, clock: Clock, period: Period) -> SiloMap:
    """The period's network (the org's, as /roi's silos): ties per team pair."""
    ctx = _context(session, org, clock)
    whole: Scope = ctx.scope(period.start, period.end)
    earlier = period.previous()
    before = ctx.scope(earlier.start, earlier.end)
    ctx.prefetch_networks([whole, before])  # one network statement for both windows
    ties = ctx.ties(whole)  # with their weights, for the edges
    network = network_figures(ctx, whole, before).to_json()
    data = ctx.network(whole)
    by_id = {t.id: t for t in ctx.active}
    teams = []
    for t in ctx.active:
        visible = shown(t)
        config = org.config.team(t.key)
        ei = data.ei(t.id) if visible else None
        internal, external = data.ties.get(t.id, (0, 0))
        teams.append(
            SiloTeam(
                key=t.key,
                name=config.name if config else t.key,
                size=t.size,
                shown=visible,
                ei=ei,
                reach=data.reach_of(t.id, len(ctx.active)) if visible else None,
                siloed=siloed(ei),
                internal=internal if visible else None,
                external=external if visible else None,
            )
        )
    weights: dict[tuple[int, int], int] = {}
    for (a, b), n in ties.pairs.items():
        if a != b and a in by_id and b in by_id:
            key = (min(a, b), max(a, b))
            weights[key] = weights.get(key, 0) + n
    edges, hidden = [], 0
    for (a, b), n in sorted(weights.items()):
        if shown(by_id[a]) and shown(by_id[b]):
            edges.append((by_id[a].key, by_id[b].key, n))
        else:
            hidden += n
    return SiloMap(teams=teams, edges=edges, hidden_ties=hidden, network=network)
