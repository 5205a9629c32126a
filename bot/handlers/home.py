"""A person's own view of Crosstalk (SPEC "Dashboard": Slack App Home), as neutral data:
the cards of their teams still waiting for a first response (past the SLA first, each with
its age and SLA on the SLA's clock, business hours), the flags they raised that wait for
their rating, and, for a manager, the /roi headline figures (the same report, period and
card as `/roi`) and whether a dashboard link can be sent.

Read in one read-only transaction; the adapter renders it and publishes it. Publishing a
home view is idempotent (the latest replaces the last), so it is not an outbox side effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.core.cards import Card
from bot.core.clock import Clock
from bot.core.refs import UserRef
from bot.core.timecalc import business_seconds
from bot.handlers.context import OrgContext
from bot.handlers.digest.data import clip
from bot.handlers.roi.periods import parse_period
from bot.handlers.roi.report import build_report
from bot.handlers.roi.view import roi_card
from store import home as reads
from store.orgs import teams_of

LIMIT = 10  # of each list: a home tab is a glance, the dashboard has the rest
HORIZON = timedelta(days=30)  # older waiting cards and unrated flags are history
EXCERPT = 140
NO_PUBLIC_URL = (
    "Dashboard links need the server's public address: the admin sets CROSSTALK_PUBLIC_URL."
)


@dataclass(frozen=True)
class Waiting:
    broadcast_id: int
    team: str
    platform: str
    channel_id: str
    excerpt: str
    permalink: str | None
    posted_at: datetime
    age_seconds: float  # business seconds, the clock the SLA runs on
    sla_seconds: float

    @property
    def past_sla(self) -> bool:
        return self.sla_seconds > 0 and self.age_seconds > self.sla_seconds


@dataclass(frozen=True)
class ToRate:
    flag_id: int
    excerpt: str
    permalink: str | None
    flagged_at: datetime
    interpretations: int


@dataclass(frozen=True)
class ManagerPart:
    figures: Card  # the /roi card, default period
    link_problem: str | None  # why no dashboard link can be sent; None: the button works


@dataclass(frozen=True)
class HomeView:
    user: UserRef
    teams: tuple[str, ...]  # the names of the user's teams
    waiting: tuple[Waiting, ...]  # past the SLA first, then the oldest first
    to_rate: tuple[ToRate, ...]  # newest first
    manager: ManagerPart | None


def _waiting(
    session: Session, org: OrgContext, team_ids: list[int], now: datetime
) -> list[Waiting]:
    rows = reads.waiting_for_teams(
        session=session, org_id=org.org_id, team_ids=team_ids, since=now - HORIZON, limit=100
    )
    out: list[Waiting] = []
    for b, flag in rows:
        team = org.team_by_id(b.team_id)
        if team is None or b.posted_at is None or b.id is None:
            continue  # a team gone from the config is nobody's to answer now
        out.append(
            Waiting(
                broadcast_id=b.id,
                team=team.name,
                platform=b.platform,
                channel_id=b.channel_id,
                excerpt=clip(flag.excerpt, EXCERPT),
                permalink=flag.permalink,
                posted_at=b.posted_at,
                age_seconds=business_seconds(b.posted_at, now, team.hours, team.zone),
                sla_seconds=team.sla_seconds,
            )
        )
    out.sort(key=lambda w: (not w.past_sla, w.posted_at))
    return out[:LIMIT]


def home_view(
    *, session: Session, org: OrgContext, user: UserRef, clock: Clock, public_url: str | None
) -> HomeView:
    now = clock.now()
    team_ids = teams_of(session, org.org_id, user.platform.value, user.id)
    names = tuple(t.name for t in (org.team_by_id(i) for i in team_ids) if t is not None)
    rated = reads.awaiting_rating(
        session=session,
        org_id=org.org_id,
        platform=user.platform.value,
        user_id=user.id,
        since=now - HORIZON,
        limit=LIMIT,
    )
    to_rate = tuple(
        ToRate(f.id or 0, clip(f.excerpt, EXCERPT), f.permalink, f.flagged_at, n) for f, n in rated
    )
    manager = None
    if org.config.roi.is_manager(user):
        period = parse_period(None, timezone=org.config.org.timezone, clock=clock)
        report = build_report(session=session, org=org, clock=clock, period=period)
        problem = None if (public_url or "").strip() else NO_PUBLIC_URL
        manager = ManagerPart(roi_card(report.to_json()), problem)
    return HomeView(user, names, tuple(_waiting(session, org, team_ids, now)), to_rate, manager)
