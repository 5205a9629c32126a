"""What every deliverer shares: the result of a row with nothing left to do, how a posted
message is recorded, and posting exactly once (an earlier attempt looked for by marker).

A leaf module: features that deliver (digests, nudges, the CRM webhook) import it, and
`bot.outbox.deliver` imports them, with no cycle."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.core.cards import Content
from bot.core.clock import Clock
from bot.core.gateway import ChatGateway, GatewayError, Posted
from bot.core.refs import ChannelRef, MessageRef, Platform, UserRef
from bot.handlers.context import Gateways, OrgContext
from store.db import Database
from store.models import OutboxMessage

SKIP = "-"  # result of a row that had nothing left to do

Deliverer = Callable[[OutboxMessage, Database, OrgContext, Gateways, Clock], Awaitable[str]]


def encode_message(posted: Posted) -> str:
    return f"{posted.message.channel.id}|{posted.message.id}"


def decode_message(platform: str, value: str) -> MessageRef:
    channel, _, message_id = value.partition("|")
    return MessageRef(ChannelRef(Platform(platform), channel), message_id)


async def post_once(
    gateway: ChatGateway,
    row: OutboxMessage,
    channel: ChannelRef,
    content: Content,
    thread_id: str | None = None,
) -> Posted:
    """Post, unless an earlier attempt of this row already did: when that attempt may have
    gone through (a lost response, a process gone mid-call) it is looked for by its
    marker, never guessed."""
    marker = f"ct-{row.id}"
    if row.ambiguous or row.attempts > 1:
        found = await gateway.find_posted(
            channel, marker, since=row.created_at, thread_id=thread_id
        )
        if found is not None:
            return found
    return await gateway.post(channel, content, thread_id=thread_id, marker=marker)


async def dm_once(
    gateway: ChatGateway, row: OutboxMessage, user: UserRef, content: Content
) -> Posted:
    """A DM is a post in the user's direct-message channel, so a retry after a lost
    response finds the earlier message by its marker there (Slack scope im:history)."""
    return await post_once(gateway, row, await gateway.dm_channel(user), content)


async def send_to(
    gateway: ChatGateway, row: OutboxMessage, target: dict[str, Any], content: Content
) -> Posted:
    """To the target's channel, or as a direct message to its user (a post in their DM
    channel, so a repeat after a lost answer is looked for by its marker there too)."""
    if target.get("user"):
        user = UserRef(Platform(row.platform), str(target["user"]))
        return await dm_once(gateway, row, user, content)
    channel = ChannelRef(Platform(row.platform), target["channel"])
    return await post_once(gateway, row, channel, content)


def not_posted_yet(due: OutboxMessage, clock: Clock, what: str) -> GatewayError:
    """Come back once the row this one waits for is due again (or after the usual back-off
    if that is later)."""
    wait = max(0.0, (due.next_attempt_at - clock.now()).total_seconds())
    return GatewayError(f"{what}: not posted yet", retryable=True, retry_after=wait)
