"""The `[listening]` section (SPEC "Listening"): which channels are watched and where the
suggestions go.

Suggestions are posted on the platform of the message they suggest (the presser of
**Flag** becomes the flagger, a person of that platform), so a Slack message's suggestion
goes to `triage_channel`, a Slack channel, and a Teams message's to
`teams_triage_channel`, a Teams channel. Channels are ids here: a `#name` is not looked up
for this section (the triage channel must be the internal one, exactly).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from config import names

if TYPE_CHECKING:
    from config.schema import OrgConfig


def _channel_id(value: str) -> str:
    parsed = names.any_channel(value)
    if isinstance(parsed, names.Name):
        raise ValueError(f"{value!r}: listening needs the channel id; {names.HOW_SLACK_CHANNEL}")
    return parsed


def _slack_id(value: str | None) -> str | None:
    if value is not None and not names.SLACK_CHANNEL_ID.match(value):
        raise ValueError(f"{value!r} is not a Slack channel id (C…); {names.HOW_SLACK_CHANNEL}")
    return value


def _teams_id(value: str | None) -> str | None:
    return None if value is None else names.teams_channel(value)


def is_teams_channel(channel_id: str) -> bool:
    return channel_id.startswith("19:")


class ListeningConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: list[Annotated[str, AfterValidator(_channel_id)]] = []
    shared_channels: bool = False
    triage_channel: Annotated[str | None, AfterValidator(_slack_id)] = None
    teams_triage_channel: Annotated[str | None, AfterValidator(_teams_id)] = None
    threshold: float | None = Field(default=None, gt=0, lt=1)
    _watched: frozenset[str] = PrivateAttr(default=frozenset())

    @model_validator(mode="after")
    def _index(self) -> ListeningConfig:
        self._watched = frozenset(self.channels)
        return self

    @property
    def watched(self) -> frozenset[str]:
        """The listed channels, for a set lookup on every inbound message."""
        return self._watched

    @property
    def on(self) -> bool:
        return bool(self.channels) or self.shared_channels

    def triage(self, platform: str) -> str | None:
        """Where a suggestion of a message on `platform` goes."""
        return self.teams_triage_channel if platform == "teams" else self.triage_channel

    def problems(self, org: OrgConfig) -> list[str]:
        """What makes the section unusable with this org (`config check` names the key)."""
        found: list[str] = []
        on_slack = any(not is_teams_channel(c) for c in self.channels) or (
            self.shared_channels and bool(org.slack_team_ids)
        )
        on_teams = any(is_teams_channel(c) for c in self.channels) or (
            self.shared_channels and bool(org.teams_tenant_ids)
        )
        if on_slack and not self.triage_channel:
            found.append(
                "listening.triage_channel: required while Slack channels are watched "
                "(an internal Slack channel where suggestions go)"
            )
        if on_teams and not self.teams_triage_channel:
            found.append(
                "listening.teams_triage_channel: required while Teams channels are watched "
                "(an internal Teams channel where suggestions go)"
            )
        for key in ("triage_channel", "teams_triage_channel"):
            if getattr(self, key) in self.watched:
                found.append(
                    f"listening.{key}: must not be a watched channel (a customer may read it)"
                )
        return found
