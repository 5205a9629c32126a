"""The figure pages: Overview, Teams, Silo map. Each runs its queries in one read-only
transaction off the event loop and renders a template with server-side SVG charts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.core.timecalc import format_duration
from bot.handlers.roi.periods import Period, parse_period
from bot.web import figures, svg
from bot.web.auth import Site, managers_only
from bot.web.render import page, pct
from bot.web.session import WebSession

Handler = Callable[[web.Request], Awaitable[Any]]
COMPONENTS = (
    "listening",
    "engagement",
    "silo_breaking",
    "openness",
    "responsiveness",
    "closed_loop",
)


class BadRequest(Exception):
    """A query parameter the page cannot use; the message names it."""


def period_of(site: Site, request: web.Request) -> Period:
    text = request.query.get("period", "").strip() or None
    try:
        return parse_period(
            text, timezone=site.runtime.config.org.timezone, clock=site.runtime.clock
        )
    except ValueError as exc:
        raise BadRequest(f"period: {str(exc).splitlines()[0]}") from None


def team_of(site: Site, request: web.Request) -> str | None:
    team = request.query.get("team", "").strip() or None
    if team is not None and team not in site.runtime.config.team_keys:
        raise BadRequest(f"team: {team!r} is not a team of this org")
    return team


def base_context(site: Site, request: web.Request, nav: str, **more: Any) -> dict[str, Any]:
    config = site.runtime.config
    return {
        "org": config.org.name,
        "nav": nav,
        "period": request.query.get("period", ""),
        "teams": [(t.key, t.name) for t in config.teams],
        **more,
    }


def bad_request(site: Site, exc: BadRequest) -> web.Response:
    usage = "Periods: 7d, 30d, 90d, quarter, 2026-Q3, 2026-10-01..2026-10-31."
    return site.message(400, "That filter cannot be used", str(exc), usage)


def figure_page(site: Site, render: Callable[[web.Request], Awaitable[web.Response]]) -> Handler:
    async def handler(request: web.Request, _session: WebSession) -> web.StreamResponse:
        try:
            return await render(request)
        except BadRequest as exc:
            return bad_request(site, exc)

    return managers_only(site, handler)


def overview(site: Site) -> Handler:
    rt = site.runtime

    async def render(request: web.Request) -> web.Response:
        period, team = period_of(site, request), team_of(site, request)

        def load(s: Any) -> tuple[dict[str, Any], list[tuple[str, int | None]]]:
            r = figures.report(s, org=rt.org, clock=rt.clock, period=period, team=team)
            trend = figures.maturity_trend(
                s, org=rt.org, clock=rt.clock, period=period, cache=site.weeks
            )
            return r, trend

        r, trend = await rt.db.run(load, read_only=True)
        comps = r["maturity"]["components"]
        charts = {
            "trend": svg.line_chart(
                [svg.Series("maturity score", [v for _, v in trend])],
                [label for label, _ in trend],
                title="Maturity score, week by week (each over the 28 days to the week's end)",
                y_label="score",
                fmt=lambda v: f"{v:.0f}",
                top=100,
            ),
            "components": svg.bar_chart(
                [svg.Bar(name.replace("_", " "), comps[name]) for name in COMPONENTS],
                title="The six maturity components (0 to 100 %)",
                fmt=pct,
                top=1.0,
            ),
            "objectives": svg.bar_chart(
                [_objective_bar(o) for o in r["objectives"]],
                title="Objectives: actual as a share of target",
                fmt=pct,
            )
            if r["objectives"]
            else None,
        }
        context = base_context(site, request, "overview", r=r, charts=charts, team=team or "")
        return page(site.env, "overview.html", context)

    return figure_page(site, render)


def _span(period: Period) -> str:
    return f"{period.first_day:%d %b %Y} to {period.last_day:%d %b %Y}"


def _objective_bar(o: dict[str, Any]) -> svg.Bar:
    actual, target = o["actual"], o["target"]
    share = actual / target if actual is not None and target else None
    state = {True: "on track", False: "behind", None: "not known"}[o["on_track"]]
    return svg.Bar(o["key"], share, 1.0, state)


def teams_page(site: Site) -> Handler:
    rt = site.runtime

    async def render(request: web.Request) -> web.Response:
        period = period_of(site, request)

        labels, rows = await rt.db.run(
            lambda s: figures.team_weeks(
                s, org=rt.org, clock=rt.clock, period=period, cache=site.weeks
            ),
            read_only=True,
        )
        charts = []
        for t in rows:
            charts.append(
                (
                    t,
                    svg.line_chart(
                        [
                            svg.Series("p50", t.p50, "s0"),
                            svg.Series("p90", t.p90, "s1"),
                        ],
                        labels,
                        title=f"{t.name}: first response p50 and p90 by week, against its SLA",
                        y_label="first response",
                        fmt=format_duration,
                        nice=svg.nice_duration,
                        reference=(t.sla_seconds, "SLA") if t.sla_seconds > 0 else None,
                    ),
                    svg.line_chart(
                        [svg.Series("SLA attainment", t.attainment, "s2")],
                        labels,
                        title=f"{t.name}: share of first responses within the SLA, by week",
                        y_label="within SLA",
                        fmt=pct,
                        top=1.0,
                        height=150,
                    ),
                )
            )
        context = base_context(
            site, request, "teams", span=_span(period), charts=charts, labels=labels
        )
        return page(site.env, "teams.html", context)

    return figure_page(site, render)


def silos_page(site: Site) -> Handler:
    rt = site.runtime

    async def render(request: web.Request) -> web.Response:
        period = period_of(site, request)

        silos = await rt.db.run(
            lambda s: figures.silo_map(s, org=rt.org, clock=rt.clock, period=period),
            read_only=True,
        )
        nodes = [
            svg.Node(
                t.key,
                t.name,
                t.shown,
                t.siloed,
                f"E-I {t.ei:+.2f}, reach {pct(t.reach)}"
                if t.shown and t.ei is not None
                else ("under the privacy floor" if not t.shown else "no ties yet"),
            )
            for t in silos.teams
        ]
        chart = svg.network(
            nodes, silos.edges, title="Teams and their cross-team ties in the period"
        )
        context = base_context(site, request, "silos", span=_span(period), silos=silos, chart=chart)
        return page(site.env, "silos.html", context)

    return figure_page(site, render)
