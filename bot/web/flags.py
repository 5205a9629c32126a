"""The Flags pages: a filtered, paginated list (and its CSV), and each flag's page with
every team's interpretations side by side, its timeline and its outcomes."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlmodel import Session

from bot.web.auth import Site
from bot.web.pages import BadRequest, Handler, base_context, figure_page, period_of, team_of
from bot.web.render import page, secure
from store.dashboard_flags import (
    SENTIMENTS,
    STATUSES,
    FlagFilter,
    FlagPage,
    count_flags,
    flag_page,
    iter_flags,
    list_flags,
)
from store.models import Broadcast, Interpretation

PAGE_SIZE = 50
MAX_PAGE = 10_000
MAX_TEXT = 200
CSV_COLUMNS = (
    "id",
    "flagged_at",
    "platform",
    "status",
    "sentiment",
    "customer",
    "crm_ref",
    "teams",
    "flagger",
    "excerpt",
)


def _choice(request: web.Request, name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.query.get(name, "").strip() or None
    if value is not None and value not in allowed:
        raise BadRequest(f"{name}: must be one of {', '.join(allowed)}")
    return value


def flag_filter(site: Site, request: web.Request) -> tuple[FlagFilter, dict[str, str]]:
    """The list's filters from the query, and the same as strings for the form and links."""
    period = period_of(site, request)
    team = team_of(site, request)
    text = request.query.get("q", "").strip()
    if len(text) > MAX_TEXT:
        raise BadRequest(f"q: at most {MAX_TEXT} characters")
    f = FlagFilter(
        org_id=site.runtime.org.org_id,
        start=period.start,
        end=period.end,
        team_id=site.runtime.org.ids.team_ids.get(team) if team else None,
        status=_choice(request, "status", STATUSES),
        sentiment=_choice(request, "sentiment", SENTIMENTS),
        text=text or None,
    )
    given = {k: request.query.get(k, "").strip() for k in ("period", "team", "status", "sentiment")}
    given["q"] = text
    return f, {k: v for k, v in given.items() if v}


def _page_number(request: web.Request) -> int:
    raw = request.query.get("page", "1").strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise BadRequest(f"page: a whole number from 1 to {MAX_PAGE}")
    return int(raw)


def flags_list(site: Site) -> Handler:
    rt = site.runtime
    keys = {v: k for k, v in rt.org.ids.team_ids.items()}

    async def render(request: web.Request) -> web.Response:
        f, given = flag_filter(site, request)
        number = _page_number(request)

        def load(s: Session) -> tuple[int, list[dict[str, Any]]]:
            total = count_flags(session=s, f=f)
            rows = list_flags(session=s, f=f, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
            return total, rows

        total, rows = await rt.db.run(load, read_only=True)
        for r in rows:
            r["teams"] = [keys.get(t, "?") for t in r["team_ids"]]
        pages = max(1, math.ceil(total / PAGE_SIZE))

        def link(n: int) -> str:
            return "/dashboard/flags?" + urlencode({**given, "page": str(n)})

        context = base_context(
            site,
            request,
            "flags",
            rows=rows,
            total=total,
            number=number,
            pages=pages,
            given=given,
            statuses=STATUSES,
            sentiments=SENTIMENTS,
            prev_link=link(number - 1) if number > 1 else None,
            next_link=link(number + 1) if number < pages else None,
            csv_link="/dashboard/export/flags.csv?" + urlencode(given),
        )
        return page(site.env, "flags.html", context)

    return figure_page(site, render)


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run: formulas are quoted as text."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def flags_csv(site: Site) -> Handler:
    rt = site.runtime
    keys = {v: k for k, v in rt.org.ids.team_ids.items()}

    async def render(request: web.Request) -> web.Response:
        f, _ = flag_filter(site, request)

        def build(s: Session) -> str:
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(CSV_COLUMNS)
            for r in iter_flags(session=s, f=f):
                r["teams"] = " ".join(keys.get(t, "?") for t in r["team_ids"])
                r["flagger"] = r["flagger_id"]
                writer.writerow([_cell(r[c]) for c in CSV_COLUMNS])
            return out.getvalue()

        body = await rt.db.run(build, read_only=True)
        return csv_response(body, "crosstalk-flags.csv")

    return figure_page(site, render)


def csv_response(body: str, filename: str) -> web.Response:
    response = web.Response(text=body, content_type="text/csv", charset="utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    secure(response)
    return response


@dataclass
class Column:
    """One team's side of a flag: its broadcast and what its people said."""

    key: str
    name: str
    broadcast: Broadcast | None
    said: list[Interpretation] = field(default_factory=list)


def _columns(site: Site, found: FlagPage) -> list[Column]:
    org = site.runtime.org
    by_broadcast: dict[int | None, Column] = {}
    for b in found.broadcasts:
        team = org.team_by_id(b.team_id)
        key = org.ids.team_key(b.team_id) or "?"
        by_broadcast[b.id] = Column(key, team.name if team else key, b)
    for i in found.interpretations:
        column = by_broadcast.get(i.broadcast_id)
        if column is None:
            column = by_broadcast.setdefault(None, Column("", "Elsewhere", None))
        column.said.append(i)
    return list(by_broadcast.values())


def _timeline(site: Site, found: FlagPage) -> list[tuple[datetime, str]]:
    org = site.runtime.org
    f = found.flag
    events: list[tuple[datetime, str]] = [(f.flagged_at, f"Flagged by {f.flagger_id}")]
    for b in found.broadcasts:
        team = org.team_by_id(b.team_id)
        name = team.name if team else "a team"
        steps = (
            (b.posted_at, f"Posted to {name} on {b.platform.capitalize()}"),
            (b.acknowledged_at, f"Acknowledged by {b.acknowledged_by} for {name}"),
            (b.first_response_at, f"First response from {name} by {b.first_response_by}"),
            (b.not_for_us_at, f"{name}: not for us ({b.not_for_us_by})"),
        )
        events += [(at, text) for at, text in steps if at is not None]
    if f.resolved_at is not None:
        events.append((f.resolved_at, f"Resolved by {f.resolved_by or 'someone'}"))
    for o in found.outcomes:
        events.append((o.created_at, f"Outcome recorded: {o.kind.replace('_', ' ')}"))
    return sorted(events, key=lambda e: e[0])


MAX_ID = 2**63 - 1


def flag_detail(site: Site) -> Handler:
    rt = site.runtime

    async def render(request: web.Request) -> web.Response:
        raw = request.match_info.get("flag_id", "")
        flag_id = int(raw) if raw.isdigit() and 0 < int(raw) <= MAX_ID else None
        found = None
        if flag_id is not None:
            found = await rt.db.run(
                lambda s: flag_page(session=s, org_id=rt.org.org_id, flag_id=flag_id),
                read_only=True,
            )
        if found is None:
            return site.message(404, "No such flag", "This org has no flag with that number.")
        context = base_context(
            site,
            request,
            "flags",
            found=found,
            flag=found.flag,
            columns=_columns(site, found),
            timeline=_timeline(site, found),
            rating=(
                sum(r.score for r in found.ratings) / len(found.ratings) if found.ratings else None
            ),
        )
        return page(site.env, "flag.html", context)

    return figure_page(site, render)
