"""Deliverers of listening: a suggestion's card in the triage channel, posted once (an
earlier attempt is looked for by its marker first), and the card redrawn once answered.
The message's link is asked of the platform here, only for messages that are suggested."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from bot.core.cards import Card
from bot.core.clock import Clock
from bot.core.refs import ChannelRef, MessageRef, Platform
from bot.handlers.cards import localize
from bot.handlers.context import Gateways, OrgContext
from bot.handlers.listen import card_key
from bot.handlers.suggest import suggestion_card
from bot.outbox.base import SKIP, encode_message, not_posted_yet, post_once
from store import queue, suggestions
from store.db import Database
from store.models import OutboxMessage
from store.models_listening import Suggestion


def _suggestion(session: Session, row: OutboxMessage) -> Suggestion:
    s = suggestions.get(session=session, org_id=row.org_id, suggestion_id=row.subject_id or 0)
    assert s is not None
    return s


async def deliver_card(
    row: OutboxMessage, db: Database, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    s = await db.run(lambda session: _suggestion(session, row), read_only=True)
    if s.card_message_id:
        return f"{s.triage_channel}|{s.card_message_id}"
    gateway = gws.get(s.platform)
    platform = Platform(s.platform)
    permalink = s.permalink or await gateway.permalink(
        MessageRef(ChannelRef(platform, s.channel_id), s.message_id, s.thread_id)
    )
    s.permalink = permalink
    card = await localize(suggestion_card(s, org), s.platform, gws)
    target: dict[str, Any] = json.loads(row.target)
    channel = ChannelRef(platform, str(target.get("channel") or s.triage_channel))
    posted = await post_once(gateway, row, channel, card)

    def record(session: Session) -> None:
        suggestions.posted(
            session=session,
            org_id=row.org_id,
            suggestion_id=s.id or 0,
            message_id=posted.message.id,
            permalink=permalink,
        )

    await db.run(record)
    return encode_message(posted)


async def deliver_update(
    row: OutboxMessage, db: Database, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    def read(session: Session) -> tuple[Suggestion, Card | OutboxMessage | None]:
        s = _suggestion(session, row)
        if s.card_message_id:
            return s, suggestion_card(s, org)
        return s, queue.by_key(session=session, dedupe_key=card_key(s.id or 0))

    s, card = await db.run(read, read_only=True)
    if isinstance(card, OutboxMessage) and card.status == "pending":
        raise not_posted_yet(card, clock, "suggestion update")  # the post comes first
    if not isinstance(card, Card):
        return SKIP  # the card never made it (dead, skipped): nothing to redraw
    card = await localize(card, s.platform, gws)
    assert s.card_message_id is not None
    channel = ChannelRef(Platform(s.platform), s.triage_channel)
    await gws.get(s.platform).update(MessageRef(channel, s.card_message_id), card)
    return SKIP
