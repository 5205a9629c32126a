"""Typed references to places and people on a chat platform.

Each reference carries its platform, so a handler never has to guess whether an id is a
Slack channel or a Teams conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Platform(StrEnum):
    SLACK = "slack"
    TEAMS = "teams"


@dataclass(frozen=True)
class WorkspaceRef:
    """A Slack workspace (`team_id`) or a Teams tenant."""

    platform: Platform
    id: str


@dataclass(frozen=True)
class UserRef:
    platform: Platform
    id: str
    is_bot: bool = False


@dataclass(frozen=True)
class ChannelRef:
    platform: Platform
    id: str


@dataclass(frozen=True)
class MessageRef:
    """One message: its channel and its platform id (Slack `ts`, Teams activity id)."""

    channel: ChannelRef
    id: str
    thread_id: str | None = None

    @property
    def root_id(self) -> str:
        """The id of the thread root this message belongs to (itself when top level)."""
        return self.thread_id or self.id

    @property
    def platform(self) -> Platform:
        return self.channel.platform
