"""The demo's closing sections: what the weeks before the story added up to, and the charts
the weekly digests carry, written as PNG files a person can open (the same files the
outbox would upload: bot.handlers.digest.files)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.timecalc import iso_week_of
from bot.demo.standins.harness import Server
from bot.handlers.digest.files import ChartFile, digest_files
from bot.handlers.digest.plan import MANAGERS, build
from store.db import session_scope
from store.models import Flag, Interpretation, Outcome, Rating
from store.models_listening import Suggestion


def history_section(server: Server, story_start: datetime, weeks: int) -> list[str]:
    org_id = server.runtime.org.org_id
    with Session(server.runtime.engine) as s:
        before = col(Flag.flagged_at) < story_start
        by_platform = dict(
            s.exec(
                select(Flag.platform, func.count())
                .where(Flag.org_id == org_id, before)
                .group_by(col(Flag.platform))
            ).all()
        )
        interps = s.exec(
            select(func.count())
            .select_from(Interpretation)
            .where(
                Interpretation.org_id == org_id,
                col(Interpretation.created_at) < story_start,
                col(Interpretation.cross_team).is_(True),
            )
        ).one()
        outcomes = s.exec(
            select(func.count(), func.coalesce(func.sum(Outcome.amount), 0.0)).where(
                Outcome.org_id == org_id
            )
        ).one()
        ratings = s.exec(select(func.count()).where(Rating.org_id == org_id)).one()
        suggested = dict(
            s.exec(
                select(Suggestion.state, func.count())
                .where(Suggestion.org_id == org_id)
                .group_by(col(Suggestion.state))
            ).all()
        )
    flags = sum(by_platform.values())
    return [
        f"THE {weeks} WEEKS BEFORE (played the same way, through the server, week by week)",
        f"  {flags} flags ({by_platform.get('slack', 0)} in Slack,"
        f" {by_platform.get('teams', 0)} in Microsoft Teams), {interps} cross-team"
        " interpretations;",
        "  the teams answer faster every week (the charts below show it)",
        f"  {outcomes[0]} business outcomes recorded with their CRM refs"
        f" ({outcomes[1]:,.0f} USD in all); {ratings} ratings by the flaggers",
        f"  listening: {sum(suggested.values())} customer messages suggested in"
        f" #listening-triage; {suggested.get('flagged', 0)} flagged from there,"
        f" {suggested.get('dismissed', 0)} not a flag, {suggested.get('open', 0)} left open",
    ]


def write_charts(server: Server, folder: Path) -> list[ChartFile]:
    """The story week's digests' charts (each team's weeks, the org's maturity trend),
    written into `folder`; the files written."""
    runtime = server.runtime
    org, now = runtime.org, runtime.clock.now()
    week = iso_week_of(now, ZoneInfo(org.config.org.timezone))
    files: list[ChartFile] = []
    with session_scope(runtime.engine) as session:
        for scope in [*org.config.team_keys, MANAGERS]:
            digest = build(session, org, scope=scope, week=week, now=now)
            if digest.card is None:
                continue
            for file in digest_files(org, digest):
                if file.filename not in {f.filename for f in files}:
                    files.append(file)
    files.sort(key=lambda f: f.filename.startswith("maturity-"))  # the teams' first
    folder.mkdir(parents=True, exist_ok=True)
    for file in files:
        (folder / file.filename).write_bytes(file.data)
    return files


def charts_section(folder: Path, files: list[ChartFile]) -> list[str]:
    lines = ["", f"CHARTS the weekly digests carry, written to {folder}/ (open them):"]
    lines += [f"  {folder / f.filename}  {f.title}" for f in files]
    return [*lines, ""]
