"""The Slack stand-in's ``auth.*``, ``chat.*`` and ``reactions.add`` methods: posting,
updating and deleting the bot's messages, ephemeral messages and permalinks."""

from __future__ import annotations

import re

from bot.demo.standins.slack.web_model import ApiError, JSONDict, is_true
from bot.demo.standins.slack.web_state import SlackState


class ChatMixin(SlackState):
    def _api_test(self, args: JSONDict) -> JSONDict:
        return {"ok": True, "args": args}

    def _auth_test(self, args: JSONDict) -> JSONDict:
        return {
            "ok": True,
            "url": f"https://{self.domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: JSONDict) -> JSONDict:
        channel_id = self._resolve_channel(args.get("channel"))
        if self.channels[channel_id].get("is_archived"):
            raise ApiError("is_archived")
        content = self._content(args)
        metadata = args.get("metadata")
        if metadata is not None and (
            not isinstance(metadata, dict) or "event_type" not in metadata
        ):
            raise ApiError("invalid_metadata_format")
        ts = self.next_ts()
        message: JSONDict = {
            "user": self.bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": content.get("text", ""),
            "team": self.team_id,
            "bot_profile": self._bot_profile(),
        }
        message.update({k: v for k, v in content.items() if k != "text"})
        parent = self._parent_of(channel_id, args.get("thread_ts"))
        if parent is not None:
            message["thread_ts"] = parent
            if is_true(args.get("reply_broadcast", False)):
                message["subtype"] = "thread_broadcast"
        if metadata is not None:
            message["metadata"] = {
                "event_type": metadata["event_type"],
                "event_payload": metadata.get("event_payload", {}),
            }
        if args.get("username"):
            message["username"] = str(args["username"])
        self._store(channel_id, message)
        self._posted.append((channel_id, ts))
        return {
            "ok": True,
            "channel": channel_id,
            "ts": ts,
            "message": self._render(channel_id, message, include_metadata=True),
        }

    def _chat_update(self, args: JSONDict) -> JSONDict:
        channel_id = self._channel(args.get("channel"))["id"]
        message = self._message(channel_id, args.get("ts"))
        if not self._is_own(message):
            raise ApiError("cant_update_message")
        content = self._content(args, allow_empty=True)
        if not content and "metadata" not in args:
            raise ApiError("no_text")
        message.update(content)
        if isinstance(args.get("metadata"), dict):
            message["metadata"] = args["metadata"]
        message["edited"] = {"user": self.bot_user_id, "ts": self.next_ts()}
        rendered = self._render(channel_id, message, include_metadata=True)
        return {
            "ok": True,
            "channel": channel_id,
            "ts": message["ts"],
            "text": message.get("text", ""),
            "message": rendered,
        }

    def _chat_delete(self, args: JSONDict) -> JSONDict:
        channel_id = self._channel(args.get("channel"))["id"]
        message = self._message(channel_id, args.get("ts"))
        if not self._is_own(message):
            raise ApiError("cant_delete_message")
        self._remove(channel_id, message["ts"])
        return {"ok": True, "channel": channel_id, "ts": message["ts"]}

    def _chat_post_ephemeral(self, args: JSONDict) -> JSONDict:
        channel_id = self._resolve_channel(args.get("channel"))
        user = args.get("user")
        if not user or user not in self.users:
            raise ApiError("user_not_found")
        members = self.channels[channel_id].get("members") or []
        if members and user not in members:
            raise ApiError("user_not_in_channel")
        content = self._content(args)
        ts = self.next_ts()
        self.ephemeral.append(
            {
                "channel": channel_id,
                "user": user,
                "message_ts": ts,
                "thread_ts": args.get("thread_ts"),
                **content,
            }
        )
        return {"ok": True, "message_ts": ts}

    def _chat_get_permalink(self, args: JSONDict) -> JSONDict:
        channel_id = self._channel(args.get("channel"))["id"]
        message = self._message(channel_id, args.get("message_ts"))
        return {
            "ok": True,
            "channel": channel_id,
            "permalink": self.permalink(channel_id, message["ts"]),
        }

    def permalink(self, channel: str, ts: str) -> str:
        """The permalink Slack gives for a message (with thread_ts/cid for replies)."""
        url = f"https://{self.domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        message = self._messages.get(channel, {}).get(ts)
        if message is not None and message.get("thread_ts") not in (None, ts):
            url += f"?thread_ts={message['thread_ts']}&cid={channel}"
        return url

    def _reactions_add(self, args: JSONDict) -> JSONDict:
        channel_id = self._channel(args.get("channel"))["id"]
        message = self._message(channel_id, args.get("timestamp"))
        name = str(args.get("name") or "").strip(":")
        if not name or not re.fullmatch(r"[a-z0-9_+\-']+(::skin-tone-[2-6])?", name):
            raise ApiError("invalid_name")
        reactions: list[JSONDict] = message.setdefault("reactions", [])
        for reaction in reactions:
            if reaction["name"] == name:
                if self.bot_user_id in reaction["users"]:
                    raise ApiError("already_reacted")
                reaction["users"].append(self.bot_user_id)
                reaction["count"] += 1
                break
        else:
            reactions.append({"name": name, "users": [self.bot_user_id], "count": 1})
        return {"ok": True}
