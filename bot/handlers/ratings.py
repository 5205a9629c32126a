"""Ratings (SPEC "Concepts": Rating; METRICS "Satisfaction" and "CSAT"): a flagger rates the
teams' interpretations 1-5 with the buttons on the notice in the origin thread.

One rating per (flag, user): a new press replaces the old score in one upsert on that
unique key, so two quick presses can never leave two rows. The notice is then redrawn
from the database through the outbox, like every other card.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from bot.core.clock import Clock
from bot.core.events import RatingGiven
from bot.handlers.context import OrgContext
from store import flags
from store import ratings as rating_rows
from store.queue import enqueue_outbox

SCORES = range(1, 6)
NOTICE_UPDATE = "notice_update"


@dataclass(frozen=True)
class RatingResult:
    ok: bool
    message: str | None = None


def rate(*, event: RatingGiven, session: Session, org: OrgContext, clock: Clock) -> RatingResult:
    """Record the press; a refusal (not a flagger, unknown flag) comes back as a message
    for the presser alone."""
    if event.score not in SCORES:
        return RatingResult(False, "A rating is a score from 1 to 5.")
    flag = flags.get(session=session, flag_id=event.flag_id, org_id=org.org_id)
    if flag is None or flag.id is None:
        return RatingResult(False, "This flag is no longer known to Crosstalk.")
    if flag.platform != event.user.platform.value or not flags.is_flagger(
        session=session, flag_id=flag.id, user_id=event.user.id
    ):
        return RatingResult(
            False, "Only the people who flagged this conversation can rate its interpretations."
        )
    rating_rows.upsert(
        session=session,
        org_id=org.org_id,
        flag_id=flag.id,
        user_id=event.user.id,
        score=event.score,
        at=event.at,
    )
    now = clock.now()
    press = f"{event.user.id}:{event.at.timestamp()}:{event.score}"
    enqueue_outbox(
        session,
        org_id=org.org_id,
        dedupe_key=f"notice-update:{flag.id}:{press}",
        kind=NOTICE_UPDATE,
        platform=flag.platform,
        subject_id=flag.id,
        now=now,
    )
    return RatingResult(True)
