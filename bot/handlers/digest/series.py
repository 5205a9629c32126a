"""A team's weeks, for the chart in its weekly digest: per ISO week, the flags routed to it
and its first-response p50 in business hours (the clock its SLA runs on, as in the digest's
"First response" line), the digest's week last.

One read over the whole span (store.digests.routed_to_team), bucketed here by the same
half-open local weeks the digest uses, so a week's bar and the digest's count agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.core.timecalc import percentile
from config.schema import TeamConfig
from store import digests as reads

SERIES_WEEKS = 10  # within the 8-12 weeks a trend needs to be read at a glance


@dataclass(frozen=True)
class WeekPoint:
    week: str  # "W47"
    flags: int  # routed to the team that week (active broadcasts)
    p50: float | None  # business seconds; None: no first response that week


@dataclass(frozen=True)
class TeamSeries:
    key: str
    name: str
    sla_seconds: float
    points: tuple[WeekPoint, ...]  # oldest first

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "sla_seconds": self.sla_seconds,
            "points": [[p.week, p.flags, p.p50] for p in self.points],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TeamSeries:
        points = tuple(
            WeekPoint(str(week), int(flags), None if p50 is None else float(p50))
            for week, flags, p50 in data["points"]
        )
        return cls(str(data["key"]), str(data["name"]), float(data["sla_seconds"]), points)


def team_series(
    *,
    session: Session,
    team_id: int,
    team: TeamConfig,
    weeks: list[tuple[str, datetime, datetime]],
) -> TeamSeries | None:
    """`weeks`: (ISO week, start, end) oldest first. None when no flag reached the team in
    any of them: an empty chart says nothing."""
    if not weeks:
        return None
    rows = reads.routed_to_team(
        session=session, team_id=team_id, start=weeks[0][1], end=weeks[-1][2]
    )
    points = []
    for week, start, end in weeks:
        mine = [b for b, _ in rows if start <= (b.posted_at or b.created_at) < end]
        times = [b.ttfr_business_seconds for b in mine if b.ttfr_business_seconds is not None]
        points.append(WeekPoint(week.split("-")[-1], len(mine), percentile(times, 0.5)))
    if not any(p.flags for p in points):
        return None
    return TeamSeries(team.key, team.name, team.sla_seconds, tuple(points))
