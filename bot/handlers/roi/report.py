"""/roi (SPEC "/roi"; METRICS.md): the figures a manager asks for, composed from the store's
aggregates into one `RoiReport` whose `to_json()` is the stable machine-readable output.

With a team, the social and business figures cover the flags broadcast to that team (and
its own response times); the network, the maturity score and the objectives stay the
org's, since a silo or a stage is a property of the whole organisation.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.clock import Clock
from bot.handlers.context import OrgContext
from bot.handlers.roi.figures import (
    NetworkData,
    ReportContext,
    attainment,
    business,
    maturity,
    org_ei,
    ratio,
    shown,
    siloed,
)
from bot.handlers.roi.maturity import Maturity
from bot.handlers.roi.model import (
    Durations,
    Network,
    RoiReport,
    Sentiment,
    TeamFigures,
)
from bot.handlers.roi.objectives import progress
from bot.handlers.roi.periods import MATURITY_DAYS, Period, parse_period
from bot.handlers.roi.view import USAGE
from store.reports import (
    Row,
    Scope,
    TeamInfo,
    begin_report,
    org_teams,
    ratings,
    team_ttfr,
    time_quantiles,
    ttr_quantiles,
)


def _durations(q: dict[str, tuple[float | None, ...]], wall: str, business: str) -> Durations:
    return Durations(q[wall][0], q[wall][1], q[business][0], q[business][1])


def _team_rows(
    ctx: ReportContext,
    teams: tuple[TeamInfo, ...],
    s: Scope,
    data: NetworkData,
) -> tuple[TeamFigures, ...]:
    sla = ctx.sla(s)
    ttfr = team_ttfr(ctx.session, s)
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


def _network(ctx: ReportContext, now: Scope, before: Scope) -> Network:
    """Org figures count every team; names are listed only for teams over the floor."""
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


def _maturity(ctx: ReportContext, period: Period) -> Maturity:
    window = period if period.explicit else period.last(MATURITY_DAYS)
    before = window.previous()
    now = maturity(ctx, ctx.scope(window.start, window.end))
    previous = maturity(ctx, ctx.scope(before.start, before.end))
    return replace(now, previous_score=previous.score)


def _sentiment(summary: Row) -> Sentiment:
    flags = summary["flags"]
    return Sentiment(
        positive=ratio(summary["positive"], flags),
        neutral=ratio(summary["neutral"], flags),
        negative=ratio(summary["negative"], flags),
        net=ratio(summary["positive"] - summary["negative"], flags),
    )


def build_report(
    *, engine: Engine, org: OrgContext, clock: Clock, period: Period, team: str | None = None
) -> RoiReport:
    """The report for `period`, for the org or one team (a key from the config)."""
    team_id = None
    if team is not None:
        team_id = org.ids.team_ids.get(team)
        if team_id is None:
            known = ", ".join(org.config.team_keys)
            raise ValueError(f"{team!r} is not a team (teams: {known}).\n{USAGE}")
    with Session(engine) as session:
        begin_report(session)
        ctx = ReportContext(
            session, org.config, org.org_id, tuple(org_teams(session, org.org_id)), clock.now()
        )
        whole = ctx.scope(period.start, period.end)
        s = ctx.scope(period.start, period.end, team_id=team_id)
        before = period.previous()
        summary = ctx.summary(s)
        times = time_quantiles(session, s)
        ttr = ttr_quantiles(session, s)
        rated = ratings(session, s)
        shown_teams = tuple(t for t in ctx.active if team_id is None or t.id == team_id)
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
            sla_attainment=attainment(ctx.sla(s)),
            satisfaction=ratio(rated["total"], rated["count"]),
            csat=ratio(rated["satisfied"], rated["count"]),
            sentiment=_sentiment(summary),
            teams=_team_rows(ctx, shown_teams, s, ctx.network(whole)),
            network=_network(ctx, whole, ctx.scope(before.start, before.end)),
            maturity=_maturity(ctx, period),
            business=business(ctx, s, summary, period.days),
            objectives=tuple(
                progress(ctx, o, report_end=period.end, tz=period.tz) for o in org.config.objectives
            ),
        )


def roi_report(
    *,
    engine: Engine,
    org: OrgContext,
    clock: Clock,
    period: str | None = None,
    team: str | None = None,
) -> RoiReport:
    """The report for what a manager typed; a bad period or team raises ValueError whose
    message ends with the usage line."""
    parsed = parse_period(period, timezone=org.config.org.timezone, clock=clock)
    return build_report(engine=engine, org=org, clock=clock, period=parsed, team=team)


__all__ = ["RoiReport", "build_report", "roi_report"]
