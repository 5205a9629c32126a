"""Response times (METRICS.md "Time figures"), stored on the broadcast as seconds so that
reports aggregate them in SQL. Recomputed from the interpretations themselves, so an edit,
a deletion or a late-recorded post always leaves consistent figures."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.core.timecalc import BusinessHours, business_seconds
from bot.handlers.context import OrgContext
from config.schema import OrgConfig
from store import interpretations
from store.models import Broadcast, Flag


def durations(
    start: datetime | None, end: datetime | None, hours: BusinessHours, zone: ZoneInfo
) -> tuple[float | None, float | None]:
    """(wall-clock seconds, business seconds) from start to end, or (None, None)."""
    if start is None or end is None:
        return None, None
    wall = max(0.0, (end - start).total_seconds())
    return wall, business_seconds(start, end, hours, zone)


def refresh_broadcast(session: Session, broadcast: Broadcast, org: OrgContext) -> None:
    """The broadcast's times, on its team's business hours (parsed once, in config; a team
    since removed from the config keeps the org's)."""
    team = org.team_by_id(broadcast.team_id)
    hours, zone = (team.hours, team.zone) if team else (org.config.org.hours, org.config.org.zone)
    rows = interpretations.live_of_broadcast(session=session, broadcast_id=broadcast.id)
    first = rows[0] if rows else None
    cross = next((r for r in rows if r.cross_team), None)
    broadcast.first_response_at = first.created_at if first else None
    broadcast.first_response_by = first.author_id if first else None
    broadcast.cross_first_response_at = cross.created_at if cross else None
    broadcast.cross_first_response_by = cross.author_id if cross else None
    start = broadcast.posted_at
    broadcast.tta_seconds, broadcast.tta_business_seconds = durations(
        start, broadcast.acknowledged_at, hours, zone
    )
    broadcast.ttfr_seconds, broadcast.ttfr_business_seconds = durations(
        start, broadcast.first_response_at, hours, zone
    )
    broadcast.cross_ttfr_seconds, broadcast.cross_ttfr_business_seconds = durations(
        start, broadcast.cross_first_response_at, hours, zone
    )
    session.add(broadcast)


def refresh_flag(session: Session, flag: Flag, org: OrgConfig) -> None:
    if flag.resolved_at is None:
        flag.ttr_seconds = flag.ttr_business_seconds = None
    else:
        flag.ttr_seconds = max(0.0, (flag.resolved_at - flag.flagged_at).total_seconds())
        flag.ttr_business_seconds = business_seconds(
            flag.flagged_at, flag.resolved_at, org.hours, org.zone
        )
    session.add(flag)
