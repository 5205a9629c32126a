"""A local stand-in for the Bot Connector REST API (and the bit of Microsoft Graph the bot
reads), served over real HTTP on 127.0.0.1.

    async with BotConnector() as connector:
        activity["serviceUrl"] = connector.service_url   # where the bot answers
        ...
        assert connector.threads(CHANNEL)[0].card["body"][0]["text"].startswith("📣")

Endpoints (paths as the real service has them):
- POST /v3/conversations: a new channel thread (channelData.channel.id + activity) or a
  1:1 chat (members); answers {"id", "activityId"}.
- POST /v3/conversations/{id}/activities[/{replyToId}]: a message in a thread or a chat.
- PUT  /v3/conversations/{id}/activities/{activityId}: the message replaced in place.
- GET  /v3/conversations/{teamId}/members/{userId}: a member (by Entra object id too).
- GET  /v3/teams/{teamId}/conversations: a team's channels.
- GET  /graph/v1.0/teams/{group}/channels/{channel}/messages[/{id}[/replies[/{id}]]].

Every request is recorded in `calls`. `fail_next(op, status)` makes the next calls of an
operation fail (429 with Retry-After, 412, 502...), before or after taking effect. With a
`token`, a request without `Authorization: Bearer <token>` is refused 401. Activities are
checked as Teams does: a known type, Adaptive Cards with a version, mention texts that
appear in the message, and at most 100 KB.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from bot.core.clock import Clock
from bot.demo.standins.serving import Standin, start_clock

__all__ = ["TENANT", "BotConnector", "Call", "Message"]

JSONDict = dict[str, Any]
TENANT = "8a5a0c2e-2f2b-4c7e-9f2a-6f0d1b3c4d5e"
BOT_ID = "28:00000000-0000-0000-0000-00000000b07a"
CARD = "application/vnd.microsoft.card.adaptive"
MAX_BYTES = 100_000


@dataclass
class Call:
    method: str
    path: str
    status: int
    body: Any = None
    authorization: str | None = None


@dataclass
class Message:
    """A message in a channel or chat: the bot's (with its activity and every version put
    in its place) or a person's (seeded for Graph reads)."""

    id: str
    channel: str
    thread: str | None
    activity: JSONDict
    created: datetime
    by_bot: bool = True
    versions: list[JSONDict] = field(default_factory=list)

    @property
    def current(self) -> JSONDict:
        return self.versions[-1] if self.versions else self.activity

    @property
    def card(self) -> JSONDict | None:
        for attachment in self.current.get("attachments") or []:
            if attachment.get("contentType") == CARD:
                content: JSONDict = attachment["content"]
                return content
        return None

    @property
    def text(self) -> str:
        """What a person reads: the message's text, or a card's text blocks."""
        text = str(self.current.get("text") or "")
        card = self.card
        if text or card is None:
            return text
        return "\n".join(
            str(b.get("text") or "") for b in card.get("body") or [] if b.get("type") == "TextBlock"
        )


@dataclass
class _Fault:
    status: int
    retry_after: float | None
    remaining: int
    after_effect: bool


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str = "") -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message or code


def _split(conversation: str) -> tuple[str, str | None]:
    base, sep, rest = conversation.partition(";messageid=")
    return base, (rest or None) if sep else None


