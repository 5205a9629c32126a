"""A local stand-in for the Slack Web API, served over real HTTP on 127.0.0.1.

Used by the test suite, ``crosstalk demo`` and the benchmarks::

    async with FakeSlack(token="xoxb-test") as slack:
        slack.add_channel("C0BILLING", name="billing")
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
        await client.chat_postMessage(channel="C0BILLING", text="hi")
        assert slack.posted("C0BILLING")[0]["text"] == "hi"

Requests are answered with the shapes the real Web API uses (``ok``, ``error``,
``response_metadata``...). Arguments may come as a query string, a form body or a JSON
body; the token as ``Authorization: Bearer`` or a ``token`` field. Every call is recorded
in :attr:`FakeSlack.calls`, whatever its outcome.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import mimetypes
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from typing import Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

__all__ = ["Call", "FakeFile", "FakeSlack", "Fault"]

JSONDict = dict[str, Any]
Handler = Callable[[JSONDict], JSONDict]

# Arguments that clients send as JSON strings inside form bodies.
_JSON_ARGS = ("blocks", "attachments", "metadata", "view", "files", "unfurls", "user_auth_blocks")
_MAX_TEXT = 40_000
_MAX_SECTION_TEXT = 3_000


@dataclass
class Call:
    """One request to ``/api/{method}``, in arrival order.

    ``args`` holds every argument (query string, form and JSON body merged; JSON-encoded
    fields such as ``blocks``/``view``/``metadata``/``files`` decoded) without the token.
    ``at`` is the wall-clock arrival time (``time.time()``, not the fake clock).
    ``status`` and ``error`` describe the answer given (``error`` is None when ``ok``).
    """

    method: str
    args: dict[str, Any]
    at: float
    token: str | None = None
    status: int = 200
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None


@dataclass
class Fault:
    """A scheduled failure for the next ``remaining`` calls of one method."""

    status: int
    error: str | None
    retry_after: int
    remaining: int
    after_effect: bool


@dataclass
class FakeFile:
    """A file uploaded through files.getUploadURLExternal / upload URL / completeUploadExternal."""

    id: str
    filename: str
    length: int
    alt_txt: str | None = None
    snippet_type: str | None = None
    content: bytes | None = None
    title: str | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)
    initial_comment: str | None = None
    thread_ts: str | None = None
    created: int = 0

    @property
    def uploaded(self) -> bool:
        return self.content is not None


class _ApiError(Exception):
    def __init__(self, error: str, messages: list[str] | None = None, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages
        self.extra = extra

    def body(self) -> JSONDict:
        out: JSONDict = {"ok": False, "error": self.error, **self.extra}
        if self.messages:
            out["response_metadata"] = {"messages": self.messages}
        return out


def _ts_key(ts: str) -> tuple[int, int]:
    """Sort key for Slack timestamps ("1763800000.000100"); raises ValueError if malformed."""
    whole, _, frac = str(ts).partition(".")
    return int(whole or 0), int((frac + "000000")[:6])


def _form_value(item: str | bytes | bytearray | web.FileField) -> str | bytes:
    if isinstance(item, str):
        return item
    if isinstance(item, web.FileField):
        return item.file.read()
    return bytes(item)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes")


def _str_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _encode_cursor(ts: str) -> str:
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _decode_cursor(cursor: str) -> str:
    try:
        raw = base64.b64decode(cursor.encode(), validate=True).decode()
    except ValueError as exc:
        raise _ApiError("invalid_cursor") from exc
    prefix, _, ts = raw.partition(":")
    if prefix != "next_ts" or not ts:
        raise _ApiError("invalid_cursor")
    return ts


def _limit(args: JSONDict, default: int, maximum: int = 1000) -> int:
    try:
        value = int(args.get("limit") or default)
    except (TypeError, ValueError) as exc:
        raise _ApiError("invalid_limit") from exc
    if value <= 0:
        value = default
    return min(value, maximum)


def _check_blocks(blocks: Any, maximum: int) -> list[JSONDict]:
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        raise _ApiError("invalid_blocks_format")
    if len(blocks) > maximum:
        raise _ApiError(
            "invalid_blocks",
            [f"[ERROR] no more than {maximum} items allowed [json-pointer:/blocks]"],
        )
    problems: list[str] = []
    for i, block in enumerate(blocks):
        if "type" not in block:
            problems.append(f"[ERROR] missing required field: type [json-pointer:/blocks/{i}]")
            continue
        text = block.get("text")
        too_long = isinstance(text, dict) and len(str(text.get("text", ""))) > _MAX_SECTION_TEXT
        if block["type"] == "section" and too_long:
            problems.append(
                f"[ERROR] must be less than {_MAX_SECTION_TEXT + 1} characters "
                f"[json-pointer:/blocks/{i}/text/text]"
            )
    if problems:
        raise _ApiError("invalid_blocks", problems)
    return blocks


class FakeSlack:
    """An in-process Slack Web API on 127.0.0.1 with an OS-assigned port."""

    def __init__(
        self,
        token: str = "xoxb-test",
        team_id: str = "T0001",
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        *,
        app_id: str = "A0001",
        team_name: str = "Acme",
        domain: str = "acme",
        bot_name: str = "crosstalk",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.team_name = team_name
        self.domain = domain
        self.bot_name = bot_name
        self.host = host
        self.port = port

        #: The fake clock used for generated ``ts`` values; assign any ``() -> float``.
        self.now: Callable[[], float] = time.time

        #: App-level tokens (xapp-) and the methods that accept them (Socket Mode).
        self.app_tokens: set[str] = set()
        self.app_token_methods: set[str] = {"apps.connections.open"}

        self.calls: list[Call] = []
        self.responses: defaultdict[str, list[JSONDict]] = defaultdict(list)
        self.channels: dict[str, JSONDict] = {}
        self.users: dict[str, JSONDict] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.views: dict[str, JSONDict] = {}
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
        self._runner: web.AppRunner | None = None

        self.app = web.Application(client_max_size=256 * 1024 * 1024)
        self.app.router.add_route("*", "/api/{method}", self._handle_api)
        self.app.router.add_post("/upload/{file_id}", self._handle_upload)
        self.app.router.add_post("/hooks/{name:.+}", self._handle_hook)

        self._handlers: dict[str, Handler] = {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.open": self._conversations_open,
            "conversations.members": self._conversations_members,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroups_users_list,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
            "reactions.add": self._reactions_add,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
        }

        self.add_user(bot_user_id, name=bot_name, real_name=bot_name, is_bot=True, bot_id=bot_id)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start serving; afterwards :attr:`port`, :attr:`base_url` and :attr:`api_url` are set."""
        if self._runner is not None:
            return
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/``"""
        if self._runner is None:
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

    def set_now(self, value: float | Callable[[], float] | None) -> None:
        """Freeze the fake clock at ``value`` (a float), use a callable, or None for time.time."""
        if value is None:
            self.now = time.time
        elif callable(value):
            self.now = value
        else:
            fixed = float(value)
            self.now = lambda: fixed

    def next_ts(self) -> str:
        """A fresh ``ts``: from :attr:`now`, strictly greater than every ts seen so far."""
        micros = round(self.now() * 1_000_000)
        if micros <= self._last_micros:
            micros = self._last_micros + 1
        self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _see_ts(self, ts: str) -> None:
        whole, frac = _ts_key(ts)
        self._last_micros = max(self._last_micros, whole * 1_000_000 + frac)

    def _new_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}0{self._counter:08X}"

    # ------------------------------------------------------------------ seeding state

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
        try:
            zone = ZoneInfo(tz)
            now = datetime.now(zone)
            offset = now.utcoffset()
            tz_offset = int(offset.total_seconds()) if offset is not None else 0
            tz_label = now.tzname() or tz
        except (ZoneInfoNotFoundError, ValueError):
            tz_offset, tz_label = 0, tz
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

    def add_usergroup(self, usergroup_id: str, users: Iterable[str]) -> None:
        self.usergroups[usergroup_id] = list(users)

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

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int = 1,
        times: int = 1,
        after_effect: bool = False,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail.

        - ``status=429``: HTTP 429 with ``Retry-After: retry_after`` and
          ``{"ok": false, "error": "ratelimited"}``
        - ``status=500`` (any other non-200): that status with a text/plain body
        - ``error="channel_not_found"`` (no status): HTTP 200 with that Slack error
        - ``after_effect=True``: the call is applied first, then the failure is answered
          (a lost response).
        With neither ``status`` nor ``error``, HTTP 500.
        """
        if status is None:
            status = 200 if error is not None else 500
        self._faults.setdefault(method, []).append(
            Fault(status, error, retry_after, times, after_effect)
        )

    def clear_faults(self) -> None:
        self._faults.clear()
        self._delays.clear()

    def delay(self, method: str, seconds: float) -> None:
        """Answer ``method`` (``"*"`` for every method) only after ``seconds``; 0 removes it."""
        if seconds <= 0:
            self._delays.pop(method, None)
        else:
            self._delays[method] = seconds

    def _take_fault(self, method: str) -> Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.pop(0)
        return fault

    @staticmethod
    def _fault_response(fault: Fault) -> web.Response:
        if fault.status == 429:
            return web.json_response(
                {"ok": False, "error": fault.error or "ratelimited"},
                status=429,
                headers={"Retry-After": str(fault.retry_after)},
            )
        if fault.status != 200 and fault.error is None:
            return web.Response(
                status=fault.status,
                text=f"{fault.status} {_reason(fault.status)}",
                content_type="text/plain",
            )
        return web.json_response(
            {"ok": False, "error": fault.error or "internal_error"}, status=fault.status
        )

    # ------------------------------------------------------------------ accessors

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def get_message(self, channel: str, ts: str) -> JSONDict | None:
        """The message as Slack would render it (thread fields included), or None."""
        msg = self._messages.get(channel, {}).get(ts)
        return self._render(channel, msg, include_metadata=True) if msg else None

    def messages(self, channel: str) -> list[JSONDict]:
        """All messages of ``channel``, replies included, oldest first."""
        stored = self._messages.get(channel, {})
        return [
            self._render(channel, stored[ts], include_metadata=True)
            for ts in sorted(stored, key=_ts_key)
        ]

    def posted(self, channel: str | None = None, thread_ts: str | None = None) -> list[JSONDict]:
        """Messages posted through chat.postMessage and still present, in posting order.

        Each carries an extra ``channel`` key. ``thread_ts`` keeps only replies in that thread.
        """
        out: list[JSONDict] = []
        for ch, ts in self._posted:
            if channel is not None and ch != channel:
                continue
            msg = self._messages.get(ch, {}).get(ts)
            if msg is None:
                continue
            if thread_ts is not None and msg.get("thread_ts") != thread_ts:
                continue
            rendered = self._render(ch, msg, include_metadata=True)
            rendered["channel"] = ch
            out.append(rendered)
        return out

    async def wait_for(
        self, method: str, count: int = 1, *, within: float = 5.0, ok: bool | None = True
    ) -> list[Call]:
        """Wait until ``count`` calls of ``method`` (only answered-ok ones by default) arrived."""

        def matching() -> list[Call]:
            return [c for c in self.calls_to(method) if ok is None or c.ok == ok]

        deadline = time.monotonic() + within
        while len(found := matching()) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(found)}/{count} {method} calls after {within}s")
            await asyncio.sleep(0.01)
        return found

    async def wait_for_response(
        self, name: str, count: int = 1, *, within: float = 5.0
    ) -> list[JSONDict]:
        """Wait until ``count`` POSTs reached ``response_url(name)``."""
        deadline = time.monotonic() + within
        while len(self.responses[name]) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{len(self.responses[name])}/{count} responses to {name} after {within}s"
                )
            await asyncio.sleep(0.01)
        return self.responses[name]

    # ------------------------------------------------------------------ HTTP plumbing

    async def _parse(self, request: web.Request) -> tuple[JSONDict, str | None]:
        args: JSONDict = dict(request.query)
        token: str | None = None
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        if request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                raw = await request.read()
                if raw.strip():
                    try:
                        body = json.loads(raw)
                    except ValueError as exc:
                        raise _ApiError("invalid_json") from exc
                    if not isinstance(body, dict):
                        raise _ApiError("invalid_json")
                    args.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, item in form.items():
                    args[key] = _form_value(item)
        form_token = args.pop("token", None)
        if token is None and isinstance(form_token, str):
            token = form_token
        return args, token

    @staticmethod
    def _decode_json_args(args: JSONDict) -> None:
        """Decode JSON-string fields (``blocks``, ``view``...) in place."""
        for key in _JSON_ARGS:
            value = args.get(key)
            if isinstance(value, str):
                try:
                    args[key] = json.loads(value)
                except ValueError:
                    if key in ("blocks", "attachments"):
                        raise _ApiError(f"invalid_{key}_format") from None

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        call = Call(method=method, args={}, at=time.time())
        self.calls.append(call)
        try:
            call.args, call.token = await self._parse(request)
            self._decode_json_args(call.args)
        except _ApiError as exc:
            call.error = exc.error
            return web.json_response(exc.body())

        handler = self._handlers.get(method)
        if handler is None:
            call.error = "unknown_method"
            return web.json_response({"ok": False, "error": "unknown_method", "req_method": method})
        if call.token != self.token and not (
            method in self.app_token_methods and call.token in self.app_tokens
        ):
            call.error = "invalid_auth"
            return web.json_response({"ok": False, "error": "invalid_auth"})

        wait = self._delays.get(method, self._delays.get("*", 0.0))
        if wait:
            await asyncio.sleep(wait)

        fault = self._take_fault(method)
        if fault is not None and not fault.after_effect:
            return self._record_fault(call, fault)
        try:
            body = handler(call.args)
        except _ApiError as exc:
            body = exc.body()
        if fault is not None:
            return self._record_fault(call, fault)
        if not body.get("ok"):
            call.error = str(body.get("error"))
        return web.json_response(body)

    def _record_fault(self, call: Call, fault: Fault) -> web.Response:
        call.status = fault.status
        call.error = fault.error or ("ratelimited" if fault.status == 429 else "http_error")
        return self._fault_response(fault)

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        file = self.files.get(request.match_info["file_id"])
        if file is None:
            return web.Response(status=404, text="file not found", content_type="text/plain")
        if request.content_type == "multipart/form-data":
            form = await request.post()
            parts = [_form_value(v) for v in form.values()]
            binary = [p for p in parts if isinstance(p, bytes)]
            data = binary[0] if binary else (str(parts[0]).encode() if parts else b"")
        else:
            data = await request.read()
        file.content = data
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    async def _handle_hook(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return web.Response(status=400, text="invalid_payload", content_type="text/plain")
        self.responses[request.match_info["name"]].append(body)
        return web.Response(text="ok", content_type="text/plain")

    # ------------------------------------------------------------------ message storage

    def _store(self, channel: str, message: JSONDict) -> None:
        ts = message["ts"]
        self._messages.setdefault(channel, {})[ts] = message
        parent = message.get("thread_ts")
        if parent is not None and parent != ts:
            replies = self._replies.setdefault((channel, parent), [])
            replies.append(ts)
            replies.sort(key=_ts_key)

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
            raise _ApiError("channel_not_found")
        return self.channels[channel_id]

    def _resolve_channel(self, given: Any) -> str:
        """Channel id from an id, a ``#name``/name, or a user id (opens the DM)."""
        if not given:
            raise _ApiError("channel_not_found")
        value = str(given)
        if value in self.channels:
            return value
        name = value.removeprefix("#")
        for cid, ch in self.channels.items():
            if ch.get("name") == name and not ch.get("is_im"):
                return cid
        if value in self.users:
            return self._open_dm(value)[0]
        raise _ApiError("channel_not_found")

    def _message(self, channel: str, ts: Any) -> JSONDict:
        msg = self._messages.get(channel, {}).get(str(ts)) if ts else None
        if msg is None:
            raise _ApiError("message_not_found")
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
            content["text"] = str(text)[:_MAX_TEXT]
        blocks = args.get("blocks")
        if blocks is not None:
            content["blocks"] = _check_blocks(blocks, 50)
        attachments = args.get("attachments")
        if attachments is not None:
            if not isinstance(attachments, list):
                raise _ApiError("invalid_attachments")
            content["attachments"] = attachments
        if not content and not allow_empty:
            raise _ApiError("no_text")
        return content

    # ------------------------------------------------------------------ methods: auth/chat

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
            raise _ApiError("is_archived")
        content = self._content(args)
        metadata = args.get("metadata")
        if metadata is not None and (
            not isinstance(metadata, dict) or "event_type" not in metadata
        ):
            raise _ApiError("invalid_metadata_format")
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
            if _flag(args.get("reply_broadcast", False)):
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
            raise _ApiError("cant_update_message")
        content = self._content(args, allow_empty=True)
        if not content and "metadata" not in args:
            raise _ApiError("no_text")
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
            raise _ApiError("cant_delete_message")
        self._remove(channel_id, message["ts"])
        return {"ok": True, "channel": channel_id, "ts": message["ts"]}

    def _chat_post_ephemeral(self, args: JSONDict) -> JSONDict:
        channel_id = self._resolve_channel(args.get("channel"))
        user = args.get("user")
        if not user or user not in self.users:
            raise _ApiError("user_not_found")
        members = self.channels[channel_id].get("members") or []
        if members and user not in members:
            raise _ApiError("user_not_in_channel")
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
            raise _ApiError("invalid_name")
        reactions: list[JSONDict] = message.setdefault("reactions", [])
        for reaction in reactions:
            if reaction["name"] == name:
                if self.bot_user_id in reaction["users"]:
                    raise _ApiError("already_reacted")
                reaction["users"].append(self.bot_user_id)
                reaction["count"] += 1
                break
        else:
            reactions.append({"name": name, "users": [self.bot_user_id], "count": 1})
        return {"ok": True}

    # ------------------------------------------------------------------ methods: conversations

    def _conversations_info(self, args: JSONDict) -> JSONDict:
        channel = copy.deepcopy(self._channel(args.get("channel")))
        members = channel.pop("members", [])
        if channel.get("is_im"):
            return {"ok": True, "channel": channel}
        channel["is_member"] = self.bot_user_id in members
        if _flag(args.get("include_num_members", False)):
            channel["num_members"] = len(members)
        return {"ok": True, "channel": channel}

    def _window(
        self, args: JSONDict, candidates: list[str]
    ) -> list[str]:  # candidates sorted oldest first
        inclusive = _flag(args.get("inclusive", False))
        latest = args.get("latest")
        oldest = args.get("oldest")
        try:
            lo = _ts_key(str(oldest)) if oldest not in (None, "") else None
            hi = _ts_key(str(latest)) if latest not in (None, "") else None
        except ValueError as exc:
            raise _ApiError("invalid_ts_latest" if latest else "invalid_ts_oldest") from exc
        out: list[str] = []
        for ts in candidates:
            key = _ts_key(ts)
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
            (ts for ts, m in stored.items() if m.get("thread_ts") in (None, ts)), key=_ts_key
        )
        window = self._window(args, top)
        window.reverse()  # newest first
        if args.get("cursor"):
            after = _ts_key(_decode_cursor(str(args["cursor"])))
            window = [ts for ts in window if _ts_key(ts) < after]
        limit = _limit(args, 100, 999)
        page, has_more = window[:limit], len(window) > limit
        include_all = _flag(args.get("include_all_metadata", False))
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
            body["response_metadata"] = {"next_cursor": _encode_cursor(page[-1])}
        return body

    def _conversations_replies(self, args: JSONDict) -> JSONDict:
        channel_id = self._channel(args.get("channel"))["id"]
        stored = self._messages.get(channel_id, {})
        ts = args.get("ts")
        message = stored.get(str(ts)) if ts else None
        if message is None:
            raise _ApiError("thread_not_found")
        parent_ts = str(message.get("thread_ts") or message["ts"])
        parent = stored.get(parent_ts)
        if parent is None:
            raise _ApiError("thread_not_found")
        replies = self._window(args, list(self._replies.get((channel_id, parent_ts), [])))
        if args.get("cursor"):
            after = _ts_key(_decode_cursor(str(args["cursor"])))
            replies = [r for r in replies if _ts_key(r) > after]
        size = max(_limit(args, 1000) - 1, 1)
        page, has_more = replies[:size], len(replies) > size
        include_all = _flag(args.get("include_all_metadata", False))
        body: JSONDict = {
            "ok": True,
            "messages": [
                self._render(channel_id, stored[t], include_metadata=include_all)
                for t in [parent_ts, *page]
            ],
            "has_more": has_more,
        }
        if has_more:
            body["response_metadata"] = {"next_cursor": _encode_cursor(page[-1])}
        return body

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

    def _conversations_open(self, args: JSONDict) -> JSONDict:
        if args.get("channel"):
            existing = self._channel(args["channel"])
            return {
                "ok": True,
                "channel": {"id": existing["id"]},
                "no_op": True,
                "already_open": True,
            }
        users = _str_list(args.get("users"))
        if not users:
            raise _ApiError("users_list_not_supplied")
        for user in users:
            if user not in self.users:
                raise _ApiError("user_not_found")
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
        if _flag(args.get("return_im", False)):
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
                raise _ApiError("invalid_cursor") from exc
        limit = _limit(args, 100)
        page = members[start : start + limit]
        nxt = start + limit
        cursor = base64.b64encode(f"offset:{nxt}".encode()).decode() if nxt < len(members) else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}

    # ------------------------------------------------------------------ methods: users

    def _users_info(self, args: JSONDict) -> JSONDict:
        user = self.users.get(str(args.get("user") or ""))
        if user is None:
            raise _ApiError("user_not_found")
        return {"ok": True, "user": copy.deepcopy(user)}

    def _usergroups_users_list(self, args: JSONDict) -> JSONDict:
        group = str(args.get("usergroup") or "")
        if group not in self.usergroups:
            raise _ApiError("no_such_subteam")
        return {"ok": True, "users": list(self.usergroups[group])}

    # ------------------------------------------------------------------ methods: views

    def _build_view(self, view: Any, *, view_id: str, previous: JSONDict | None) -> JSONDict:
        if not isinstance(view, dict):
            raise _ApiError("invalid_arguments", ["[ERROR] missing required field: view"])
        if view.get("type") not in ("modal", "home"):
            raise _ApiError("invalid_arguments", ["[ERROR] must provide a valid view type"])
        _check_blocks(view.get("blocks", []), 100)
        out: JSONDict = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(self.now())}.{self._counter:08x}",
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": previous.get("previous_view_id") if previous else None,
            "root_view_id": previous.get("root_view_id", view_id) if previous else view_id,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        self._counter += 1
        return out

    def _require_trigger(self, args: JSONDict) -> None:
        if not args.get("trigger_id") and not args.get("interactivity_pointer"):
            raise _ApiError("invalid_arguments", ["[ERROR] missing required field: trigger_id"])

    def _views_open(self, args: JSONDict) -> JSONDict:
        self._require_trigger(args)
        view_id = self._new_id("V")
        view = self._build_view(args.get("view"), view_id=view_id, previous=None)
        self.views[view_id] = view
        return {"ok": True, "view": copy.deepcopy(view)}

    def _views_push(self, args: JSONDict) -> JSONDict:
        self._require_trigger(args)
        view_id = self._new_id("V")
        view = self._build_view(args.get("view"), view_id=view_id, previous=None)
        self.views[view_id] = view
        return {"ok": True, "view": copy.deepcopy(view)}

    def _views_update(self, args: JSONDict) -> JSONDict:
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            view_id = next(
                (vid for vid, v in self.views.items() if v["external_id"] == args["external_id"]),
                None,
            )
        if not view_id and not args.get("external_id"):
            raise _ApiError("invalid_arguments", ["[ERROR] missing view_id or external_id"])
        if not view_id or view_id not in self.views:
            raise _ApiError("not_found")
        current = self.views[view_id]
        if args.get("hash") and args["hash"] != current["hash"]:
            raise _ApiError("hash_conflict")
        view = self._build_view(args.get("view"), view_id=view_id, previous=current)
        view["state"] = current["state"]
        self.views[view_id] = view
        return {"ok": True, "view": copy.deepcopy(view)}

    # ------------------------------------------------------------------ methods: files

    def _files_get_upload_url_external(self, args: JSONDict) -> JSONDict:
        filename = args.get("filename")
        length = args.get("length")
        if not filename or length in (None, ""):
            raise _ApiError("invalid_arguments", ["[ERROR] missing required field: filename"])
        try:
            size = int(length)
        except (TypeError, ValueError) as exc:
            raise _ApiError("invalid_arguments", ["[ERROR] length must be an integer"]) from exc
        file_id = self._new_id("F")
        self.files[file_id] = FakeFile(
            id=file_id,
            filename=str(filename),
            length=size,
            alt_txt=args.get("alt_txt"),
            snippet_type=args.get("snippet_type"),
            created=int(self.now()),
        )
        return {"ok": True, "upload_url": f"{self.base_url}upload/{file_id}", "file_id": file_id}

    def _file_object(self, file: FakeFile) -> JSONDict:
        mimetype = mimetypes.guess_type(file.filename)[0] or "application/octet-stream"
        filetype = file.filename.rsplit(".", 1)[-1].lower() if "." in file.filename else "binary"
        base = f"https://files.slack.com/files-pri/{self.team_id}-{file.id}"
        return {
            "id": file.id,
            "created": file.created,
            "timestamp": file.created,
            "name": file.filename,
            "title": file.title or file.filename,
            "mimetype": mimetype,
            "filetype": filetype,
            "pretty_type": filetype.upper(),
            "user": self.bot_user_id,
            "user_team": self.team_id,
            "editable": False,
            "size": len(file.content or b""),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(file.channels),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{base}/{file.filename}",
            "url_private_download": f"{base}/download/{file.filename}",
            "permalink": f"https://{self.domain}.slack.com/files/{self.bot_user_id}/{file.id}/{file.filename}",
            "comments_count": 0,
            "is_starred": False,
            "channels": list(file.channels),
            "groups": [],
            "ims": [],
            "has_more_shares": False,
            "has_rich_preview": False,
            "file_access": "visible",
            "alt_txt": file.alt_txt,
        }

    def _files_complete_upload_external(self, args: JSONDict) -> JSONDict:
        entries = args.get("files")
        if not isinstance(entries, list) or not entries:
            raise _ApiError("invalid_arguments", ["[ERROR] missing required field: files"])
        channels = _str_list(args.get("channels"))
        if args.get("channel_id"):
            channels = [str(args["channel_id"]), *channels]
        channels = [self._resolve_channel(c) for c in channels]
        thread_ts = args.get("thread_ts")
        if thread_ts and len(channels) != 1:
            raise _ApiError("invalid_arguments", ["[ERROR] thread_ts needs exactly one channel"])
        picked: list[FakeFile] = []
        for entry in entries:
            file = self.files.get(str(entry.get("id"))) if isinstance(entry, dict) else None
            if file is None or not file.uploaded:
                raise _ApiError("file_not_found")
            picked.append(file)
        for file, entry in zip(picked, entries, strict=True):
            file.title = entry.get("title") or file.filename
            file.completed = True
            file.channels = list(channels)
            file.initial_comment = args.get("initial_comment")
        objects = [self._file_object(f) for f in picked]
        for channel_id in channels:
            parent = self._parent_of(channel_id, thread_ts)
            ts = self.next_ts()
            message: JSONDict = {
                "type": "message",
                "text": str(args.get("initial_comment") or ""),
                "files": copy.deepcopy(objects),
                "upload": True,
                "user": self.bot_user_id,
                "bot_id": self.bot_id,
                "app_id": self.app_id,
                "display_as_bot": False,
                "ts": ts,
                "team": self.team_id,
            }
            if parent is not None:
                message["thread_ts"] = parent
                for file in picked:
                    file.thread_ts = parent
            self._store(channel_id, message)
        return {"ok": True, "files": objects}
