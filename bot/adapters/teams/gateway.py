"""ChatGateway on the Bot Connector REST API (and Graph for reading messages back).

A post to a channel starts a new thread (POST v3/conversations with channelData.channel);
a reply goes to the thread's conversation `19:…@thread.tacv2;messageid=<root>`; an update
is a PUT of the activity. Where to send comes from the stored conversation references.
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from bot.adapters.teams import render, translate
from bot.adapters.teams.connector import GRAPH_SCOPE, Connector
from bot.adapters.teams.references import Target, target, team_target
from bot.core.cache import Bounded
from bot.core.cards import Content
from bot.core.clock import Clock
from bot.core.gateway import FetchedMessage, GatewayError, Posted, Unsupported
from bot.core.refs import ChannelRef, MessageRef, Platform, UserRef
from bot.handlers.context import Gateways
from bot.health import ApiCalls
from store.db import Database

log = logging.getLogger("crosstalk.teams")
T = Platform.TEAMS
MAX_ACTIVITY = 80_000  # bytes; Teams refuses about 100 KB (413 MessageSizeTooBig)
MAX_IMAGE = 60_000
MARKER_PAGES = 3


def _size(activity: dict[str, Any]) -> int:
    return len(json.dumps(activity).encode())


def _conversation(channel_id: str, root: str | None) -> str:
    return f"{channel_id};messageid={root}" if root else channel_id


def is_channel(conversation_id: str) -> bool:
    """A team channel (`19:…@thread.tacv2`, older `@thread.skype`), not a chat."""
    return conversation_id.endswith(("@thread.tacv2", "@thread.skype"))


class TeamsGateway:
    platform = T

    def __init__(
        self,
        *,
        connector: Connector,
        db: Database,
        org_id: int,
        clock: Clock,
        peers: Gateways | None = None,
    ) -> None:
        self.connector = connector
        self.db = db
        self.org_id = org_id
        self.clock = clock
        self.peers = peers  # the other platforms' gateways: names of their people
        self._names: Bounded[str, str] = Bounded()
        self._chat_ids: Bounded[str, str] = Bounded()  # Entra object id -> Teams id (29:…)

    @property
    def calls(self) -> ApiCalls:
        """The Connector's record of its calls (for /healthz and /metrics)."""
        return self.connector.calls

    async def _lookup(self, channel_id: str) -> Target | None:
        return await self.db.run(lambda s: target(s, self.org_id, channel_id), read_only=True)

    async def _team_target(self) -> Target | None:
        return await self.db.run(lambda s: team_target(s, self.org_id), read_only=True)

    def remember_person(self, raw: dict[str, Any]) -> None:
        """Names and ids seen on inbound activities: mentions without a lookup."""
        aad, name, teams_id = raw.get("aadObjectId"), raw.get("name"), raw.get("id")
        if aad and name:
            self._names.put(str(aad), str(name))
        if aad and teams_id:
            self._chat_ids.put(str(aad), str(teams_id))

    async def _target(self, channel_id: str) -> Target:
        found = await self._lookup(channel_id)
        if found is None:
            raise GatewayError(
                f"teams: no conversation reference for {channel_id}: add the Crosstalk app "
                "to that channel's team first",
                retryable=True,
            )
        return found

    async def _activity(self, content: Content, marker: str | None) -> dict[str, Any]:
        names: dict[str, str] = {}
        for user in render.users_in(content):
            if user.id in names:
                continue
            if user.platform is T:
                names[user.id] = await self.display_name(user)
            elif self.peers is not None and self.peers.has(user.platform):
                # A Slack person on a Teams card: named (plain text), never a mention.
                names[user.id] = await self.peers.get(user.platform).display_name(user)
        activity = render.message_activity(content, names, marker)
        if _size(activity) > MAX_ACTIVITY:
            raise GatewayError("teams: the message is too large (over 80 KB)", retryable=False)
        return activity

    async def post(
        self,
        channel: ChannelRef,
        content: Content,
        *,
        thread_id: str | None = None,
        marker: str | None = None,
    ) -> Posted:
        where = await self._target(channel.id)
        activity = await self._activity(content, marker)
        return await self._send(where, activity, thread_id)

    async def _send(self, where: Target, activity: dict[str, Any], thread_id: str | None) -> Posted:
        url = where.service_url + "v3/conversations"
        if thread_id or not is_channel(where.channel_id):
            # A thread reply, or a message in a chat (chats have no threads to start).
            conversation = quote(_conversation(where.channel_id, thread_id), safe="")
            data = await self.connector.call(
                "POST", f"{url}/{conversation}/activities", body=activity, what="teams reply"
            )
            message_id = str(data.get("id", ""))
        else:
            params = {
                "isGroup": True,
                "bot": where.bot,
                "tenantId": where.tenant_id,
                "channelData": {
                    "channel": {"id": where.channel_id},
                    "tenant": {"id": where.tenant_id},
                },
                "activity": activity,
            }
            data = await self.connector.call("POST", url, body=params, what="teams post")
            message_id = str(data.get("activityId") or "")
            if not message_id:
                message_id = translate.split_conversation(str(data.get("id", "")))[1] or ""
        if not message_id:
            raise GatewayError("teams: the post was answered without an id", retryable=False)
        ref = MessageRef(ChannelRef(T, where.channel_id), message_id, thread_id)
        return Posted(ref, self.clock.now())

    async def update(self, message: MessageRef, content: Content) -> None:
        where = await self._target(message.channel.id)
        activity = {**await self._activity(content, None), "id": message.id}
        root = (message.thread_id or message.id) if is_channel(where.channel_id) else None
        conversation = quote(_conversation(where.channel_id, root), safe="")
        await self.connector.call(
            "PUT",
            f"{where.service_url}v3/conversations/{conversation}/activities/{message.id}",
            body=activity,
            what="teams update",
        )

    async def dm_channel(self, user: UserRef) -> ChannelRef:
        """The 1:1 chat with a person: created, or found again (Teams answers with the same
        conversation for the same bot and user)."""
        anywhere = await self._team_target()
        if anywhere is None:
            raise GatewayError("teams: no conversation reference yet", retryable=True)
        member = {"id": self._chat_ids.get(user.id) or user.id, "aadObjectId": user.id}
        params = {
            "isGroup": False,
            "bot": anywhere.bot,
            "members": [member],
            "tenantId": anywhere.tenant_id,
            "channelData": {"tenant": {"id": anywhere.tenant_id}},
        }
        url = anywhere.service_url + "v3/conversations"
        chat = await self.connector.call("POST", url, body=params, what="teams chat")
        if not chat.get("id"):
            raise GatewayError("teams: the chat was answered without an id", retryable=False)
        return ChannelRef(T, str(chat["id"]))

    async def direct_message(
        self, user: UserRef, content: Content, *, marker: str | None
    ) -> Posted:
        return await self.post(await self.dm_channel(user), content, marker=marker)

    def _graph_messages(self, where: Target, root: str | None) -> str | None:
        group = where.aad_group_id
        if not group:
            return None
        base = (
            f"{self.connector.graph_url}teams/{quote(group, safe='')}/channels/"
            f"{quote(where.channel_id, safe='')}/messages"
        )
        return f"{base}/{quote(root, safe='')}/replies" if root else base

    async def find_posted(
        self, channel: ChannelRef, marker: str, *, since: datetime, thread_id: str | None
    ) -> Posted | None:
        """Only cards carry a marker (the title's element id); text posts cannot, and a
        channel whose team's group id is unknown cannot be read back: both answer None,
        so a lost answer may, rarely, mean a second copy of a reply."""
        where = await self._target(channel.id)
        url = self._graph_messages(where, thread_id) if is_channel(channel.id) else None
        if url is None:
            log.warning(
                "teams: cannot look for %s in %s (team group id unknown)", marker, channel.id
            )
            return None
        oldest = since - timedelta(seconds=60)
        next_url: str | None = url + "?$top=50"
        for _ in range(MARKER_PAGES):
            if next_url is None:
                break
            data = await self.connector.call("GET", next_url, scope=GRAPH_SCOPE, what="graph")
            for item in data.get("value") or []:
                created = translate.timestamp({"timestamp": item.get("createdDateTime")})
                contents = [str(a.get("content") or "") for a in item.get("attachments") or []]
                if created >= oldest and any(f'"{marker}"' in c for c in contents):
                    ref = MessageRef(ChannelRef(T, channel.id), str(item["id"]), thread_id)
                    return Posted(ref, created)
            next_url = data.get("@odata.nextLink")
        return None

    async def upload(
        self,
        channel: ChannelRef,
        *,
        filename: str,
        data: bytes,
        title: str,
        comment: str,
        thread_id: str | None = None,
        marker: str | None = None,
    ) -> None:
        if len(data) > MAX_IMAGE:
            raise Unsupported(
                f"files in Teams channels ({filename} is {len(data)} bytes; bots cannot upload "
                f"to a channel, and an inline image must stay under {MAX_IMAGE} bytes)"
            )
        mime = "image/png" if filename.lower().endswith(".png") else "application/octet-stream"
        if mime != "image/png":
            raise Unsupported(f"files in Teams channels ({filename} is not an image)")
        uri = f"data:{mime};base64," + base64.b64encode(data).decode()
        if marker is not None:
            since = self.clock.now() - timedelta(days=1)
            if await self.find_posted(channel, marker, since=since, thread_id=thread_id):
                return  # an earlier attempt's image went through: its answer was lost
        activity = render.image_activity(uri, title, comment, marker)
        await self._send(await self._target(channel.id), activity, thread_id)

    async def fetch_message(self, message: MessageRef) -> FetchedMessage | None:
        """The text of a message, through Graph (the Bot Connector cannot read messages)."""
        where = await self._target(message.channel.id)
        base = self._graph_messages(where, message.thread_id)
        if base is None:
            log.warning("teams: cannot read %s (team group id unknown)", message.id)
            return None
        try:
            item = await self.connector.call(
                "GET", f"{base}/{quote(message.id, safe='')}", scope=GRAPH_SCOPE, what="graph"
            )
        except GatewayError as exc:
            if exc.retryable:
                raise
            log.warning("teams: message %s could not be read: %s", message.id, exc)
            return None
        body = item.get("body") or {}
        content = str(body.get("content") or "")
        text = translate.html_to_text(content) if body.get("contentType") == "html" else content
        sender = item.get("from") or {}
        author = None
        if sender.get("user"):
            author = UserRef(T, str(sender["user"].get("id", "")))
        elif sender.get("application"):
            author = UserRef(T, str(sender["application"].get("id", "")), is_bot=True)
        at = translate.timestamp({"timestamp": item.get("createdDateTime")})
        return FetchedMessage(message, text, author, at)

    async def permalink(self, message: MessageRef) -> str | None:
        """A deep link Teams opens at the message (no call needed)."""
        where = await self._lookup(message.channel.id)
        query = {"parentMessageId": message.root_id}
        if where is not None:
            query["tenantId"] = where.tenant_id
            if where.aad_group_id:
                query["groupId"] = where.aad_group_id
        channel = quote(message.channel.id, safe="")
        return (
            f"https://teams.microsoft.com/l/message/{channel}/{quote(message.id, safe='')}?"
            + urlencode(query)
        )

    async def is_shared_channel(self, channel: ChannelRef) -> bool:
        where = await self._lookup(channel.id)
        return bool(where and where.exact and where.extras.get("membershipType") == "shared")

    async def is_private_channel(self, channel: ChannelRef) -> bool:
        where = await self._lookup(channel.id)
        if where is None or not where.exact:
            return False  # a chat the bot was never told of is a channel of the team
        return where.extras.get("membershipType") == "private" or not where.team_id

    async def display_name(self, user: UserRef) -> str:
        known = self._names.get(user.id)
        if known is not None:
            return known
        team = await self._team_target()
        if team is None or not team.team_id:
            return user.id
        url = (
            f"{team.service_url}v3/conversations/{quote(team.team_id, safe='')}"
            f"/members/{quote(user.id, safe='')}"
        )
        try:
            member = await self.connector.call("GET", url, what="teams member")
        except GatewayError as exc:
            log.info("teams: no name for %s: %s", user.id, exc)
            return user.id
        self.remember_person({**member, "aadObjectId": member.get("aadObjectId") or user.id})
        return self._names.get(user.id) or user.id

    async def group_members(self, group_id: str) -> list[str]:
        raise Unsupported("user groups in Teams (list members by Entra object id in the config)")

    async def answer(self, activity: translate.Activity, content: Content) -> None:
        """Reply where an activity was said (a channel thread, a chat), off its request."""
        where = translate.place(activity)
        conversation = quote(where.conversation_id, safe="")
        url = f"{where.service_url.rstrip('/')}/v3/conversations/{conversation}/activities"
        body = await self._activity(content, None)
        if activity.get("id"):
            body["replyToId"] = activity["id"]
        await self.connector.call("POST", url, body=body, what="teams answer")
