"""Carry out one outbox row: post or update what the database says should be shown.

Content is composed at send time, so a card updated three times while Slack was down is
posted once, current. A post whose earlier attempt may have gone through (a lost
response, a crash mid-call) is first looked for by its marker, so it is never doubled.
Each deliverer reads in one transaction off the event loop, calls the platform, and
records what it posted in another.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlmodel import Session

from bot.core.cards import Content
from bot.core.clock import Clock
from bot.core.refs import ChannelRef, MessageRef, Platform, UserRef
from bot.handlers import listen, nudge, ratings, webhook
from bot.handlers.cards import broadcast_card, localize, mirror_text, notice_card
from bot.handlers.context import Gateways, OrgContext
from bot.handlers.digest import plan as digest_plan
from bot.handlers.timing import refresh_broadcast
from bot.outbox import features
from bot.outbox import suggestions as listening
from bot.outbox.base import (
    SKIP,
    Deliverer,
    decode_message,
    dm_once,
    encode_message,
    not_posted_yet,
    post_once,
)
from store import broadcasts, flags, interpretations, queue
from store.db import Database
from store.models import Broadcast, Flag, Interpretation, OutboxMessage

log = logging.getLogger("crosstalk.outbox")
__all__ = ["DELIVERERS", "SKIP", "order_keys", "subject_of"]

# Rows about one flag are delivered in order (its cards, then its notice; a card's post
# before its updates; a mirror after the card it goes under); flags side by side. What
# each kind's subject is, to find its flag:
_SUBJECT = {
    "card_post": "broadcast",
    "card_update": "broadcast",
    "notice": "flag",
    ratings.NOTICE_UPDATE: "flag",
    "mirror": "interpretation",
    "mirror_update": "interpretation",
}


def subject_of(row: OutboxMessage) -> str:
    """What a row is about (one card, one notice, one mirror): the rows that must never
    overtake each other, while a flag's other rows may go on when one of them fails."""
    family = _SUBJECT.get(row.kind)
    return f"{family}:{row.subject_id}" if family else f"row:{row.id}"


def order_keys(session: Session, rows: list[OutboxMessage]) -> dict[int, str]:
    """For each row, the key of the rows it must be delivered in order with."""
    ids: dict[str, set[int]] = {"broadcast": set(), "interpretation": set()}
    for row in rows:
        subject = _SUBJECT.get(row.kind)
        if subject in ids and row.subject_id is not None:
            ids[subject].add(row.subject_id)
    flag_of = {
        "broadcast": flags.of_broadcasts(session=session, ids=ids["broadcast"]),
        "interpretation": flags.of_interpretations(session=session, ids=ids["interpretation"]),
    }
    keys: dict[int, str] = {}
    for row in rows:
        subject = _SUBJECT.get(row.kind)
        flag_id = (
            row.subject_id
            if subject == "flag"
            else flag_of[subject].get(row.subject_id or 0)
            if subject
            else None
        )
        keys[row.id or 0] = f"flag:{flag_id}" if flag_id is not None else f"row:{row.id}"
    return keys


def _broadcast(session: Session, row: OutboxMessage) -> Broadcast:
    b = broadcasts.by_id(session=session, broadcast_id=row.subject_id or 0)
    assert b is not None
    return b


