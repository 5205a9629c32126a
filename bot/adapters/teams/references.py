"""Conversation references kept in the database (store/conversations.py), read back as
what a proactive post needs: service URL, tenant, team, the bot's account."""

from __future__ import annotations

import json
from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.adapters.teams import translate
from store.conversations import get_reference, latest_reference, save_reference
from store.models import ConversationRef


@dataclass(frozen=True)
class Target:
    channel_id: str
    service_url: str
    tenant_id: str
    team_id: str | None
    bot: dict[str, Any]
    extras: dict[str, Any]
    exact: bool  # False: borrowed from another channel (same tenant, same service URL)

    @property
    def aad_group_id(self) -> str | None:
        value = self.extras.get("aadGroupId")
        return str(value) if value else None


def _target(row: ConversationRef, channel_id: str) -> Target:
    ref = json.loads(row.reference)
    return Target(
        channel_id=channel_id,
        service_url=row.service_url if row.service_url.endswith("/") else row.service_url + "/",
        tenant_id=row.tenant_id,
        team_id=row.team_id,
        bot=dict(ref.get("bot") or {}),
        extras=dict(ref.get("crosstalk") or {}) if row.channel_id == channel_id else {},
        exact=row.channel_id == channel_id,
    )


def reference_of(
    activity: translate.Activity, channel_id: str | None = None
) -> dict[str, Any] | None:
    """The ConversationReference of a team channel (JSON, as the SDK writes it), with what
    Crosstalk needs besides under `crosstalk`; None outside team channels."""
    where = translate.place(activity)
    channel = channel_id or where.channel_id
    if channel is None or where.tenant_id is None or not where.service_url:
        return None
    conversation = {
        **(activity.get("conversation") or {}),
        "id": channel,
        "conversationType": "channel",
        "isGroup": True,
        "tenantId": where.tenant_id,
    }
    named = (activity.get("channelData") or {}).get("channel") or {}
    if channel == where.channel_id:
        named = {"name": where.channel_name, "membershipType": where.membership_type}
    elif named.get("id") != channel:
        named = {}
    extras = {
        "teamId": where.team_id,
        "teamName": where.team_name,
        "aadGroupId": where.aad_group_id,
        "channelName": named.get("name"),
        "membershipType": named.get("membershipType"),
    }
    return {
        "bot": activity.get("recipient"),
        "conversation": conversation,
        "channelId": activity.get("channelId") or "msteams",
        "serviceUrl": where.service_url,
        "crosstalk": {k: v for k, v in extras.items() if v},
    }


def created_channel(activity: translate.Activity) -> str | None:
    """The channel a `channelCreated` conversationUpdate announces."""
    data = activity.get("channelData") or {}
    if data.get("eventType") != "channelCreated":
        return None
    channel = (data.get("channel") or {}).get("id")
    return str(channel) if channel else None


def unseen(activity: translate.Activity, cache: Container[str]) -> list[dict[str, Any]]:
    """The references an activity carries (its channel's, and one it announces) that
    `cache` has not seen unchanged since they were last saved."""
    channels: list[str | None] = [None]
    created = created_channel(activity)
    if created:
        channels.append(created)
    found = []
    for channel in channels:
        ref = reference_of(activity, channel)
        if ref is not None and json.dumps(ref, sort_keys=True) not in cache:
            found.append(ref)
    return found


def remember(
    session: Session,
    org_id: int,
    activity: translate.Activity,
    refs: list[dict[str, Any]],
    now: datetime,
) -> None:
    """Keep (or refresh) the references `unseen` found."""
    where = translate.place(activity)
    for ref in refs:
        channel_id = ref["conversation"]["id"]
        old = get_reference(session, org_id=org_id, channel_id=channel_id)
        if old is not None:
            # Not every activity names the team's group id or the channel's name:
            # what an earlier one said stays until something says otherwise.
            kept = json.loads(old.reference).get("crosstalk") or {}
            ref["crosstalk"] = {**kept, **ref["crosstalk"]}
        save_reference(
            session,
            org_id=org_id,
            tenant_id=str(where.tenant_id),
            team_id=where.team_id,
            channel_id=channel_id,
            service_url=where.service_url,
            reference=json.dumps(ref),
            now=now,
        )


def target(session: Session, org_id: int, channel_id: str) -> Target | None:
    """Where to send to a channel: its own reference, else one of the org's (a team's
    service URL and tenant reach its other channels; Teams refuses if the bot is not in
    the channel's team)."""
    row = get_reference(session, org_id=org_id, channel_id=channel_id)
    if row is None:
        row = latest_reference(session, org_id=org_id)
    return _target(row, channel_id) if row is not None else None


def team_target(session: Session, org_id: int) -> Target | None:
    """Any reference with a team: the roster to ask a member's name of."""
    row = latest_reference(session, org_id=org_id)
    return _target(row, row.channel_id) if row is not None else None
