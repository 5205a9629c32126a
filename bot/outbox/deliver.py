"""Carry out one outbox row: post or update what the database says should be shown.

Content is composed at send time, so a card updated three times while Slack was down is
posted once, current. A post whose earlier attempt may have gone through (a lost
response, a crash mid-call) is first looked for by its marker, so it is never doubled.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.cards import Content
from bot.core.clock import Clock
from bot.core.gateway import ChatGateway, GatewayError, Posted
from bot.core.refs import ChannelRef, MessageRef, Platform, UserRef
from bot.handlers import nudge, ratings, webhook
from bot.handlers.cards import broadcast_card, localize, mirror_text, notice_card
from bot.handlers.context import Gateways, OrgContext
from bot.handlers.digest import send as digest_send
from bot.handlers.timing import refresh_broadcast
from store.db import session_scope
from store.models import Broadcast, Flag, Interpretation, OutboxMessage

SKIP = "-"  # result of a row that had nothing left to do


def encode_message(posted: Posted) -> str:
    return f"{posted.message.channel.id}|{posted.message.id}"


def decode_message(platform: str, value: str) -> MessageRef:
    channel, _, message_id = value.partition("|")
    return MessageRef(ChannelRef(Platform(platform), channel), message_id)


async def _find_earlier(
    gateway: ChatGateway, row: OutboxMessage, channel: ChannelRef, thread_id: str | None
) -> Posted | None:
    """The message an earlier attempt of this row may have posted (its response lost, or
    its process gone before recording it): looked for by marker, never guessed."""
    if not (row.ambiguous or row.attempts > 1):
        return None
    return await gateway.find_posted(
        channel, f"ct-{row.id}", since=row.created_at, thread_id=thread_id
    )


async def _post_once(
    gateway: ChatGateway,
    row: OutboxMessage,
    channel: ChannelRef,
    content: Content,
    thread_id: str | None = None,
) -> Posted:
    found = await _find_earlier(gateway, row, channel, thread_id)
    if found is not None:
        return found
    return await gateway.post(channel, content, thread_id=thread_id, marker=f"ct-{row.id}")


async def _dm_once(
    gateway: ChatGateway, row: OutboxMessage, user: UserRef, content: Content
) -> Posted:
    """A DM is a post in the user's direct-message channel, so a retry after a lost
    response finds the earlier message by its marker there (Slack scope im:history)."""
    return await _post_once(gateway, row, await gateway.dm_channel(user), content)


Deliverer = Callable[[OutboxMessage, Engine, OrgContext, Gateways, Clock], Awaitable[str]]


def _pending_post(session: Session, broadcast_id: int | None) -> OutboxMessage | None:
    """The card_post row of a broadcast while it may still post (due later, or in flight on
    some replica); None once it is settled (done, skipped, dead) or never was."""
    return session.exec(
        select(OutboxMessage).where(
            OutboxMessage.kind == "card_post",
            OutboxMessage.subject_id == broadcast_id,
            OutboxMessage.status == "pending",
        )
    ).first()


def _not_posted_yet(post: OutboxMessage, clock: Clock, what: str) -> GatewayError:
    """Come back once the card's post is due again, or after the usual back-off if later."""
    wait = max(0.0, (post.next_attempt_at - clock.now()).total_seconds())
    return GatewayError(f"{what}: the card is not posted yet", retryable=True, retry_after=wait)


async def _card_post(
    row: OutboxMessage, engine: Engine, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    with session_scope(engine) as session:
        b = session.get(Broadcast, row.subject_id)
        assert b is not None
        if b.message_id:
            return f"{b.channel_id}|{b.message_id}"
        card = broadcast_card(session, b)
    card = await localize(card, b.platform, gws)
    channel = ChannelRef(Platform(b.platform), b.channel_id)
    posted = await _post_once(gws.get(b.platform), row, channel, card)
    with session_scope(engine) as session:
        b = session.get(Broadcast, row.subject_id)
        assert b is not None
        b.message_id = posted.message.id
        b.posted_at = posted.at
        refresh_broadcast(session, b)
    return encode_message(posted)


async def _card_update(
    row: OutboxMessage, engine: Engine, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    with session_scope(engine) as session:
        b = session.get(Broadcast, row.subject_id)
        assert b is not None
        if not b.message_id:
            post = _pending_post(session, b.id)
            if post is None:
                return SKIP  # the card never made it (dead): nothing to update
            # Its post may be in flight on another replica with the card composed before
            # this change: skipping would leave that card stale, so come back after it.
            raise _not_posted_yet(post, clock, "card update")
        card = broadcast_card(session, b)
    card = await localize(card, b.platform, gws)
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
        return encode_message(
            await _dm_once(gateway, row, UserRef(Platform(flag.platform), flag.flagger_id), content)
        )
    channel, thread = _origin(flag)
    return encode_message(await _post_once(gateway, row, channel, content, thread_id=thread))


async def _notice(
    row: OutboxMessage, engine: Engine, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    with session_scope(engine) as session:
        flag = session.get(Flag, row.subject_id)
        assert flag is not None
        card = notice_card(session, flag)
    return await _to_origin(row, flag, card, gws)


def _mirror_parts(session: Session, row: OutboxMessage) -> tuple[Interpretation, Flag, Content]:
    interp = session.get(Interpretation, row.subject_id)
    assert interp is not None
    flag = session.get(Flag, interp.flag_id)
    assert flag is not None
    return interp, flag, mirror_text(session, interp)


async def _mirror(
    row: OutboxMessage, engine: Engine, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    target: dict[str, Any] = json.loads(row.target)
    with session_scope(engine) as session:
        interp, flag, content = _mirror_parts(session, row)
        if interp.deleted_at is not None:
            return SKIP
        if target.get("to") == "broadcast":
            b = session.get(Broadcast, target["broadcast_id"])
            assert b is not None
            if not b.message_id:
                post = _pending_post(session, b.id)
                if post is None:
                    return SKIP  # that team's card never made it: no thread to mirror into
                raise _not_posted_yet(post, clock, "mirror")
            channel = ChannelRef(Platform(b.platform), b.channel_id)
            content = await localize(content, b.platform, gws)
            posted = await _post_once(
                gws.get(b.platform), row, channel, content, thread_id=b.message_id
            )
            return encode_message(posted)
    return await _to_origin(row, flag, content, gws)


async def _mirror_update(
    row: OutboxMessage, engine: Engine, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    original_key = row.dedupe_key.rsplit(":", 2)[0]
    with session_scope(engine) as session:
        original = session.exec(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == original_key)
        ).first()
        if original is None or original.status in ("skipped", "dead"):
            return SKIP
        if original.status != "done" or not original.result_id:
            raise GatewayError("the mirrored message is not posted yet", retryable=True)
        _, _, content = _mirror_parts(session, row)
    content = await localize(content, original.platform, gws)
    await gws.get(original.platform).update(
        decode_message(original.platform, original.result_id), content
    )
    return SKIP


DELIVERERS: dict[str, Deliverer] = {
    "card_post": _card_post,
    "card_update": _card_update,
    "notice": _notice,
    "mirror": _mirror,
    "mirror_update": _mirror_update,
    webhook.KIND: webhook.deliver,
    ratings.NOTICE_UPDATE: ratings.deliver_notice_update,
    "digest": digest_send.deliver,
    digest_send.CHART: digest_send.deliver_chart,
    nudge.NUDGE: nudge.deliver_nudge,
    nudge.ESCALATION: nudge.deliver_escalation,
}
