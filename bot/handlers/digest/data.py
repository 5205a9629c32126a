"""What a weekly digest is made of, for one ISO week: the store's reads summarised.

Team-week figures are small (one team's broadcasts in one week), so they are read with
plain queries (store.digests) and summarised here; org-wide network figures and the
maturity score come from the /roi figures engine (see digest.figures). The SLA clock is
the team's business hours as the config gives them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.core.timecalc import business_seconds, percentile
from config.schema import TeamConfig
from store import digests as reads
from store.models import Broadcast, Flag

EXCERPT = 90
SAID = 160


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class FlagLine:
    flag_id: int
    excerpt: str
    permalink: str | None
    since: datetime
    team: str | None = None


@dataclass(frozen=True)
class Said:
    team: str
    platform: str
    author_id: str
    text: str
    excerpt: str
    permalink: str | None


@dataclass(frozen=True)
class Handled:
    excerpt: str
    permalink: str | None
    topics: tuple[str, ...]
    by: tuple[str, ...]
    resolved: bool


@dataclass(frozen=True)
class TeamWeek:
    key: str
    name: str
    week: str
    sla_seconds: float
    routed: int
    answered: int
    unanswered: tuple[FlagLine, ...]
    said: tuple[Said, ...]
    handled: tuple[Handled, ...]
    ttfr_p50: float | None  # business seconds, the clock the SLA runs on
    within_sla: int
    due: int

    @property
    def quiet(self) -> bool:
        """Nothing routed to the team, nothing said on its flags, nothing on its topics."""
        return self.routed == 0 and not self.said and not self.handled


@dataclass(frozen=True)
class TeamPace:
    name: str
    p50: float
    answered: int


@dataclass(frozen=True)
class Theme:
    topic: str
    flags: int
    negative: int


@dataclass(frozen=True)
class OrgWeek:
    week: str
    flags: int
    broadcasts: int
    answered: int
    interpretations: int
    cross_team: int
    unanswered: tuple[FlagLine, ...]
    pace: tuple[TeamPace, ...]  # fastest first
    themes: tuple[Theme, ...]

    @property
    def quiet(self) -> bool:
        return self.flags == 0 and self.broadcasts == 0 and self.interpretations == 0


def _past_sla(b: Broadcast, team: TeamConfig, now: datetime) -> bool:
    if b.posted_at is None:
        return False
    return business_seconds(b.posted_at, now, team.hours, team.zone) > team.sla_seconds


def team_topics(team_key: str, routes: list[tuple[list[str], list[str]]]) -> list[str]:
    """A team's topics: its key (every flag that reaches a team carries it) and the tags of
    the routing rules that send flags to it. `routes` holds (teams, topics) per rule."""
    topics = [team_key]
    for teams, tags in routes:
        if team_key in teams:
            topics += [t for t in tags if t not in topics]
    return topics


def _said(
    session: Session, org_id: int, team_id: int, start: datetime, end: datetime
) -> list[Said]:
    rows = reads.said_on_team_flags(
        session=session, org_id=org_id, team_id=team_id, start=start, end=end
    )
    return [
        Said(
            team=name or "outside any team",
            platform=i.platform,
            author_id=i.author_id,
            text=clip(i.text, SAID),
            excerpt=clip(f.excerpt, EXCERPT),
            permalink=f.permalink,
        )
        for i, f, name in rows
    ]


def _handled(
    session: Session, org_id: int, team_id: int, topics: list[str], start: datetime, end: datetime
) -> list[Handled]:
    flags = reads.handled_elsewhere(
        session=session, org_id=org_id, team_id=team_id, topics=topics, start=start, end=end
    )
    ids = [f.id for f in flags if f.id is not None]
    tags = reads.topics_among(session=session, flag_ids=ids, topics=topics)
    by = reads.answering_teams(session=session, flag_ids=ids)
    return [
        Handled(
            excerpt=clip(f.excerpt, EXCERPT),
            permalink=f.permalink,
            topics=tuple(tags.get(f.id or 0, ())),
            by=tuple(by.get(f.id or 0, ())),
            resolved=f.status == "resolved",
        )
        for f in flags
    ]


def _waiting(rows: list[tuple[Broadcast, Flag]]) -> list[tuple[Broadcast, Flag]]:
    """Cards with no first response whose flag is still open."""
    return [
        (b, f)
        for b, f in rows
        if b.first_response_at is None and f.status not in ("resolved", "dismissed")
    ]


def team_week(
    *,
    session: Session,
    org_id: int,
    team_id: int,
    team: TeamConfig,
    topics: list[str],
    week: str,
    start: datetime,
    end: datetime,
    now: datetime,
) -> TeamWeek:
    rows = reads.routed_to_team(session=session, team_id=team_id, start=start, end=end)
    answered = [b for b, _ in rows if b.first_response_at is not None]
    waiting = _waiting(rows)
    times = [b.ttfr_business_seconds for b in answered if b.ttfr_business_seconds is not None]
    within = sum(1 for t in times if t <= team.sla_seconds)
    missed = sum(1 for b, _ in waiting if _past_sla(b, team, now))
    return TeamWeek(
        key=team.key,
        name=team.name,
        week=week,
        sla_seconds=team.sla_seconds,
        routed=len(rows),
        answered=len(answered),
        unanswered=tuple(
            FlagLine(f.id or 0, clip(f.excerpt, EXCERPT), f.permalink, b.posted_at or b.created_at)
            for b, f in waiting
        ),
        said=tuple(_said(session, org_id, team_id, start, end)),
        handled=tuple(_handled(session, org_id, team_id, topics, start, end)),
        ttfr_p50=percentile(times, 0.5),
        within_sla=within,
        due=len(times) + missed,
    )


def is_quiet(
    *,
    session: Session,
    org_id: int,
    team_id: int,
    topics: list[str],
    start: datetime,
    end: datetime,
) -> bool:
    """The cheap test the due check runs every minute: no broadcast to the team, no other
    team's interpretation on its flags, nothing handled on its topics."""
    if reads.count_routed_to_team(session=session, team_id=team_id, start=start, end=end):
        return False
    return not _said(session, org_id, team_id, start, end) and not _handled(
        session, org_id, team_id, topics, start, end
    )


