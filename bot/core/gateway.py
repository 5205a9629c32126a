"""The one outbound protocol both platforms implement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.cards import Content
from bot.core.refs import ChannelRef, MessageRef, Platform, UserRef


@dataclass(frozen=True)
class Posted:
    message: MessageRef
    at: datetime


@dataclass(frozen=True)
class FetchedMessage:
    message: MessageRef
    text: str
    author: UserRef | None
    at: datetime


class GatewayError(Exception):
    """A platform call failed.

    `retryable`: trying again may work (rate limit, server error, network).
    `retry_after`: seconds the platform asked us to wait (HTTP 429 Retry-After).
    `ambiguous`: the call may have taken effect even though it failed (a lost response).
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.ambiguous = ambiguous


class Unsupported(GatewayError):
    def __init__(self, what: str) -> None:
        super().__init__(f"not supported on this platform: {what}", retryable=False)


class ChatGateway(Protocol):
    platform: Platform

    async def post(
        self,
        channel: ChannelRef,
        content: Content,
        *,
        thread_id: str | None = None,
        marker: str | None = None,
    ) -> Posted:
        """Post a message; `marker` is an idempotency tag `find_posted` can look for."""
        ...

    async def update(self, message: MessageRef, content: Content) -> None: ...

    async def direct_message(
        self, user: UserRef, content: Content, *, marker: str | None
    ) -> Posted: ...

    async def dm_channel(self, user: UserRef) -> ChannelRef:
        """The direct-message channel with a user (opened if needed)."""
        ...

    async def find_posted(
        self, channel: ChannelRef, marker: str, *, since: datetime, thread_id: str | None
    ) -> Posted | None:
        """A message we posted earlier carrying `marker`, if the platform has it."""
        ...

    async def upload(
        self,
        channel: ChannelRef,
        *,
        filename: str,
        data: bytes,
        title: str,
        comment: str,
        thread_id: str | None = None,
        marker: str | None = None,
    ) -> None:
        """Upload a file (a chart) once: with a `marker`, an upload an earlier attempt already
        made (its answer lost) is found and not made again."""
        ...

    async def fetch_message(self, message: MessageRef) -> FetchedMessage | None: ...

    async def permalink(self, message: MessageRef) -> str | None: ...

    async def is_shared_channel(self, channel: ChannelRef) -> bool: ...

    async def is_private_channel(self, channel: ChannelRef) -> bool:
        """Whether only invited people see the channel (a private channel, a DM), as the
        platform says: ids no longer tell (Slack private channels made since 2021 have C
        ids)."""
        ...

    async def display_name(self, user: UserRef) -> str: ...

    async def group_members(self, group_id: str) -> list[str]:
        """The user ids in a platform user group (a Slack user group)."""
        ...
