"""The Slack stand-in's directory: ``conversations.list``, ``users.list``,
``users.lookupByEmail`` and ``usergroups.list``, paged with Slack's cursors, for resolving
the names a config gives (bot/adapters/slack/names.py)."""

from __future__ import annotations

import base64
import copy

from bot.demo.standins.slack.web_model import ApiError, JSONDict, is_true, limit_of, str_list
from bot.demo.standins.slack.web_seed import SeedMixin


def _offset(args: JSONDict) -> int:
    if not args.get("cursor"):
        return 0
    try:
        return int(base64.b64decode(str(args["cursor"])).decode().split(":", 1)[1])
    except (ValueError, IndexError) as exc:
        raise ApiError("invalid_cursor") from exc


def _page(items: list[JSONDict], args: JSONDict, key: str) -> JSONDict:
    start, limit = _offset(args), limit_of(args, 100)
    nxt = start + limit
    cursor = base64.b64encode(f"offset:{nxt}".encode()).decode() if nxt < len(items) else ""
    return {"ok": True, key: items[start:nxt], "response_metadata": {"next_cursor": cursor}}


class DirectoryMixin(SeedMixin):
    def _conversations_list(self, args: JSONDict) -> JSONDict:
        """Public channels, and the private ones the bot is in (as Slack lists them)."""
        types = set(str_list(args.get("types")) or ["public_channel"])
        out: list[JSONDict] = []
        for channel in self.channels.values():
            if channel.get("is_im") or channel.get("is_mpim"):
                continue
            member = self.bot_user_id in (channel.get("members") or [])
            private = bool(channel.get("is_private"))
            if private and ("private_channel" not in types or not member):
                continue
            if not private and "public_channel" not in types:
                continue
            if channel.get("is_archived") and is_true(args.get("exclude_archived", False)):
                continue
            shown = {k: v for k, v in copy.deepcopy(channel).items() if k != "members"}
            shown["is_member"] = member
            shown["num_members"] = len(channel.get("members") or [])
            out.append(shown)
        return _page(out, args, "channels")

    def _users_list(self, args: JSONDict) -> JSONDict:
        return _page([copy.deepcopy(u) for u in self.users.values()], args, "members")

    def _users_lookup_by_email(self, args: JSONDict) -> JSONDict:
        email = str(args.get("email") or "").lower()
        if not email:
            raise ApiError("invalid_email")
        for user in self.users.values():
            if str(user.get("profile", {}).get("email", "")).lower() == email:
                return {"ok": True, "user": copy.deepcopy(user)}
        raise ApiError("users_not_found")

    def _usergroups_list(self, args: JSONDict) -> JSONDict:
        groups = [
            {
                "id": gid,
                "team_id": self.team_id,
                "handle": self.usergroup_handles.get(gid, gid.lower()),
                "name": self.usergroup_handles.get(gid, gid.lower()),
                "user_count": len(users),
            }
            for gid, users in self.usergroups.items()
        ]
        return {"ok": True, "usergroups": groups}
