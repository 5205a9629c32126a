"""Weekly digests (SPEC "Weekly digest and nudges"): what is due, and queuing it once.

Each digest is an outbox row whose dedupe key names (org, team, ISO week) — or the managers
and the week — so it is sent at most once across restarts, replicas and `crosstalk digest
--send`: the database's unique key decides, not the scheduler. The scheduled job only works
out which digests are due and queues them; the outbox worker sends them (digest_send).

A digest is due from its local weekly time until GRACE later, for the ISO week that ended
before that time; a server that was down at 09:00 catches up when it is back, and a new
install does not post last week's news on a Thursday.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.core.cards import Card
from bot.core.clock import Clock
from bot.core.timecalc import iso_week_bounds
from bot.handlers.context import OrgContext
from bot.handlers.digest.card import chart_points, org_card, team_card
from bot.handlers.digest.data import is_quiet, org_week, team_topics, team_week
from bot.handlers.digest.figures import TREND_WEEKS, OrgFigures, org_figures
from bot.handlers.digest.weeks import WeeklyTime, last_send, local_instant, week_before
from store.db import session_scope
from store.models import OutboxMessage, Team
from store.queue import enqueue_outbox

log = logging.getLogger("crosstalk.digest")
KIND = "digest"
MANAGERS = "managers"
GRACE = timedelta(days=2)
ORG_DIGEST_AT = WeeklyTime.parse("mon 09:00")  # the managers' digest, in the org timezone


@dataclass(frozen=True)
class Due:
    scope: str  # a team key, or MANAGERS
    week: str


@dataclass(frozen=True)
class Recipient:
    key: str
    platform: str
    channel: str | None = None
    user: str | None = None


@dataclass
class Queued:
    queued: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    quiet: list[Due] = field(default_factory=list)


@dataclass(frozen=True)
class Digest:
    scope: str
    week: str
    card: Card | None  # None: a quiet week, nothing to send
    chart: tuple[tuple[str, int | None], ...] | None = None


def user_platform(user_id: str) -> str:
    """Slack user ids look like U0ANN / W0ANN; anything else is a Teams (AAD) id (the same
    rule as store.orgs for members)."""
    return "slack" if user_id[:1] in ("U", "W") and user_id.isalnum() else "teams"


def scope_timezone(org: OrgContext, scope: str) -> tzinfo:
    team = org.config.team(scope)
    return ZoneInfo((team.timezone if team else None) or org.config.org.timezone)


def recipients(org: OrgContext, due: Due) -> list[Recipient]:
    """Where a digest goes, each with its own dedupe key: a team's channel(s); the managers'
    channel(s), or else a direct message to each manager."""
    base = f"digest:{org.org_id}:{due.scope}:{due.week}"
    if due.scope == MANAGERS:
        d = org.config.digest
        found = [Recipient(base, "slack", channel=d.managers_channel)] if d.managers_channel else []
        if d.managers_teams_channel:
            found.append(Recipient(f"{base}:teams", "teams", channel=d.managers_teams_channel))
        if found:
            return found
        return [
            Recipient(f"{base}:{user}", user_platform(user), user=user)
            for user in org.config.roi.managers
        ]
    team = org.config.team(due.scope)
    if team is None:
        raise ValueError(f"unknown team {due.scope!r}")
    out = [Recipient(base, "slack", channel=team.slack_channel)] if team.slack_channel else []
    if team.teams_channel:
        key = f"{base}:teams" if out else base
        out.append(Recipient(key, "teams", channel=team.teams_channel))
    return out


def due_digests(org: OrgContext, now: datetime) -> list[Due]:
    """Every digest whose local weekly time passed within GRACE before `now`."""
    out: list[Due] = []
    plans = [(t.key, WeeklyTime.parse(t.digest)) for t in org.config.teams]
    for scope, when in [*plans, (MANAGERS, ORG_DIGEST_AT)]:
        tz = scope_timezone(org, scope)
        sent_at = last_send(when, tz, now)
        if now - sent_at <= GRACE:
            out.append(Due(scope, week_before(sent_at, tz)))
    return out


def _team_row(session: Session, org: OrgContext, key: str) -> Team:
    team = session.exec(select(Team).where(Team.org_id == org.org_id, Team.key == key)).one()
    return team


def _topics(org: OrgContext, key: str) -> list[str]:
    return team_topics(key, [(r.teams, r.topics) for r in org.config.routes])


def _quiet(session: Session, org: OrgContext, due: Due) -> bool:
    start, end = iso_week_bounds(due.week, scope_timezone(org, due.scope))
    if due.scope == MANAGERS:
        return org_week(session, org.org_id, week=due.week, start=start, end=end).quiet
    team = _team_row(session, org, due.scope)
    return is_quiet(session, team, topics=_topics(org, due.scope), start=start, end=end)


def enqueue(*, engine: Engine, org: OrgContext, items: list[Due], now: datetime) -> Queued:
    """Queue each digest not queued before, unless its week was quiet. Safe to run from any
    number of processes at once: a key already present is left alone."""
    result = Queued()
    with session_scope(engine) as session:
        for due in items:
            wanted = recipients(org, due)
            keys = [r.key for r in wanted]
            have = set(
                session.exec(
                    select(OutboxMessage.dedupe_key).where(col(OutboxMessage.dedupe_key).in_(keys))
                ).all()
            )
            result.existing += [k for k in keys if k in have]
            missing = [r for r in wanted if r.key not in have]
            if not missing:
                continue
            if _quiet(session, org, due):
                result.quiet.append(due)
                continue
            for r in missing:
                target = {
                    "scope": due.scope,
                    "week": due.week,
                    "channel": r.channel,
                    "user": r.user,
                }
                added = enqueue_outbox(
                    session,
                    org_id=org.org_id,
                    dedupe_key=r.key,
                    kind=KIND,
                    platform=r.platform,
                    now=now,
                    target=json.dumps(target),
                )
                (result.queued if added else result.existing).append(r.key)
    if result.queued:
        log.info("queued %d digest(s): %s", len(result.queued), ", ".join(result.queued))
        org.wake_outbox()
    return result


def run_due(*, engine: Engine, org: OrgContext, clock: Clock) -> Queued:
    """The scheduled job: queue whatever digest is due now."""
    now = clock.now()
    return enqueue(engine=engine, org=org, items=due_digests(org, now), now=now)


def _trend_weeks(week: str, tz: tzinfo) -> list[tuple[str, datetime]]:
    """The TREND_WEEKS weeks ending with `week`, each with the instant it ends."""
    year, number = (int(part) for part in week.upper().split("-W"))
    monday = date.fromisocalendar(year, number, 1)
    out = []
    for back in range(TREND_WEEKS - 1, -1, -1):
        first = monday - timedelta(weeks=back)
        y, w, _ = first.isocalendar()
        out.append((f"{y:04d}-W{w:02d}", local_instant(first + timedelta(days=7), time(), tz)))
    return out


def build(session: Session, org: OrgContext, *, scope: str, week: str, now: datetime) -> Digest:
    """Compose a digest from the database as it is now (at send time, or for a dry run)."""
    tz = scope_timezone(org, scope)
    start, end = iso_week_bounds(week, tz)
    names = {t.key: t.name for t in org.config.teams}
    if scope == MANAGERS:
        ow = org_week(session, org.org_id, week=week, start=start, end=end)
        if ow.quiet:
            return Digest(scope, week, None)
        figures = _figures(session, org, week, start, tz, now)
        card = org_card(org.config.org.name, ow, figures, names)
        return Digest(scope, week, card, chart_points(figures.maturity))
    tw = team_week(
        session,
        _team_row(session, org, scope),
        topics=_topics(org, scope),
        week=week,
        start=start,
        end=end,
        now=now,
    )
    if tw.quiet:
        return Digest(scope, week, None)
    figures = _figures(session, org, week, start, tz, now)
    return Digest(scope, week, team_card(tw, figures, names), chart_points(figures.maturity))


def _figures(
    session: Session, org: OrgContext, week: str, start: datetime, tz: tzinfo, now: datetime
) -> OrgFigures:
    weeks = _trend_weeks(week, tz)
    return org_figures(session, org, weeks=weeks, week_start=start, tz=tz, now=now)
