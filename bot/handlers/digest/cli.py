"""`crosstalk digest [--week 2026-W47] [--team KEY] [--dry-run [--charts DIR] | --send]`.

A dry run prints each digest as it would be sent, composed from the database now. `--send`
queues them under the same keys the scheduler uses, so sending a week the scheduler already
sent does nothing (and says so); a running `crosstalk serve` delivers what is queued.
`--charts DIR` also writes each PNG a digest would carry into DIR, and names each file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from bot.core.timecalc import iso_week_bounds, iso_week_of
from bot.handlers.context import OrgContext
from bot.handlers.digest.card import card_text
from bot.handlers.digest.files import ChartFile, digest_files
from bot.handlers.digest.plan import MANAGERS, Due, build, queue
from bot.handlers.digest.weeks import week_before
from bot.runtime import Runtime
from store.db import session_scope


def _label(org: OrgContext, scope: str) -> str:
    if scope == MANAGERS:
        return "Managers (org digest)"
    team = org.config.team(scope)
    return team.name if team else scope


def charts_dir(path: str) -> Path | str:
    """The directory `--charts` writes into (created if missing), or why it cannot be."""
    where = Path(path)
    if where.exists() and not where.is_dir():
        return f"--charts {path}: that is a file, not a directory"
    try:
        where.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"--charts {path}: cannot create the directory ({exc.strerror or exc})"
    return where


def _write(folder: Path, files: list[ChartFile], written: set[str], out: TextIO) -> None:
    for file in files:
        if file.filename in written:
            continue  # the org's maturity trend, carried by every digest: once
        written.add(file.filename)
        (folder / file.filename).write_bytes(file.data)
        print(f"  wrote {folder / file.filename}", file=out)


def digest_command(
    runtime: Runtime,
    *,
    week: str | None,
    team: str | None,
    send: bool,
    out: TextIO,
    err: TextIO,
    charts: str | None = None,
) -> int:
    org, now = runtime.org, runtime.clock.now()
    if charts is not None and send:
        print(
            "crosstalk digest: --charts writes what a dry run would send; not with --send", file=err
        )
        return 2
    folder = charts_dir(charts) if charts is not None else None
    if isinstance(folder, str):
        print(f"crosstalk digest: {folder}", file=err)
        return 2
    keys = org.config.team_keys
    if team is not None and team not in (*keys, MANAGERS):
        print(
            f"crosstalk digest: unknown team {team!r}; use one of {', '.join(keys)} or {MANAGERS}",
            file=err,
        )
        return 2
    given = (week or week_before(now, org.config.org.zone)).strip()
    try:  # checked as given, so an error echoes what was typed
        starts, _ = iso_week_bounds(given, org.config.org.zone)
    except ValueError as exc:
        print(f"crosstalk digest: {exc}", file=err)
        return 2
    week = given.upper()
    if starts > now:
        this_week = iso_week_of(now, org.config.org.zone)
        print(
            f"crosstalk digest: {given} has not happened yet (this is {this_week}); "
            "give a past week, or none for the last complete one",
            file=err,
        )
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
    written: set[str] = set()
    with session_scope(runtime.engine) as session:
        for scope in scopes:
            digest = build(session=session, org=org, scope=scope, week=week, now=now)
            if digest.card is None:
                print(f"{_label(org, scope)}, {week}: a quiet week, nothing to send\n", file=out)
                continue
            print(card_text(digest.card), file=out)
            if digest.team_chart is not None:
                weeks = len(digest.team_chart.points)
                print(f"  [+ first-response and flags chart, {weeks} weeks]", file=out)
            if digest.chart is not None:
                print(f"  [+ maturity trend chart, {len(digest.chart)} weeks]", file=out)
            if folder is not None:
                _write(folder, digest_files(org, digest), written, out)
            print(file=out)
    return 0