def _pace(rows: list[tuple[Broadcast, Flag]], names: dict[int, str]) -> list[TeamPace]:
    """Each team's p50 time to first response (business hours), fastest first."""
    per_team: dict[int, list[float]] = {}
    for b, _ in rows:
        if b.ttfr_business_seconds is not None:
            per_team.setdefault(b.team_id, []).append(b.ttfr_business_seconds)
    return sorted(
        (
            TeamPace(names.get(tid, "?"), percentile(values, 0.5) or 0.0, len(values))
            for tid, values in per_team.items()
        ),
        key=lambda p: (p.p50, p.name),
    )


def org_week(
    *, session: Session, org_id: int, week: str, start: datetime, end: datetime
) -> OrgWeek:
    names = reads.team_names(session=session, org_id=org_id)
    rows = reads.routed_in_org(session=session, org_id=org_id, start=start, end=end)
    interpretations, cross_team = reads.count_interpretations(
        session=session, org_id=org_id, start=start, end=end
    )
    themes = reads.top_topics(session=session, org_id=org_id, start=start, end=end)
    return OrgWeek(
        week=week,
        flags=reads.count_flags(session=session, org_id=org_id, start=start, end=end),
        broadcasts=len(rows),
        answered=sum(1 for b, _ in rows if b.first_response_at is not None),
        interpretations=interpretations,
        cross_team=cross_team,
        unanswered=tuple(
            FlagLine(
                f.id or 0,
                clip(f.excerpt, EXCERPT),
                f.permalink,
                b.posted_at or b.created_at,
                names.get(b.team_id),
            )
            for b, f in _waiting(rows)
        ),
        pace=tuple(_pace(rows, names)),
        themes=tuple(Theme(t, n, neg) for t, n, neg in themes),
    )