class BotConnector(Standin):
    """Message ids are epoch milliseconds on :attr:`clock` (frozen at serving.START unless
    given one; the test server hands over its own clock to a connector it starts)."""

    def __init__(
        self,
        *,
        token: str | None = None,
        app_id: str = BOT_ID.removeprefix("28:"),
        clock: Clock | None = None,
    ) -> None:
        super().__init__()
        self.token = token
        self.app_id = app_id
        self.clock: Clock = clock or start_clock()
        #: Whether a test chose this stand-in's time (a Server then leaves it alone).
        self.clock_given = clock is not None
        self.calls: list[Call] = []
        self.messages: dict[str, Message] = {}
        self.members: dict[str, JSONDict] = {}  # Entra object id -> member
        self.teams: dict[str, JSONDict] = {}  # team id -> {"aadGroupId", "channels"}
        self._faults: dict[str, list[_Fault]] = {}
        self._last_id = 0

    def follow(self, clock: Clock) -> None:
        """Take time from ``clock`` from now on (the test server hands over its own)."""
        self.clock = clock
        self.clock_given = True

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=4_000_000)
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{cid}/activities", self._send)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._send)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._update)
        app.router.add_get("/v3/conversations/{cid}/members/{uid}", self._member)
        app.router.add_get("/v3/teams/{tid}/conversations", self._channels)
        app.router.add_get("/graph/v1.0/{path:.*}", self._graph)
        return app

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def graph_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graph/v1.0/"

    # ------------------------------------------------------------------ seeding

    def add_team(self, team_id: str, aad_group_id: str, channels: dict[str, str | None]) -> None:
        self.teams[team_id] = {"aadGroupId": aad_group_id, "channels": dict(channels)}

    def add_member(self, aad: str, name: str, teams_id: str | None = None) -> None:
        self.members[aad] = {
            "id": teams_id or f"29:{aad[:8]}",
            "name": name,
            "aadObjectId": aad,
            "tenantId": TENANT,
            "userRole": "user",
        }

    def add_message(
        self, channel: str, text: str, *, author: str, thread: str | None = None
    ) -> str:
        """A person's message (Graph can read it back); returns its id."""
        mid = self.next_id()
        activity = {"type": "message", "text": text, "from": {"aadObjectId": author}}
        self.messages[mid] = Message(mid, channel, thread, activity, self.clock.now(), by_bot=False)
        return mid

    def next_id(self) -> str:
        """A Teams message id: the clock's epoch milliseconds, above every id given so far."""
        self._last_id = max(self._last_id + 1, int(self.clock.now().timestamp() * 1000))
        return str(self._last_id)

    # ------------------------------------------------------------------ faults

    def fail_next(
        self,
        op: str,
        status: int,
        *,
        retry_after: float | None = None,
        times: int = 1,
        after_effect: bool = False,
    ) -> None:
        """`op`: create (new thread or chat), send (reply/chat message), update, member,
        graph. `after_effect`: the call takes effect, then the answer is the failure (a
        lost response)."""
        self._faults.setdefault(op, []).append(_Fault(status, retry_after, times, after_effect))

    def _fault(self, op: str) -> _Fault | None:
        queue = self._faults.get(op) or []
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.pop(0)
        return fault

    # ------------------------------------------------------------------ queries

    def threads(self, channel: str) -> list[Message]:
        """The bot's thread roots in a channel, oldest first."""
        return [
            m for m in self.messages.values() if m.channel == channel and m.by_bot and not m.thread
        ]

    def replies(self, channel: str, root: str) -> list[Message]:
        return [m for m in self.messages.values() if m.channel == channel and m.thread == root]

    def chat(self, aad: str) -> list[Message]:
        return [m for m in self.messages.values() if m.channel == f"a:chat-{aad}"]

    def updates(self) -> list[Call]:
        return [c for c in self.calls if c.method == "PUT" and c.status < 300]

    async def wait_for(self, predicate: Any, within: float = 5.0) -> None:
        deadline = asyncio.get_running_loop().time() + within
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("the Bot Connector stand-in never saw what was expected")
            await asyncio.sleep(0.01)

    # ------------------------------------------------------------------ handling

    async def _run(self, request: web.Request, op: str, work: Any) -> web.Response:
        body: Any = None
        if request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                body = None
        call = Call(request.method, request.path, 200, body, request.headers.get("Authorization"))
        self.calls.append(call)
        fault: _Fault | None = None
        try:
            if self.token and call.authorization != f"Bearer {self.token}":
                raise _Refused(401, "Unauthorized", "Authorization has been denied")
            fault = self._fault(op)
            if fault is not None and not fault.after_effect:
                raise _Refused(fault.status, "Throttled" if fault.status == 429 else "Fault")
            result = work(request, body)
            if fault is not None:
                raise _Refused(fault.status, "Fault")
        except _Refused as exc:
            call.status = exc.status
            headers = {}
            if fault is not None and fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            error = {"error": {"code": exc.code, "message": exc.message}}
            return web.json_response(error, status=exc.status, headers=headers)
        status = 201 if request.method == "POST" else 200
        call.status = status
        return web.json_response(result, status=status)

    def _check(self, activity: Any) -> JSONDict:
        if not isinstance(activity, dict) or activity.get("type") != "message":
            raise _Refused(400, "BadArgument", "an activity of type message is expected")
        if len(json.dumps(activity).encode()) > MAX_BYTES:
            raise _Refused(413, "MessageSizeTooBig")
        shown = str(activity.get("text") or "")
        entities = list(activity.get("entities") or [])
        for attachment in activity.get("attachments") or []:
            if attachment.get("contentType") != CARD:
                continue
            card = attachment.get("content") or {}
            if card.get("type") != "AdaptiveCard" or not card.get("version"):
                raise _Refused(400, "BadArgument", "not an Adaptive Card")
            shown += json.dumps(card, ensure_ascii=False)
            entities += (card.get("msteams") or {}).get("entities") or []
        for entity in entities:
            if entity.get("type") == "mention" and str(entity.get("text")) not in shown:
                raise _Refused(400, "BadArgument", "a mention's text is not in the message")
        return activity

    def _channel_known(self, channel: str) -> bool:
        if not self.teams:
            return True
        return any(channel in t["channels"] for t in self.teams.values())

    def _store(self, channel: str, thread: str | None, activity: JSONDict) -> Message:
        message = Message(self.next_id(), channel, thread, activity, self.clock.now())
        self.messages[message.id] = message
        return message

    async def _create(self, request: web.Request) -> web.Response:
        def work(_: web.Request, body: Any) -> JSONDict:
            params = body or {}
            channel = ((params.get("channelData") or {}).get("channel") or {}).get("id")
            if channel:
                if not self._channel_known(channel):
                    raise _Refused(404, "ConversationNotFound")
                message = self._store(channel, None, self._check(params.get("activity")))
                return {"id": f"{channel};messageid={message.id}", "activityId": message.id}
            members = params.get("members") or []
            if params.get("isGroup") or len(members) != 1:
                raise _Refused(400, "BadArgument", "one member, or a channel")
            aad = members[0].get("aadObjectId") or members[0].get("id")
            chat = f"a:chat-{aad}"
            if params.get("activity"):
                message = self._store(chat, None, self._check(params["activity"]))
                return {"id": chat, "activityId": message.id}
            return {"id": chat}

        return await self._run(request, "create", work)

    async def _send(self, request: web.Request) -> web.Response:
        def work(req: web.Request, body: Any) -> JSONDict:
            base, thread = _split(unquote(req.match_info["cid"]))
            if base.endswith("@thread.tacv2") and not self._channel_known(base):
                raise _Refused(404, "ConversationNotFound")
            message = self._store(base, thread, self._check(body))
            return {"id": message.id}

        return await self._run(request, "send", work)

    async def _update(self, request: web.Request) -> web.Response:
        def work(req: web.Request, body: Any) -> JSONDict:
            base, _ = _split(unquote(req.match_info["cid"]))
            message = self.messages.get(req.match_info["aid"])
            if message is None or message.channel != base or not message.by_bot:
                raise _Refused(404, "ActivityNotFoundInConversation")
            message.versions.append(self._check(body))
            return {"id": message.id}

        return await self._run(request, "update", work)

    async def _member(self, request: web.Request) -> web.Response:
        def work(req: web.Request, _: Any) -> JSONDict:
            member = self.members.get(unquote(req.match_info["uid"]))
            if member is None:
                member = next(
                    (m for m in self.members.values() if m["id"] == req.match_info["uid"]), None
                )
            if member is None:
                raise _Refused(404, "MemberNotFoundInConversation")
            return member

        return await self._run(request, "member", work)

    async def _channels(self, request: web.Request) -> web.Response:
        def work(req: web.Request, _: Any) -> JSONDict:
            team = self.teams.get(unquote(req.match_info["tid"]))
            if team is None:
                raise _Refused(404, "TeamNotFound")
            return {"conversations": [{"id": c, "name": n} for c, n in team["channels"].items()]}

        return await self._run(request, "channels", work)

    def _graph_item(self, message: Message) -> JSONDict:
        sender: JSONDict
        if message.by_bot:
            sender = {"application": {"id": self.app_id, "displayName": "Crosstalk"}}
        else:
            author = message.activity["from"]["aadObjectId"]
            name = (self.members.get(author) or {}).get("name", "")
            sender = {"user": {"id": author, "displayName": name}}
        current = message.current
        attachments = [
            {"id": str(i), "contentType": a["contentType"], "content": json.dumps(a["content"])}
            for i, a in enumerate(current.get("attachments") or [])
        ]
        return {
            "id": message.id,
            "replyToId": message.thread,
            "createdDateTime": message.created.isoformat().replace("+00:00", "Z"),
            "from": sender,
            "body": {"contentType": "html", "content": f"<p>{current.get('text') or ''}</p>"},
            "attachments": attachments,
        }

    async def _graph(self, request: web.Request) -> web.Response:
        def work(req: web.Request, _: Any) -> JSONDict:
            parts = [unquote(p) for p in req.match_info["path"].split("/")]
            # teams/{group}/channels/{channel}/messages[/{id}[/replies[/{id}]]]
            if len(parts) < 5 or parts[0] != "teams" or parts[2] != "channels":
                raise _Refused(404, "NotFound")
            group, channel = parts[1], parts[3]
            if self.teams and not any(
                t["aadGroupId"] == group and channel in t["channels"] for t in self.teams.values()
            ):
                raise _Refused(404, "NotFound")
            rest = parts[5:]
            if len(rest) in (0, 2):
                root = rest[0] if rest else None
                found = [
                    self._graph_item(m)
                    for m in self.messages.values()
                    if m.channel == channel and m.thread == root
                ]
                return {"value": list(reversed(found))}  # newest first, as Graph lists
            target = rest[2] if len(rest) == 3 else rest[0]
            message = self.messages.get(target)
            if message is None or message.channel != channel:
                raise _Refused(404, "NotFound")
            return self._graph_item(message)

        return await self._run(request, "graph", work)
