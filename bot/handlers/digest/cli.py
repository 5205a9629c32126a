"""`crosstalk digest [--week 2026-W47] [--team KEY] [--dry-run | --send]`.

A dry run prints each digest as it would be sent, composed from the database now. `--send`
queues them under the same keys the scheduler uses, so sending a week the scheduler already
sent does nothing (and says so); a running `crosstalk serve` delivers what is queued.
"""

from __future__ import annotations

from typing import TextIO
from zoneinfo import ZoneInfo

from bot.core.timecalc import iso_week_bounds
from bot.handlers.context import OrgContext
from bot.handlers.digest.card import card_text
from bot.handlers.digest.plan import MANAGERS, Due, build, queue
from bot.handlers.digest.weeks import week_before
from bot.runtime import Runtime
from store.db import session_scope


def _label(org: OrgContext, scope: str) -> str:
    if scope == MANAGERS:
        return "Managers (org digest)"
    team = org.config.team(scope)
    return team.name if team else scope


def digest_command(
    runtime: Runtime, *, week: str | None, team: str | None, send: bool, out: TextIO, err: TextIO
) -> int:
    org, now = runtime.org, runtime.clock.now()
    keys = org.config.team_keys
    if team is not None and team not in (*keys, MANAGERS):
        print(
            f"crosstalk digest: unknown team {team!r}; use one of {', '.join(keys)} or {MANAGERS}",
            file=err,
        )
        return 2
    week = (week or week_before(now, org.config.org.zone)).upper()
    try:
        iso_week_bounds(week, ZoneInfo("UTC"))
    except ValueError as exc:
        print(f"crosstalk digest: {exc}", file=err)
        return 2
    scopes = [team] if team else [*keys, MANAGERS]
    if send:
        result = queue(
            engine=runtime.engine, org=org, items=[Due(s, week) for s in scopes], now=now
        )
        for key in result.queued:
            print(f"queued {key}", file=out)
        for key in result.existing:
            print(f"already sent or queued, not again: {key}", file=out)
        for due in result.quiet:
            print(f"{_label(org, due.scope)}, {week}: a quiet week, nothing to send", file=out)
        if result.queued:
            print("a running `crosstalk serve` delivers queued digests", file=out)
        return 0
    with session_scope(runtime.engine) as session:
        for scope in scopes:
            digest = build(session=session, org=org, scope=scope, week=week, now=now)
            if digest.card is None:
                print(f"{_label(org, scope)}, {week}: a quiet week, nothing to send\n", file=out)
                continue
            print(card_text(digest.card), file=out)
            if digest.chart is not None:
                print(f"  [+ maturity trend chart, {len(digest.chart)} weeks]", file=out)
            print(file=out)
    return 0
