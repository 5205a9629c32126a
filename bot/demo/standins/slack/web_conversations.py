"""The Slack stand-in's ``conversations.*``, ``users.info`` and ``usergroups.users.list``:
channel info, history and threads with Slack's windows and cursors, DMs and members."""

from __future__ import annotations

import base64
import copy

from bot.demo.standins.slack.web_model import (
    ApiError,
    JSONDict,
    decode_cursor,
    encode_cursor,
    is_true,
    limit_of,
    str_list,
    ts_key,
)
from bot.demo.standins.slack.web_seed import SeedMixin


class ConversationsMixin(SeedMixin):
    def _conversations_info(self, args: JSONDict) -> JSONDict:
        channel = copy.deepcopy(self._channel(args.get("channel")))
        members = channel.pop("members", [])
        if channel.get("is_im"):
            return {"ok": True, "channel": channel}
        channel["is_member"] = self.bot_user_id in members
        if is_true(args.get("include_num_members", False)):
            channel["num_members"] = len(members)
        return {"ok": True, "channel": channel}

    def _window(
        self, args: JSONDict, candidates: list[str]
    ) -> list[str]:  # candidates sorted oldest first
        inclusive = is_true(args.get("inclusive", False))
        latest = args.get("latest")
        oldest = args.get("oldest")
        try:
            lo = ts_key(str(oldest)) if oldest not in (None, "") else None
            hi = ts_key(str(latest)) if latest not in (None, "") else None
        except ValueError as exc:
            raise ApiError("invalid_ts_latest" if latest else "invalid_ts_oldest") from exc
        out: list[str] = []
        for ts in candidates:
            key = ts_key(ts)
            if lo is not None and (key < lo or (key == lo and not inclusive)):
                continue
            if hi is not None and (key > hi or (key == hi and not inclusive)):
                continue
            out.append(ts)
        return out

    def _conversations_history(self, args: JSONDict) -> JSONDict:
        channel_id = self._channel(args.get("channel"))["id"]
        stored = self._messages.get(channel_id, {})
        top = sorted(
            (ts for ts, m in stored.items() if m.get("thread_ts") in (None, ts)), key=ts_key
        )
        window = self._window(args, top)
        window.reverse()  # newest first
        if args.get("cursor"):
            after = ts_key(decode_cursor(str(args["cursor"])))
            window = [ts for ts in window if ts_key(ts) < after]
        limit = limit_of(args, 100, 999)
        page, has_more = window[:limit], len(window) > limit
        include_all = is_true(args.get("include_all_metadata", False))
        body: JSONDict = {
            "ok": True,
            "messages": [
                self._render(channel_id, stored[ts], include_metadata=include_all) for ts in page
            ],
            "has_more": has_more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
        }
        if has_more:
            body["response_metadata"] = {"next_cursor": encode_cursor(page[-1])}
        return body

    def _conversations_replies(self, args: JSONDict) -> JSONDict:
        channel_id = self._channel(args.get("channel"))["id"]
        stored = self._messages.get(channel_id, {})
        ts = args.get("ts")
        message = stored.get(str(ts)) if ts else None
        if message is None:
            raise ApiError("thread_not_found")
        parent_ts = str(message.get("thread_ts") or message["ts"])
        parent = stored.get(parent_ts)
        if parent is None:
            raise ApiError("thread_not_found")
        replies = self._window(args, list(self._replies.get((channel_id, parent_ts), [])))
        if args.get("cursor"):
            after = ts_key(decode_cursor(str(args["cursor"])))
            replies = [r for r in replies if ts_key(r) > after]
        size = max(limit_of(args, 1000) - 1, 1)
        page, has_more = replies[:size], len(replies) > size
        include_all = is_true(args.get("include_all_metadata", False))
        body: JSONDict = {
            "ok": True,
            "messages": [
                self._render(channel_id, stored[t], include_metadata=include_all)
                for t in [parent_ts, *page]
            ],
            "has_more": has_more,
        }
        if has_more:
            body["response_metadata"] = {"next_cursor": encode_cursor(page[-1])}
        return body

    def _conversations_open(self, args: JSONDict) -> JSONDict:
        if args.get("channel"):
            existing = self._channel(args["channel"])
            return {
                "ok": True,
                "channel": {"id": existing["id"]},
                "no_op": True,
                "already_open": True,
            }
        users = str_list(args.get("users"))
        if not users:
            raise ApiError("users_list_not_supplied")
        for user in users:
            if user not in self.users:
                raise ApiError("user_not_found")
        if len(users) == 1:
            dm_id, existed = self._open_dm(users[0])
        else:
            members = sorted({*users, self.bot_user_id})
            key = "mpim:" + ",".join(members)
            existed = key in self._dms
            if not existed:
                mpim_id = self._new_id("G")
                names = "--".join(self.users[m]["name"] for m in members)
                self.add_channel(mpim_id, name=f"mpdm-{names}-1", is_private=True, members=members)
                self.channels[mpim_id].update(is_channel=False, is_group=False, is_mpim=True)
                self._dms[key] = mpim_id
            dm_id = self._dms[key]
        channel: JSONDict = {"id": dm_id}
        if is_true(args.get("return_im", False)):
            channel = {k: v for k, v in self.channels[dm_id].items() if k != "members"}
        body: JSONDict = {"ok": True, "channel": channel}
        if existed:
            body.update(no_op=True, already_open=True)
        return body

    def _conversations_members(self, args: JSONDict) -> JSONDict:
        members: list[str] = list(self._channel(args.get("channel")).get("members") or [])
        start = 0
        if args.get("cursor"):
            try:
                start = int(base64.b64decode(str(args["cursor"])).decode().split(":", 1)[1])
            except (ValueError, IndexError) as exc:
                raise ApiError("invalid_cursor") from exc
        limit = limit_of(args, 100)
        page = members[start : start + limit]
        nxt = start + limit
        cursor = base64.b64encode(f"offset:{nxt}".encode()).decode() if nxt < len(members) else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}

    # ------------------------------------------------------------------ methods: users

    def _users_info(self, args: JSONDict) -> JSONDict:
        user = self.users.get(str(args.get("user") or ""))
        if user is None:
            raise ApiError("user_not_found")
        return {"ok": True, "user": copy.deepcopy(user)}

    def _usergroups_users_list(self, args: JSONDict) -> JSONDict:
        group = str(args.get("usergroup") or "")
        if group not in self.usergroups:
            raise ApiError("no_such_subteam")
        return {"ok": True, "users": list(self.usergroups[group])}
