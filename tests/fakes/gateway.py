"""A `ChatGateway` in memory, for handler-level tests: it keeps what a handler posted,
updated, sent by DM and uploaded, answers lookups from what it holds, and fails on
request. No HTTP, no platform: the end-to-end tests over real HTTP use the stand-ins in
`bot/demo/standins`.

    gateway = FakeGateway()
    await some_handler(..., gateway=gateway)
    (sent,) = gateway.posts
    assert sent.channel.id == "C0BILLING" and sent.thread_id is None
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from bot.core.cards import Card, Content, to_plain
from bot.core.clock import Clock
from bot.core.gateway import ChatGateway, FetchedMessage, GatewayError, Posted
from bot.core.refs import ChannelRef, MessageRef, Platform, UserRef
from bot.demo.standins.serving import start_clock

__all__ = ["FakeGateway", "Sent", "Upload", "text_of"]

T = TypeVar("T")


def text_of(content: Content) -> str:
    """The words of a card or a rich text, for assertions."""
    if isinstance(content, Card):
        parts = [content.title, content.summary, content.quote or ""]
        parts += [f"{label}: {to_plain(value)}" for label, value in content.facts]
        parts += [to_plain(note) for note in content.notes]
        parts += [button.label for button in content.buttons]
        return "\n".join(p for p in parts if p)
    return to_plain(content)


@dataclass
class Sent:
    """A message the gateway holds: every version it was given, the latest last."""

    message: MessageRef
    versions: list[Content]
    at: datetime
    marker: str | None = None
    dm_to: UserRef | None = None

    @property
    def channel(self) -> ChannelRef:
        return self.message.channel

    @property
    def thread_id(self) -> str | None:
        return self.message.thread_id

    @property
    def content(self) -> Content:
        return self.versions[-1]

    @property
    def text(self) -> str:
        return text_of(self.content)


@dataclass(frozen=True)
class Upload:
    channel: ChannelRef
    filename: str
    data: bytes
    title: str
    comment: str
    thread_id: str | None


@dataclass
class _Fault:
    error: GatewayError
    after_effect: bool


@dataclass
class FakeGateway:
    """Records every call; message ids count up from 1, stamped on `clock`.

    `fail_next(op, error)` makes the next call of `op` ("post", "update", "dm", "upload",
    "fetch"...) raise `error`; with `after_effect=True` the call takes effect first (a lost
    response, as a platform can give)."""

    platform: Platform = Platform.SLACK
    clock: Clock = field(default_factory=start_clock)
    names: dict[str, str] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    shared_channels: set[str] = field(default_factory=set)
    private_channels: set[str] = field(default_factory=set)
    #: Every message posted or sent by DM, in order (updates change them in place).
    sent: list[Sent] = field(default_factory=list)
    #: Every update, in order: the message and the content it was given.
    updates: list[tuple[MessageRef, Content]] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    _faults: dict[str, list[_Fault]] = field(default_factory=dict, init=False)
    _ids: int = field(default=0, init=False)

    # ------------------------------------------------------------------ for assertions

    @property
    def posts(self) -> list[Sent]:
        """Messages posted in a channel (not by DM)."""
        return [s for s in self.sent if s.dm_to is None]

    @property
    def dms(self) -> list[Sent]:
        return [s for s in self.sent if s.dm_to is not None]

    def in_channel(self, channel_id: str, *, thread_id: str | None = None) -> list[Sent]:
        return [
            s
            for s in self.sent
            if s.channel.id == channel_id and (thread_id is None or s.thread_id == thread_id)
        ]

    def fail_next(self, op: str, error: GatewayError, *, after_effect: bool = False) -> None:
        self._faults.setdefault(op, []).append(_Fault(error, after_effect))

    # ------------------------------------------------------------------ ChatGateway

    async def post(
        self,
        channel: ChannelRef,
        content: Content,
        *,
        thread_id: str | None = None,
        marker: str | None = None,
    ) -> Posted:
        return self._effect("post", lambda: self._hold(channel, content, thread_id, marker))

    async def update(self, message: MessageRef, content: Content) -> None:
        def apply() -> None:
            held = self._find(message)
            if held is None:
                raise GatewayError(f"no such message: {message.id}", retryable=False)
            held.versions.append(content)
            self.updates.append((message, content))

        self._effect("update", apply)

    async def direct_message(
        self, user: UserRef, content: Content, *, marker: str | None
    ) -> Posted:
        channel = await self.dm_channel(user)

        def apply() -> Posted:
            posted = self._hold(channel, content, None, marker)
            self.sent[-1].dm_to = user
            return posted

        return self._effect("dm", apply)

    async def dm_channel(self, user: UserRef) -> ChannelRef:
        return ChannelRef(self.platform, f"D-{user.id}")

    async def find_posted(
        self, channel: ChannelRef, marker: str, *, since: datetime, thread_id: str | None
    ) -> Posted | None:
        for s in self.sent:
            in_place = s.channel == channel and (thread_id is None or s.thread_id == thread_id)
            if in_place and s.marker == marker and s.at >= since:
                return Posted(s.message, s.at)
        return None

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
        if marker is not None and any(u.filename == filename for u in self.uploads):
            return
        done = Upload(channel, filename, data, title, comment, thread_id)
        self._effect("upload", lambda: self.uploads.append(done))

    async def fetch_message(self, message: MessageRef) -> FetchedMessage | None:
        def look() -> FetchedMessage | None:
            held = self._find(message)
            if held is None:
                return None
            return FetchedMessage(held.message, held.text, None, held.at)

        return self._effect("fetch", look)

    async def permalink(self, message: MessageRef) -> str | None:
        return f"https://chat.example/{message.channel.id}/{message.id}"

    async def is_shared_channel(self, channel: ChannelRef) -> bool:
        return channel.id in self.shared_channels

    async def is_private_channel(self, channel: ChannelRef) -> bool:
        return channel.id in self.private_channels

    async def display_name(self, user: UserRef) -> str:
        return self.names.get(user.id, user.id)

    async def group_members(self, group_id: str) -> list[str]:
        return list(self.groups.get(group_id, []))

    # ------------------------------------------------------------------ plumbing

    def _effect(self, op: str, apply: Callable[[], T]) -> T:
        queue = self._faults.get(op) or []
        fault = queue.pop(0) if queue else None
        if fault is not None and not fault.after_effect:
            raise fault.error
        result = apply()
        if fault is not None:
            raise fault.error
        return result

    def _hold(
        self, channel: ChannelRef, content: Content, thread_id: str | None, marker: str | None
    ) -> Posted:
        self._ids += 1
        at = self.clock.now()
        message = MessageRef(channel, str(self._ids), thread_id)
        self.sent.append(Sent(message, [content], at, marker))
        return Posted(message, at)

    def _find(self, message: MessageRef) -> Sent | None:
        return next(
            (s for s in self.sent if s.channel == message.channel and s.message.id == message.id),
            None,
        )


def _conforms(gateway: FakeGateway) -> ChatGateway:
    return gateway  # mypy checks that FakeGateway is a ChatGateway
