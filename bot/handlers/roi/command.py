"""`/roi [period] [team]` as typed in chat, on any platform: who may ask, what the words
mean, and the answer as neutral content. The figures are bot/handlers/roi.py's."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.engine import Engine

from bot.core.cards import Content
from bot.core.clock import Clock
from bot.core.refs import UserRef
from bot.handlers.context import OrgContext
from bot.handlers.roi.periods import parse_period
from bot.handlers.roi.report import roi_report
from bot.handlers.roi.view import HELP, USAGE, roi_card
from bot.web.links import LINK_TTL, LinksUnavailable, new_link
from store.db import Database

REFUSAL = "Only managers (config roi.managers) can see the /roi figures."


def split_args(
    args: tuple[str, ...] | list[str], team_keys: list[str]
) -> tuple[str | None, str | None]:
    """(period, team) from the words after `roi`, in either order; ValueError past two."""
    period = team = None
    for arg in args:
        if team is None and arg in team_keys:
            team = arg
        elif period is None:
            period = arg
        elif team is None:
            team = arg  # not a team: the report says which teams there are
        else:
            raise ValueError(f"Too many arguments.\n{USAGE}")
    return period, team


def is_manager(org: OrgContext, user: UserRef) -> bool:
    """A manager is named in config on the platform they ask from: the same id on another
    platform is another person."""
    return org.config.roi.is_manager(user)


def check_args(
    org: OrgContext, clock: Clock, args: tuple[str, ...] | list[str]
) -> tuple[str | None, str | None]:
    """Validate quickly, before any aggregate runs; ValueError ends with the usage line
    (`help` asks for the help text, answered the same way)."""
    if [a.lower() for a in args] in (["help"], ["?"]):
        raise ValueError(HELP)
    period, team = split_args(args, org.config.team_keys)
    parse_period(period, timezone=org.config.org.timezone, clock=clock)
    if team is not None and team not in org.config.team_keys:
        raise ValueError(
            f"{team!r} is not a team (teams: {', '.join(org.config.team_keys)}).\n{USAGE}"
        )
    return period, team


async def report_json(
    *, engine: Engine, org: OrgContext, clock: Clock, period: str | None, team: str | None
) -> dict[str, Any]:
    """The stable JSON report; SQL aggregates over a whole period run off the event loop."""
    report = await asyncio.to_thread(
        roi_report, engine=engine, org=org, clock=clock, period=period, team=team
    )
    return report.to_json()


async def answer(
    *,
    engine: Engine,
    org: OrgContext,
    clock: Clock,
    user: UserRef,
    args: tuple[str, ...] | list[str],
) -> Content:
    """The whole exchange for platforms that answer once (Teams): refusal, usage or card."""
    if not is_manager(org, user):
        return (REFUSAL,)
    try:
        period, team = check_args(org, clock, args)
    except ValueError as exc:
        return (str(exc),)
    return roi_card(
        await report_json(engine=engine, org=org, clock=clock, period=period, team=team)
    )


WEB_WORDS = ("web", "dashboard")  # `/roi web`; `@Crosstalk dashboard` in Teams


def wants_link(args: tuple[str, ...] | list[str]) -> bool:
    """`/roi web`: the manager asks for a dashboard sign-in link instead of figures."""
    return len(args) == 1 and args[0].lower() in WEB_WORDS


async def dashboard_link(
    *, db: Database, org: OrgContext, clock: Clock, user: UserRef, public_url: str
) -> str:
    """A fresh one-time dashboard link for a manager (to be shown to them alone), or why
    there is none."""
    if not is_manager(org, user):
        return "Only managers (config roi.managers) can open the dashboard."
    try:
        url = await db.run(
            lambda s: new_link(s, org_id=org.org_id, user=user, clock=clock, public_url=public_url)
        )
    except LinksUnavailable as exc:
        return f"The dashboard cannot be linked: {exc}."
    minutes = int(LINK_TTL.total_seconds() // 60)
    return f"Your dashboard link (it works once, for {minutes} minutes): {url}"
