"""Ratings (SPEC "Concepts": Rating; METRICS "Satisfaction" and "CSAT"): a flagger rates the
teams' interpretations 1-5 with the buttons on the notice in the origin thread.

One rating per (flag, user): a new press replaces the old score in one upsert on that
unique key, so two quick presses can never leave two rows. The notice is then redrawn
from the database through the outbox, like every other card.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.core.clock import Clock
from bot.core.events import RatingGiven
from bot.core.gateway import GatewayError
from bot.core.refs import ChannelRef, MessageRef, Platform
from bot.handlers.cards import notice_card
from bot.handlers.context import Gateways, OrgContext
from store.db import session_scope
from store.models import Flag, FlagFlagger, OutboxMessage, Rating
from store.queue import enqueue_outbox

SCORES = range(1, 6)
NOTICE_UPDATE = "notice_update"


@dataclass(frozen=True)
class RatingResult:
    ok: bool
    message: str | None = None


def _is_flagger(session: Session, flag_id: int, user_id: str) -> bool:
    stmt = select(FlagFlagger.id).where(
        FlagFlagger.flag_id == flag_id, FlagFlagger.user_id == user_id
    )
    return session.exec(stmt).first() is not None


def _upsert(session: Session, org: OrgContext, flag_id: int, event: RatingGiven) -> None:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(Rating).values(
        org_id=org.org_id, flag_id=flag_id, user_id=event.user.id, score=event.score, at=event.at
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["flag_id", "user_id"],
        set_={"score": stmt.excluded.score, "at": stmt.excluded.at},
        where=col(Rating.at) <= stmt.excluded.at,  # an older press never wins over a newer
    )
    session.execute(stmt)


def rate(*, event: RatingGiven, engine: Engine, org: OrgContext, clock: Clock) -> RatingResult:
    """Record the press; a refusal (not a flagger, unknown flag) comes back as a message
    for the presser alone."""
    if event.score not in SCORES:
        return RatingResult(False, "A rating is a score from 1 to 5.")
    with session_scope(engine) as session:
        flag = session.get(Flag, event.flag_id)
        if flag is None or flag.org_id != org.org_id or flag.id is None:
            return RatingResult(False, "This flag is no longer known to Crosstalk.")
        if flag.platform != event.user.platform.value or not _is_flagger(
            session, flag.id, event.user.id
        ):
            return RatingResult(
                False, "Only the people who flagged this conversation can rate its interpretations."
            )
        _upsert(session, org, flag.id, event)
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
    org.wake_outbox()
    return RatingResult(True)


async def deliver_notice_update(
    row: OutboxMessage, engine: Engine, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    """Redraw the flag's notice where it was posted (its thread reply, or the DM)."""
    from bot.outbox.deliver import SKIP  # deliver.py imports this module for DELIVERERS

    with session_scope(engine) as session:
        notice = session.exec(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == f"notice:{row.subject_id}")
        ).first()
        if notice is None or notice.status in ("skipped", "dead"):
            return SKIP
        if notice.status != "done" or not notice.result_id:
            wait = max(0.0, (notice.next_attempt_at - clock.now()).total_seconds())
            raise GatewayError("the notice is not posted yet", retryable=True, retry_after=wait)
        flag = session.get(Flag, row.subject_id)
        assert flag is not None
        card = notice_card(session, flag)
    channel, _, message_id = notice.result_id.partition("|")
    platform = Platform(notice.platform)
    await gws.get(platform).update(MessageRef(ChannelRef(platform, channel), message_id), card)
    return SKIP
