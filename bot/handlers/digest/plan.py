"""Weekly digests (SPEC "Weekly digest and nudges"): what is due, and queuing it once.

Each digest is an outbox row whose dedupe key names (org, team, ISO week) — or the managers
and the week — so it is sent at most once across restarts, replicas and `crosstalk digest
--send`: the database's unique key decides, not the scheduler. The scheduled job only works
out which digests are due and queues them; the outbox worker sends them (bot.outbox.features).

A digest is due from its local weekly time until GRACE later, for the ISO week that ended
before that time; a server that was down at 09:00 catches up when it is back, and a new
install does not post last week's news on a Thursday.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.cards import Card
from bot.core.clock import Clock
from bot.core.refs import Platform
from bot.core.timecalc import iso_week_bounds
from bot.handlers.context import OrgContext
from bot.handlers.digest.card import chart_points, org_card, team_card
from bot.handlers.digest.data import is_quiet, org_week, team_topics, team_week
from bot.handlers.digest.figures import TREND_WEEKS, OrgFigures, org_figures
from bot.handlers.digest.series import SERIES_WEEKS, TeamSeries, team_series
from bot.handlers.digest.weeks import WeeklyTime, last_send, local_instant, week_before
from bot.listening.figures import with_listening
from store.db import session_scope
from store.outbox_keys import existing_keys
from store.queue import enqueue_outbox

log = logging.getLogger("crosstalk.digest")
KIND = "digest"
CHART = "digest_chart"  # its trend chart, uploaded into the digest's thread
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
    platform: Platform
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
    chart: tuple[tuple[str, int | None], ...] | None = None  # the maturity trend
    team_chart: TeamSeries | None = None  # a team's weeks: flags, p50 against its SLA


def scope_timezone(org: OrgContext, scope: str) -> tzinfo:
    team = org.config.team(scope)
    return team.zone if team else org.config.org.zone


def _to_managers(org: OrgContext, base: str) -> list[Recipient]:
    """The managers' channel(s), or else a direct message to each manager on the platform
    the config names them on."""
    d = org.config.digest
    found: list[Recipient] = []
    if d.managers_channel:
        found.append(Recipient(base, Platform.SLACK, channel=d.managers_channel))
    if d.managers_teams_channel:
        found.append(Recipient(f"{base}:teams", Platform.TEAMS, channel=d.managers_teams_channel))
    return found or [
        Recipient(f"{base}:{user.id}", user.platform, user=user.id)
        for user in org.config.roi.manager_refs
    ]


def recipients(org: OrgContext, due: Due) -> list[Recipient]:
    """Where a digest goes, each with its own dedupe key: a team's channel(s), or the
    managers (see _to_managers)."""
    base = f"digest:{org.org_id}:{due.scope}:{due.week}"
    if due.scope == MANAGERS:
        return _to_managers(org, base)
    team = org.config.team(due.scope)
    if team is None:
        raise ValueError(f"unknown team {due.scope!r}")
    out: list[Recipient] = []
    if team.slack_channel:
        out.append(Recipient(base, Platform.SLACK, channel=team.slack_channel))
    if team.teams_channel:
        key = f"{base}:teams" if out else base
        out.append(Recipient(key, Platform.TEAMS, channel=team.teams_channel))
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


def _topics(org: OrgContext, key: str) -> list[str]:
    return team_topics(key, [(r.teams, r.topics) for r in org.config.routes])


def _quiet(session: Session, org: OrgContext, due: Due) -> bool:
    start, end = iso_week_bounds(due.week, scope_timezone(org, due.scope))
    if due.scope == MANAGERS:
        week = org_week(session=session, org_id=org.org_id, week=due.week, start=start, end=end)
        return week.quiet
    return is_quiet(
        session=session,
        org_id=org.org_id,
        team_id=org.ids.team_ids[due.scope],
        topics=_topics(org, due.scope),
        start=start,
        end=end,
    )


def _target(due: Due, r: Recipient) -> str:
    return json.dumps({"scope": due.scope, "week": due.week, "channel": r.channel, "user": r.user})


def enqueue(*, session: Session, org: OrgContext, items: list[Due], now: datetime) -> Queued:
    """Queue each digest not queued before, unless its week was quiet. Safe to run from any
    number of processes at once: a key already present is left alone. The caller commits,
    then wakes the outbox (see queue)."""
    result = Queued()
    for due in items:
        wanted = recipients(org, due)
        have = existing_keys(session=session, keys=[r.key for r in wanted])
        result.existing += [r.key for r in wanted if r.key in have]
        missing = [r for r in wanted if r.key not in have]
        if not missing:
            continue
        if _quiet(session, org, due):
            result.quiet.append(due)
            continue
        for r in missing:
            added = enqueue_outbox(
                session,
                org_id=org.org_id,
                dedupe_key=r.key,
                kind=KIND,
                platform=r.platform,
                now=now,
                target=_target(due, r),
            )
            (result.queued if added else result.existing).append(r.key)
    return result


def announce(org: OrgContext, result: Queued) -> None:
    """Once the queued digests are committed: log them and wake the outbox."""
    if result.queued:
        log.info("queued %d digest(s): %s", len(result.queued), ", ".join(result.queued))
        org.wake_outbox()


def queue(*, engine: Engine, org: OrgContext, items: list[Due], now: datetime) -> Queued:
    """Queue `items` in one transaction on this thread (the CLI, tests), then announce."""
    with session_scope(engine) as session:
        result = enqueue(session=session, org=org, items=items, now=now)
    announce(org, result)
    return result


def run_due(*, engine: Engine, org: OrgContext, clock: Clock) -> Queued:
    """Queue whatever digest is due now, on this thread (the scheduler's job does the same
    on the database's threads)."""
    now = clock.now()
    return queue(engine=engine, org=org, items=due_digests(org, now), now=now)


def _trend_weeks(week: str, tz: tzinfo, count: int = TREND_WEEKS) -> list[tuple[str, datetime]]:
    """The `count` weeks ending with `week`, each with the instant it ends."""
    year, number = (int(part) for part in week.upper().split("-W"))
    monday = date.fromisocalendar(year, number, 1)
    out = []
    for back in range(count - 1, -1, -1):
        first = monday - timedelta(weeks=back)
        y, w, _ = first.isocalendar()
        out.append((f"{y:04d}-W{w:02d}", local_instant(first + timedelta(days=7), time(), tz)))
    return out


def build(session: Session, org: OrgContext, *, scope: str, week: str, now: datetime) -> Digest:
    """Compose a digest from the database as it is now (at send time, or for a dry run).
    A team gone from the config since its digest was queued has nothing to send."""
    tz = scope_timezone(org, scope)
    start, end = iso_week_bounds(week, tz)
    names = {t.key: t.name for t in org.config.teams}
    if scope == MANAGERS:
        ow = org_week(session=session, org_id=org.org_id, week=week, start=start, end=end)
        if ow.quiet:
            return Digest(scope, week, None)
        figures = _figures(session, org, week, start, tz, now)
        card = org_card(org.config.org.name, ow, figures, names)
        card = with_listening(card, session, org_id=org.org_id, start=start, end=end)
        return Digest(scope, week, card, chart_points(figures.maturity))
    team, team_id = org.config.team(scope), org.ids.team_ids.get(scope)
    if team is None or team_id is None:
        return Digest(scope, week, None)
    tw = team_week(
        session=session,
        org_id=org.org_id,
        team_id=team_id,
        team=team,
        topics=_topics(org, scope),
        week=week,
        start=start,
        end=end,
        now=now,
    )
    if tw.quiet:
        return Digest(scope, week, None)
    figures = _figures(session, org, week, start, tz, now)
    weeks = _trend_weeks(week, tz, SERIES_WEEKS)
    spans = [
        (w, weeks[i - 1][1] if i else start_of(w, tz), end) for i, (w, end) in enumerate(weeks)
    ]
    series = team_series(session=session, team_id=team_id, team=team, weeks=spans)
    return Digest(
        scope, week, team_card(tw, figures, names), chart_points(figures.maturity), series
    )


def start_of(week: str, tz: tzinfo) -> datetime:
    return iso_week_bounds(week, tz)[0]


def _figures(
    session: Session, org: OrgContext, week: str, start: datetime, tz: tzinfo, now: datetime
) -> OrgFigures:
    weeks = _trend_weeks(week, tz)
    return org_figures(session, org, weeks=weeks, week_start=start, tz=tz, now=now)
