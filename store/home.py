"""The reads behind a person's Slack App Home (bot.handlers.home): their teams' cards still
waiting for a first response, and the flags they raised that wait for their rating.

"Waiting" is the nudges' (store.nudges): a posted card with no first response, still
active, on a flag still open. Every read is scoped to the org."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import and_, exists, func
from sqlmodel import Session, col, select

from store.models import Broadcast, Flag, FlagFlagger, Interpretation, Rating
from store.nudges import OPEN


def waiting_for_teams(
    *, session: Session, org_id: int, team_ids: Collection[int], since: datetime, limit: int
) -> list[tuple[Broadcast, Flag]]:
    """The teams' posted cards since `since` still waiting, oldest first (at most `limit`)."""
    if not team_ids:
        return []
    return list(
        session.exec(
            select(Broadcast, Flag)
            .join(Flag, col(Flag.id) == col(Broadcast.flag_id))
            .where(
                Broadcast.org_id == org_id,
                col(Broadcast.team_id).in_(list(team_ids)),
                Broadcast.status == "active",
                col(Broadcast.first_response_at).is_(None),
                col(Broadcast.posted_at).is_not(None),
                col(Broadcast.posted_at) >= since,
                col(Flag.status).in_(OPEN),
            )
            .order_by(col(Broadcast.posted_at), col(Broadcast.id))
            .limit(limit)
        ).all()
    )


def awaiting_rating(
    *, session: Session, org_id: int, platform: str, user_id: str, since: datetime, limit: int
) -> list[tuple[Flag, int]]:
    """Flags `user_id` flagged since `since` (on `platform`) that have at least one live
    interpretation and no rating of theirs yet, newest first, each with how many
    interpretations there are to rate."""
    rated = exists().where(
        and_(col(Rating.flag_id) == col(Flag.id), col(Rating.user_id) == user_id)
    )
    flagged = exists().where(
        and_(col(FlagFlagger.flag_id) == col(Flag.id), col(FlagFlagger.user_id) == user_id)
    )
    count = (
        select(Interpretation.flag_id, Interpretation.id)
        .where(Interpretation.org_id == org_id, col(Interpretation.deleted_at).is_(None))
        .subquery()
    )

    rows = session.exec(
        select(Flag, func.count(count.c.id))
        .join(count, count.c.flag_id == col(Flag.id))
        .where(
            Flag.org_id == org_id,
            Flag.platform == platform,
            col(Flag.flagged_at) >= since,
            col(Flag.status) != "dismissed",
            flagged,
            ~rated,
        )
        .group_by(col(Flag.id))
        .order_by(col(Flag.flagged_at).desc(), col(Flag.id).desc())
        .limit(limit)
    ).all()
    return [(flag, int(n)) for flag, n in rows]
