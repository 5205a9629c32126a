"""The state behind the Slack Web API stand-in: who the bot is, the workspace's channels,
users, messages and threads, the clock its ``ts`` values come from, and the lookups every
method shares (a channel by id or name, a message, a thread's parent, rendering)."""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from bot.core.clock import Clock
from bot.demo.standins.serving import Standin, start_clock
from bot.demo.standins.slack.web_model import (
    MAX_TEXT,
    ApiError,
    Call,
    FakeFile,
    Fault,
    Handler,
    JSONDict,
    check_blocks,
    ts_key,
)


class SlackState(Standin):
    """A workspace as the stand-in knows it; the method mixins read and change it."""

    def __init__(
        self,
        *,
        token: str,
        team_id: str,
        bot_user_id: str,
        bot_id: str,
        app_id: str,
        team_name: str,
        domain: str,
        bot_name: str,
        clock: Clock | None,
        host: str,
        port: int,
    ) -> None:
        super().__init__(host=host, port=port)
        self.token = token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.team_name = team_name
        self.domain = domain
        self.bot_name = bot_name

        #: The clock generated ``ts`` values follow (frozen at serving.START by default).
        self.clock: Clock = clock or start_clock()
        #: Whether a test chose this stand-in's time (a Server then leaves it alone).
        self.clock_given = clock is not None
        self._now: Callable[[], float] = lambda: self.clock.now().timestamp()

        #: App-level tokens (xapp-) and the methods that accept them (Socket Mode).
        self.app_tokens: set[str] = set()
        self.app_token_methods: set[str] = {"apps.connections.open"}

        self.calls: list[Call] = []
        self.responses: defaultdict[str, list[JSONDict]] = defaultdict(list)
        self.channels: dict[str, JSONDict] = {}
        self.users: dict[str, JSONDict] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.usergroup_handles: dict[str, str] = {}  # id -> handle (usergroups.list)
        self.views: dict[str, JSONDict] = {}
        #: The App Home each user was last shown (views.publish), by user id.
        self.home_views: dict[str, JSONDict] = {}
        self.files: dict[str, FakeFile] = {}
        self.ephemeral: list[JSONDict] = []

        self._messages: dict[str, dict[str, JSONDict]] = {}
        self._replies: dict[tuple[str, str], list[str]] = {}
        self._posted: list[tuple[str, str]] = []
        self._dms: dict[str, str] = {}
        self._faults: dict[str, list[Fault]] = {}
        self._delays: dict[str, float] = {}
        self._last_micros = 0
        self._counter = 0
        self._handlers: dict[str, Handler] = {}

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/``"""
        if not self.started:
            raise RuntimeError("FakeSlack is not started")
        return f"http://{self.host}:{self.port}/"

    @property
    def api_url(self) -> str:
        """``http://127.0.0.1:PORT/api/``: pass as ``AsyncWebClient(base_url=...)``."""
        return f"{self.base_url}api/"

    def response_url(self, name: str) -> str:
        """A ``response_url`` whose POSTs are recorded in ``self.responses[name]``."""
        return f"{self.base_url}hooks/{name}"

    # ------------------------------------------------------------------ clock and ids

    def now(self) -> float:
        """The stand-in's time, as epoch seconds."""
        return self._now()

    def follow(self, clock: Clock) -> None:
        """Take time from ``clock`` from now on (the test server hands over its own)."""
        self.clock = clock
        self.clock_given = True
        self._now = lambda: clock.now().timestamp()

    def set_now(self, value: float | Callable[[], float] | None) -> None:
        """Freeze time at ``value`` (epoch seconds), follow a callable, or with None go back
        to :attr:`clock`."""
        self.clock_given = True
        if value is None:
            self._now = lambda: self.clock.now().timestamp()
        elif callable(value):
            self._now = value
        else:
            fixed = float(value)
            self._now = lambda: fixed

    def next_ts(self) -> str:
        """A fresh ``ts``: from :attr:`now`, strictly greater than every ts seen so far."""
        micros = round(self.now() * 1_000_000)
        if micros <= self._last_micros:
            micros = self._last_micros + 1
        self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _see_ts(self, ts: str) -> None:
        whole, frac = ts_key(ts)
        self._last_micros = max(self._last_micros, whole * 1_000_000 + frac)

    def _new_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}0{self._counter:08X}"

    # ------------------------------------------------------------------ message storage

    def _store(self, channel: str, message: JSONDict) -> None:
        ts = message["ts"]
        self._messages.setdefault(channel, {})[ts] = message
        parent = message.get("thread_ts")
        if parent is not None and parent != ts:
            replies = self._replies.setdefault((channel, parent), [])
            replies.append(ts)
            replies.sort(key=ts_key)

    def _remove(self, channel: str, ts: str) -> JSONDict:
        message = self._messages[channel].pop(ts)
        parent = message.get("thread_ts")
        if parent is not None and parent != ts:
            replies = self._replies.get((channel, parent), [])
            if ts in replies:
                replies.remove(ts)
        return message

    def _render(self, channel: str, message: JSONDict, *, include_metadata: bool) -> JSONDict:
        out = copy.deepcopy(message)
        ts = out["ts"]
        replies = self._replies.get((channel, ts))
        stored = self._messages.get(channel, {})
        if replies:
            users: list[str] = []
            for reply_ts in replies:
                reply = stored[reply_ts]
                who = reply.get("user") or reply.get("bot_id")
                if who and who not in users:
                    users.append(who)
            out.update(
                thread_ts=ts,
                reply_count=len(replies),
                reply_users_count=len(users),
                latest_reply=replies[-1],
                reply_users=users,
                is_locked=False,
                subscribed=False,
            )
        elif out.get("thread_ts") not in (None, ts):
            parent = stored.get(out["thread_ts"])
            if parent is not None and parent.get("user"):
                out["parent_user_id"] = parent["user"]
        if not include_metadata and out.get("app_id") != self.app_id:
            out.pop("metadata", None)
        return out

    def _channel(self, channel_id: Any) -> JSONDict:
        if not channel_id or channel_id not in self.channels:
            raise ApiError("channel_not_found")
        return self.channels[channel_id]

    def _resolve_channel(self, given: Any) -> str:
        """Channel id from an id, a ``#name``/name, or a user id (opens the DM)."""
        if not given:
            raise ApiError("channel_not_found")
        value = str(given)
        if value in self.channels:
            return value
        name = value.removeprefix("#")
        for cid, ch in self.channels.items():
            if ch.get("name") == name and not ch.get("is_im"):
                return cid
        if value in self.users:
            return self._open_dm(value)[0]
        raise ApiError("channel_not_found")

    def _message(self, channel: str, ts: Any) -> JSONDict:
        msg = self._messages.get(channel, {}).get(str(ts)) if ts else None
        if msg is None:
            raise ApiError("message_not_found")
        return msg

    def _is_own(self, message: JSONDict) -> bool:
        return message.get("user") == self.bot_user_id or message.get("bot_id") == self.bot_id

    def _bot_profile(self) -> JSONDict:
        icon = "https://a.slack-edge.com/80588/img/plugins/app/bot_48.png"
        return {
            "id": self.bot_id,
            "deleted": False,
            "name": self.bot_name,
            "updated": int(self.now()),
            "app_id": self.app_id,
            "icons": {"image_36": icon, "image_48": icon, "image_72": icon},
            "team_id": self.team_id,
        }

    def _parent_of(self, channel: str, thread_ts: Any) -> str | None:
        """Normalise thread_ts: a reply's ts means its parent; unknown ts means no thread."""
        if not thread_ts:
            return None
        msg = self._messages.get(channel, {}).get(str(thread_ts))
        if msg is None:
            return None
        return str(msg.get("thread_ts") or msg["ts"])

    @staticmethod
    def _content(args: JSONDict, *, allow_empty: bool = False) -> JSONDict:
        content: JSONDict = {}
        text = args.get("text")
        if text is not None:
            content["text"] = str(text)[:MAX_TEXT]
        blocks = args.get("blocks")
        if blocks is not None:
            content["blocks"] = check_blocks(blocks, 50)
        attachments = args.get("attachments")
        if attachments is not None:
            if not isinstance(attachments, list):
                raise ApiError("invalid_attachments")
            content["attachments"] = attachments
        if not content and not allow_empty:
            raise ApiError("no_text")
        return content

    def _open_dm(self, user: str) -> tuple[str, bool]:
        existing = self._dms.get(user)
        if existing is not None:
            return existing, True
        dm_id = self._new_id("D")
        self.channels[dm_id] = {
            "id": dm_id,
            "created": int(self.now()),
            "is_archived": False,
            "is_im": True,
            "is_org_shared": False,
            "context_team_id": self.team_id,
            "updated": int(self.now() * 1000),
            "user": user,
            "is_user_deleted": False,
            "priority": 0,
            "members": [user, self.bot_user_id],
        }
        self._messages.setdefault(dm_id, {})
        self._dms[user] = dm_id
        return dm_id, False
