"""/roi (SPEC "/roi"; METRICS.md): the figures a manager asks for, composed from the store's
aggregates into one `RoiReport` whose `to_json()` is the stable machine-readable output.

With a team, the social and business figures cover the flags broadcast to that team (and
its own response times); the network, the maturity score and the objectives stay the
org's, since a silo or a stage is a property of the whole organisation.

The report knows every window it will look at before it asks (the period, the one before,
the maturity windows, each objective's), so each kind of total is fetched for all of them
in one statement; what a window then needs is read from the `ReportContext`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.clock import Clock
from bot.handlers.context import OrgContext
from bot.handlers.roi import objectives
from bot.handlers.roi.figures import (
    ReportContext,
    attainment,
    business,
    maturity,
    org_ei,
    ratio,
    shown,
    siloed,
)
from bot.handlers.roi.maturity import MIN_FLAGS, Maturity
from bot.handlers.roi.model import (
    Durations,
    Network,
    RoiReport,
    Sentiment,
    TeamFigures,
)
from bot.handlers.roi.periods import MATURITY_DAYS, Period, parse_period
from bot.handlers.roi.view import USAGE
from bot.listening.figures import listening
from store.reports import Row, Scope, TeamInfo, begin_report, org_teams, ratings
from store.reports_times import Times, team_ttfr, ttr_quantiles


def _durations(q: Times, wall: str, business: str) -> Durations:
    return Durations(q[wall][0], q[wall][1], q[business][0], q[business][1])


def _team_rows(
    ctx: ReportContext, teams: tuple[TeamInfo, ...], w: Windows
) -> tuple[TeamFigures, ...]:
    sla = ctx.sla(w.scope)
    ttfr = team_ttfr(session=ctx.session, s=w.scope)
    data = ctx.network(w.whole)
    count = len(ctx.active)
    rows = []
    for t in teams:
        mine = sla.get(t.id)
        p50, p90 = ttfr.get(t.id, (None, None))
        visible = shown(t)
        ei = data.ei(t.id) if visible else None
        rows.append(
            TeamFigures(
                key=t.key,
                flags=mine["flags"] if mine else 0,
                ttfr_p50=p50,
                ttfr_p90=p90,
                sla_attainment=ratio(mine["sla_met"], mine["sla_due"]) if mine else None,
                ei=ei,
                siloed=siloed(ei) if visible else None,
                reach=data.reach_of(t.id, count) if visible else None,
            )
        )
    return tuple(rows)


def network_figures(ctx: ReportContext, now: Scope, before: Scope) -> Network:
    """/roi's "network" over `now` (new connections against `before`): org figures count
    every team; names are listed only for teams over the floor. (The silo map shows it.)"""
    data = ctx.network(now)
    by_id = {t.id: t for t in ctx.active}
    listed = {i: t for i, t in by_id.items() if shown(t)}
    new = sorted(
        tuple(sorted((listed[a].key, listed[b].key)))
        for a, b in ctx.pairs(now) - ctx.pairs(before)
        if a in listed and b in listed
    )
    return Network(
        org_ei=org_ei(data, ctx.active),
        siloed_teams=tuple(t.key for t in listed.values() if siloed(data.ei(t.id))),
        new_connections=tuple((a, b) for a, b in new),
    )


def _sentiment(summary: Row) -> Sentiment:
    flags = summary["flags"]
    return Sentiment(
        positive=ratio(summary["positive"], flags),
        neutral=ratio(summary["neutral"], flags),
        negative=ratio(summary["negative"], flags),
        net=ratio(summary["positive"] - summary["negative"], flags),
    )


@dataclass(frozen=True)
class Windows:
    """Every window one report looks at."""

    scope: Scope  # the period, for the team if one was asked for
    whole: Scope  # the period, for the org
    before: Scope  # the period before, for the org (new connections)
    maturity: Scope  # METRICS: the period if named, else the last 28 days
    maturity_before: Scope
    objectives: tuple[objectives.Window, ...]


def _windows(ctx: ReportContext, org: OrgContext, period: Period, team_id: int | None) -> Windows:
    before = period.previous()
    window = period if period.explicit else period.last(MATURITY_DAYS)
    previous = window.previous()
    return Windows(
        scope=ctx.scope(period.start, period.end, team_id=team_id),
        whole=ctx.scope(period.start, period.end),
        before=ctx.scope(before.start, before.end),
        maturity=ctx.scope(window.start, window.end),
        maturity_before=ctx.scope(previous.start, previous.end),
        objectives=tuple(
            objectives.objective_window(ctx, o, report_end=period.end, tz=period.tz)
            for o in org.config.objectives
        ),
    )


def _prefetch(ctx: ReportContext, org: OrgContext, w: Windows) -> None:
    """The totals of every window, a statement per kind. Maturity windows under 20 flags
    publish no score, so their SLA and network are not asked for."""
    kpis = [(o.kpi, ow) for o, ow in zip(org.config.objectives, w.objectives, strict=True)]
    ctx.prefetch_summaries(
        [w.scope, w.maturity, w.maturity_before, *objectives.summary_scopes(kpis)]
    )
    objectives.prefetch(ctx, kpis)
    scored = [m for m in (w.maturity, w.maturity_before) if ctx.summary(m)["flags"] >= MIN_FLAGS]
    ctx.prefetch_sla([w.scope, *scored])
    ctx.prefetch_networks([w.whole, w.before, *scored])
    ctx.prefetch_outcomes([w.scope])


def _maturity(ctx: ReportContext, w: Windows) -> Maturity:
    now = maturity(ctx, w.maturity)
    return replace(now, previous_score=maturity(ctx, w.maturity_before).score)


def build_report(
    *, session: Session, org: OrgContext, clock: Clock, period: Period, team: str | None = None
) -> RoiReport:
    """The report for `period`, for the org or one team (a key from the config), in the
    caller's transaction."""
    team_id = None
    if team is not None:
        team_id = org.ids.team_ids.get(team)
        if team_id is None:
            known = ", ".join(org.config.team_keys)
            raise ValueError(f"{team!r} is not a team (teams: {known}).\n{USAGE}")
    begin_report(session=session)
    teams = tuple(org_teams(session, org.org_id))
    ctx = ReportContext(session, org.config, org.org_id, teams, clock.now())
    w = _windows(ctx, org, period, team_id)
    _prefetch(ctx, org, w)
    summary = ctx.summary(w.scope)
    times = ctx.times(w.scope)
    ttr = ttr_quantiles(session=session, s=w.scope)
    rated = ratings(session=session, s=w.scope)
    flags = summary["flags"]
    return RoiReport(
        org=org.config.org.name,
        team=team,
        start=period.start,
        end=period.end,
        flags=flags,
        answer_rate=ratio(summary["answered"], flags),
        resolution_rate=ratio(summary["resolved"], flags),
        tta=_durations(times, "tta_seconds", "tta_business_seconds"),
        ttfr=_durations(times, "ttfr_seconds", "ttfr_business_seconds"),
        cross_team_ttfr=_durations(times, "cross_ttfr_seconds", "cross_ttfr_business_seconds"),
        ttr=_durations(ttr, "ttr_seconds", "ttr_business_seconds"),
        sla_attainment=attainment(ctx.sla(w.scope)),
        satisfaction=ratio(rated["total"], rated["count"]),
        csat=ratio(rated["satisfied"], rated["count"]),
        sentiment=_sentiment(summary),
        teams=_team_rows(ctx, tuple(t for t in ctx.active if team_id in (None, t.id)), w),
        network=network_figures(ctx, w.whole, w.before),
        maturity=_maturity(ctx, w),
        business=business(ctx, w.scope, summary, period.days),
        objectives=tuple(
            objectives.progress(ctx, o, ow)
            for o, ow in zip(org.config.objectives, w.objectives, strict=True)
        ),
        listening=listening(session=session, scope=w.scope),
    )


def roi_report(
    *,
    engine: Engine,
    org: OrgContext,
    clock: Clock,
    period: str | None = None,
    team: str | None = None,
) -> RoiReport:
    """The report for what a manager typed, in one read-only session of its own (for the
    CLI and the chat adapters); a bad period or team raises ValueError whose message ends
    with the usage line."""
    parsed = parse_period(period, timezone=org.config.org.timezone, clock=clock)
    with Session(engine) as session:
        return build_report(session=session, org=org, clock=clock, period=parsed, team=team)


__all__ = ["RoiReport", "build_report", "network_figures", "roi_report"]
