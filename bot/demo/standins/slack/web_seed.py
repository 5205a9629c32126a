"""Seeding the Slack stand-in: the channels, people, user groups and earlier messages a
test (or the demo) starts from."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.demo.standins.slack.web_model import JSONDict
from bot.demo.standins.slack.web_state import SlackState


class SeedMixin(SlackState):
    def add_channel(
        self,
        channel_id: str,
        name: str | None = None,
        *,
        is_private: bool = False,
        is_ext_shared: bool = False,
        is_shared: bool | None = None,
        is_org_shared: bool = False,
        is_archived: bool = False,
        members: Iterable[str] | None = None,
        topic: str = "",
        purpose: str = "",
        created: int | None = None,
    ) -> JSONDict:
        """Add (or replace) a channel. ``members`` defaults to just the bot user."""
        member_list = list(members) if members is not None else [self.bot_user_id]
        channel: JSONDict = {
            "id": channel_id,
            "name": name or channel_id.lower(),
            "is_channel": not is_private,
            "is_group": is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": is_private,
            "created": created if created is not None else int(self.now()),
            "is_archived": is_archived,
            "is_general": False,
            "unlinked": 0,
            "name_normalized": (name or channel_id).lower(),
            "is_shared": is_ext_shared or is_org_shared if is_shared is None else is_shared,
            "is_org_shared": is_org_shared,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": self.team_id,
            "parent_conversation": None,
            "creator": member_list[0] if member_list else self.bot_user_id,
            "is_ext_shared": is_ext_shared,
            "shared_team_ids": [self.team_id],
            "pending_connected_team_ids": [],
            "topic": {"value": topic, "creator": "", "last_set": 0},
            "purpose": {"value": purpose, "creator": "", "last_set": 0},
            "previous_names": [],
            "members": member_list,
        }
        self.channels[channel_id] = channel
        self._messages.setdefault(channel_id, {})
        return channel

    def add_user(
        self,
        user_id: str,
        name: str | None = None,
        real_name: str | None = None,
        *,
        is_bot: bool = False,
        tz: str = "UTC",
        display_name: str | None = None,
        email: str | None = None,
        team_id: str | None = None,
        bot_id: str | None = None,
        deleted: bool = False,
        is_admin: bool = False,
    ) -> JSONDict:
        """Add (or replace) a user; ``users.info`` answers with this object."""
        name = name or user_id.lower()
        real_name = real_name if real_name is not None else name
        display_name = display_name if display_name is not None else ("" if is_bot else name)
        tz_offset, tz_label = self._zone(tz)
        profile: JSONDict = {
            "title": "",
            "phone": "",
            "skype": "",
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": display_name,
            "display_name_normalized": display_name,
            "fields": None,
            "status_text": "",
            "status_emoji": "",
            "status_expiration": 0,
            "avatar_hash": "g0000000000",
            "first_name": real_name.split(" ")[0] if real_name else "",
            "last_name": " ".join(real_name.split(" ")[1:]) if real_name else "",
            "image_48": "https://secure.gravatar.com/avatar/0.jpg?s=48",
            "image_72": "https://secure.gravatar.com/avatar/0.jpg?s=72",
            "team": team_id or self.team_id,
        }
        if email is not None:
            profile["email"] = email
        if bot_id is not None:
            profile["bot_id"] = bot_id
            profile["api_app_id"] = self.app_id if bot_id == self.bot_id else ""
        return self._add_user_object(
            user_id,
            name,
            real_name,
            profile,
            tz=tz,
            tz_offset=tz_offset,
            tz_label=tz_label,
            team_id=team_id,
            is_bot=is_bot,
            deleted=deleted,
            is_admin=is_admin,
        )

    def _zone(self, tz: str) -> tuple[int, str]:
        """Slack's ``tz_offset`` and ``tz_label`` for ``tz`` at the stand-in's now."""
        try:
            local = datetime.fromtimestamp(self.now(), ZoneInfo(tz))
        except (ZoneInfoNotFoundError, ValueError):
            return 0, tz
        offset = local.utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0, local.tzname() or tz

    def _add_user_object(
        self,
        user_id: str,
        name: str,
        real_name: str,
        profile: JSONDict,
        *,
        tz: str,
        tz_offset: int,
        tz_label: str,
        team_id: str | None,
        is_bot: bool,
        deleted: bool,
        is_admin: bool,
    ) -> JSONDict:
        user: JSONDict = {
            "id": user_id,
            "team_id": team_id or self.team_id,
            "name": name,
            "deleted": deleted,
            "color": "9f69e7",
            "real_name": real_name,
            "tz": tz,
            "tz_label": tz_label,
            "tz_offset": tz_offset,
            "profile": profile,
            "is_admin": is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(self.now()),
            "is_email_confirmed": not is_bot,
            "who_can_share_contact_card": "EVERYONE",
        }
        self.users[user_id] = user
        return user

    def add_usergroup(
        self, usergroup_id: str, users: Iterable[str], *, handle: str | None = None
    ) -> None:
        self.usergroups[usergroup_id] = list(users)
        self.usergroup_handles[usergroup_id] = handle or usergroup_id.lower()

    def add_message(
        self,
        channel: str,
        text: str,
        user: str | None = None,
        ts: str | None = None,
        thread_ts: str | None = None,
        bot_id: str | None = None,
        **extra: Any,
    ) -> str:
        """Seed a message (a thread reply when ``thread_ts`` is given); returns its ts.

        An unknown channel is created on the fly. ``extra`` fields (``blocks``, ``subtype``,
        ``metadata``, ``files``...) are stored on the message as given.
        """
        if channel not in self.channels:
            self.add_channel(channel)
        if ts is None:
            ts = self.next_ts()
        else:
            self._see_ts(ts)
        message: JSONDict = {"type": "message", "text": text, "ts": ts, "team": self.team_id}
        if user is not None:
            message["user"] = user
        if bot_id is not None:
            message["bot_id"] = bot_id
        message.update(extra)
        if thread_ts is not None and thread_ts != ts:
            message["thread_ts"] = thread_ts
        self._store(channel, message)
        return ts
