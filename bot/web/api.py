"""`GET /api/roi?period=&team=` (a bearer token of `[api] tokens`): the very object
`crosstalk roi --json` prints, from the same function; and the CSV of those figures."""

from __future__ import annotations

import csv
import io
import logging
from typing import Any

from aiohttp import web

from bot.api import authorized, error_response, unauthorized
from bot.handlers.roi import command as roi_command
from bot.handlers.roi.periods import parse_period
from bot.runtime import Runtime
from bot.web import figures
from bot.web.auth import Site
from bot.web.flags import csv_response
from bot.web.pages import Handler, figure_page, period_of, team_of

log = logging.getLogger("crosstalk.api")


def _check(runtime: Runtime, request: web.Request) -> tuple[str | None, str | None] | web.Response:
    period = request.query.get("period", "").strip() or None
    team = request.query.get("team", "").strip() or None
    try:
        parse_period(period, timezone=runtime.config.org.timezone, clock=runtime.clock)
    except ValueError as exc:
        return error_response(400, str(exc).splitlines()[0], "period")
    if team is not None and team not in runtime.config.team_keys:
        known = ", ".join(runtime.config.team_keys)
        return error_response(400, f"{team!r} is not a team (teams: {known})", "team")
    return period, team


def api_roi(runtime: Runtime) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        if not authorized(request.headers.get("Authorization", ""), runtime.config.api.tokens):
            log.info("GET /api/roi refused from %s: missing or bad token", request.remote)
            return unauthorized("a valid bearer token is required")
        checked = _check(runtime, request)
        if isinstance(checked, web.Response):
            return checked
        period, team = checked
        report = await roi_command.report_json(
            engine=runtime.engine, org=runtime.org, clock=runtime.clock, period=period, team=team
        )
        return web.json_response(report)

    return handler


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """The report as (figure, value) rows: nested keys dotted, teams and objectives by key."""
    if isinstance(value, dict):
        rows: list[tuple[str, Any]] = []
        for k, v in value.items():
            rows += flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return rows
    if isinstance(value, list) and value and all(isinstance(v, dict) and "key" in v for v in value):
        rows = []
        for item in value:
            rest = {k: v for k, v in item.items() if k != "key"}
            rows += flatten(rest, f"{prefix}.{item['key']}")
        return rows
    if isinstance(value, list):
        joined = " ".join("-".join(map(str, v)) if isinstance(v, list) else str(v) for v in value)
        return [(prefix, joined)]
    return [(prefix, "" if value is None else value)]


def roi_csv(site: Site) -> Handler:
    rt = site.runtime

    async def render(request: web.Request) -> web.Response:
        period, team = period_of(site, request), team_of(site, request)
        report = await rt.db.run(
            lambda s: figures.report(s, org=rt.org, clock=rt.clock, period=period, team=team),
            read_only=True,
        )
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(("figure", "value"))
        writer.writerows(flatten(report))
        return csv_response(out.getvalue(), "crosstalk-roi.csv")

    return figure_page(site, render)