async def _card_post(
    row: OutboxMessage, db: Database, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    def read(session: Session) -> tuple[Broadcast, Content | None]:
        b = _broadcast(session, row)
        return b, None if b.message_id else broadcast_card(session, b)

    b, card = await db.run(read, read_only=True)
    if card is None:
        return f"{b.channel_id}|{b.message_id}"
    card = await localize(card, b.platform, gws)
    channel = ChannelRef(Platform(b.platform), b.channel_id)
    posted = await post_once(gws.get(b.platform), row, channel, card)
    if org.threads is not None:  # replies may come before the post is recorded
        org.threads.add(b.platform, b.channel_id, posted.message.id)

    def record(session: Session) -> None:
        b = _broadcast(session, row)
        b.message_id = posted.message.id
        b.posted_at = posted.at
        refresh_broadcast(session, b, org)

    await db.run(record)
    log.info(
        "broadcast %s posted to %s %s as %s (flag %s)",
        b.id,
        b.platform,
        b.channel_id,
        posted.message.id,
        b.flag_id,
        extra={"broadcast_id": b.id, "flag_id": b.flag_id, "event": "broadcast_posted"},
    )
    return encode_message(posted)


async def _card_update(
    row: OutboxMessage, db: Database, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    def read(session: Session) -> tuple[Broadcast, Content | OutboxMessage | None]:
        b = _broadcast(session, row)
        if queue.newer_pending(session=session, row=row):
            return b, None  # a later update of this card will show this state and more
        if b.message_id:
            return b, broadcast_card(session, b)
        return b, queue.pending_post(session=session, broadcast_id=b.id)

    b, card = await db.run(read, read_only=True)
    if card is None:
        return SKIP  # a later update follows, or the card never made it (dead)
    if isinstance(card, OutboxMessage):
        # Its post may be in flight on another replica with the card composed before
        # this change: skipping would leave that card stale, so come back after it.
        raise not_posted_yet(card, clock, "card update")
    card = await localize(card, b.platform, gws)
    assert b.message_id is not None
    await gws.get(b.platform).update(
        MessageRef(ChannelRef(Platform(b.platform), b.channel_id), b.message_id), card
    )
    return SKIP


def _origin(flag: Flag) -> tuple[ChannelRef, str]:
    return ChannelRef(Platform(flag.platform), flag.channel_id), flag.thread_id or flag.message_id


async def _to_origin(row: OutboxMessage, flag: Flag, content: Content, gws: Gateways) -> str:
    gateway = gws.get(flag.platform)
    content = await localize(content, flag.platform, gws)
    if json.loads(row.target).get("dm"):
        user = UserRef(Platform(flag.platform), flag.flagger_id)
        return encode_message(await dm_once(gateway, row, user, content))
    channel, thread = _origin(flag)
    return encode_message(await post_once(gateway, row, channel, content, thread_id=thread))


async def _notice(
    row: OutboxMessage, db: Database, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    def read(session: Session) -> tuple[Flag, Content]:
        flag = flags.get(session=session, flag_id=row.subject_id or 0)
        assert flag is not None
        return flag, notice_card(session, flag)

    flag, card = await db.run(read, read_only=True)
    return await _to_origin(row, flag, card, gws)


async def _notice_update(
    row: OutboxMessage, db: Database, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    """Redraw the flag's notice where it was posted (its thread reply, or the DM)."""

    def read(session: Session) -> tuple[OutboxMessage | None, Content | None]:
        notice = queue.by_key(session=session, dedupe_key=f"notice:{row.subject_id}")
        if notice is None or notice.status != "done" or not notice.result_id:
            return notice, None
        flag = flags.get(session=session, flag_id=row.subject_id or 0)
        assert flag is not None
        return notice, notice_card(session, flag)

    notice, card = await db.run(read, read_only=True)
    if notice is None or notice.status in ("skipped", "dead"):
        return SKIP
    if card is None or not notice.result_id:
        raise not_posted_yet(notice, clock, "notice update")
    await gws.get(notice.platform).update(decode_message(notice.platform, notice.result_id), card)
    return SKIP


def _mirror_parts(session: Session, row: OutboxMessage) -> tuple[Interpretation, Flag, Content]:
    interp = interpretations.get(session=session, interpretation_id=row.subject_id or 0)
    assert interp is not None
    flag = flags.get(session=session, flag_id=interp.flag_id)
    assert flag is not None
    return interp, flag, mirror_text(session, interp)


async def _mirror(
    row: OutboxMessage, db: Database, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    target: dict[str, Any] = json.loads(row.target)

    def read(
        session: Session,
    ) -> tuple[Interpretation, Flag, Content, Broadcast | None, OutboxMessage | None]:
        interp, flag, content = _mirror_parts(session, row)
        if target.get("to") != "broadcast":
            return interp, flag, content, None, None
        b = broadcasts.by_id(session=session, broadcast_id=int(target["broadcast_id"]))
        assert b is not None
        pending = None if b.message_id else queue.pending_post(session=session, broadcast_id=b.id)
        return interp, flag, content, b, pending

    interp, flag, content, b, pending = await db.run(read, read_only=True)
    if interp.deleted_at is not None:
        return SKIP
    if b is None:
        return await _to_origin(row, flag, content, gws)
    if not b.message_id:
        if pending is None:
            return SKIP  # that team's card never made it: no thread to mirror into
        raise not_posted_yet(pending, clock, "mirror")
    channel = ChannelRef(Platform(b.platform), b.channel_id)
    content = await localize(content, b.platform, gws)
    posted = await post_once(gws.get(b.platform), row, channel, content, thread_id=b.message_id)
    return encode_message(posted)


async def _mirror_update(
    row: OutboxMessage, db: Database, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    original_key = row.dedupe_key.rsplit(":", 2)[0]

    def read(session: Session) -> tuple[OutboxMessage | None, Content | None]:
        original = queue.by_key(session=session, dedupe_key=original_key)
        if original is None or original.status != "done" or not original.result_id:
            return original, None
        return original, _mirror_parts(session, row)[2]

    original, content = await db.run(read, read_only=True)
    if original is None or original.status in ("skipped", "dead"):
        return SKIP
    if content is None or not original.result_id:
        raise not_posted_yet(original, clock, "mirror update")
    content = await localize(content, original.platform, gws)
    await gws.get(original.platform).update(
        decode_message(original.platform, original.result_id), content
    )
    return SKIP


DELIVERERS: dict[str, Deliverer] = {
    "card_post": _card_post,
    "card_update": _card_update,
    "notice": _notice,
    ratings.NOTICE_UPDATE: _notice_update,
    "mirror": _mirror,
    "mirror_update": _mirror_update,
    webhook.KIND: webhook.deliver,
    digest_plan.KIND: features.deliver_digest,
    digest_plan.CHART: features.deliver_chart,
    nudge.NUDGE: features.deliver_nudge,
    nudge.ESCALATION: features.deliver_escalation,
    listen.CARD: listening.deliver_card,
    listen.UPDATE: listening.deliver_update,
}
