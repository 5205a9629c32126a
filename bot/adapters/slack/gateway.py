"""ChatGateway on the Slack Web API (slack_sdk AsyncWebClient)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.render import message_args
from bot.adapters.slack.translate import plain_text
from bot.core.cache import Bounded
from bot.core.cards import Content
from bot.core.clock import SystemClock, from_epoch
from bot.core.gateway import FetchedMessage, GatewayError, Posted
from bot.core.refs import ChannelRef, MessageRef, Platform, UserRef
from bot.health import FAILED, OK, REFUSED, ApiCalls

RETRYABLE_ERRORS = {
    "ratelimited",
    "service_unavailable",
    "internal_error",
    "fatal_error",
    "request_timeout",
}
# The token is refused: no call can work until an admin changes it.
AUTH_ERRORS = {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
MARKER_EVENT = "crosstalk_post"
MARKER_PAGES = 5  # history pages (200 messages each) searched for an earlier post


def _retry_after(headers: Any) -> float:
    raw = headers.get("Retry-After", headers.get("retry-after", 1))
    try:
        return max(0.0, float(raw))
    except (TypeError, ValueError):
        return 1.0


def _error(exc: Exception) -> GatewayError:
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        if status == 429:
            retry_after = _retry_after(exc.response.headers)
            return GatewayError(
                f"slack rate limited ({retry_after:g}s)", retryable=True, retry_after=retry_after
            )
        if status >= 500:
            return GatewayError(f"slack HTTP {status}", retryable=True, ambiguous=True)
        return GatewayError(f"slack error: {error or status}", retryable=error in RETRYABLE_ERRORS)
    return GatewayError(f"slack unreachable: {exc!r}", retryable=True, ambiguous=True)


class SlackGateway:
    platform = Platform.SLACK

    def __init__(self, client: AsyncWebClient, *, calls: ApiCalls | None = None) -> None:
        self.client = client
        # Every call's outcome, for /healthz and /metrics.
        self.calls = calls or ApiCalls(Platform.SLACK.value, SystemClock())
        # Posts go through a client without slack_sdk's in-memory retry: it repeats a post
        # whose connection dropped after Slack took it, with no marker check. The outbox
        # retries durably and looks for the marker first.
        self._post_client = AsyncWebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            ssl=client.ssl,
            proxy=client.proxy,
            headers=client.headers,
            retry_handlers=[],
        )
        self._names: Bounded[str, str] = Bounded()
        self._channels: Bounded[str, tuple[bool, bool]] = Bounded()

    async def _call(
        self, method: str, *, client: AsyncWebClient | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        try:
            response = await getattr(client or self.client, method.replace(".", "_"))(**kwargs)
        except (TimeoutError, SlackApiError, aiohttp.ClientError) as exc:
            self._record(method, exc)
            raise _error(exc) from exc
        self.calls.record(method, OK)
        data = response.data
        assert isinstance(data, dict)
        return data

    def _record(self, method: str, exc: Exception) -> None:
        """A refusal of this request says Slack works; an outage, a 5xx, a 429 or a bad
        token says it does not."""
        if not isinstance(exc, SlackApiError):
            self.calls.record(method, FAILED, type(exc).__name__)
            return
        status = exc.response.status_code
        code = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        failed = status == 429 or status >= 500 or code in RETRYABLE_ERRORS or code in AUTH_ERRORS
        error = str(code) if code else f"HTTP {status}"
        self.calls.record(method, FAILED if failed else REFUSED, error, rate_limited=status == 429)

    def _posted(self, channel: str, data: dict[str, Any]) -> Posted:
        ts = str(data["ts"])
        return Posted(
            MessageRef(ChannelRef(Platform.SLACK, data.get("channel", channel)), ts), from_epoch(ts)
        )

    async def post(
        self,
        channel: ChannelRef,
        content: Content,
        *,
        thread_id: str | None = None,
        marker: str | None = None,
    ) -> Posted:
        args: dict[str, Any] = {
            "channel": channel.id,
            **message_args(content),
            "unfurl_links": False,
        }
        if thread_id:
            args["thread_ts"] = thread_id
        if marker:
            args["metadata"] = {"event_type": MARKER_EVENT, "event_payload": {"marker": marker}}
        data = await self._call("chat.postMessage", client=self._post_client, **args)
        return self._posted(channel.id, data)

    async def update(self, message: MessageRef, content: Content) -> None:
        await self._call(
            "chat.update", channel=message.channel.id, ts=message.id, **message_args(content)
        )

    async def direct_message(
        self, user: UserRef, content: Content, *, marker: str | None
    ) -> Posted:
        return await self.post(await self.dm_channel(user), content, marker=marker)

    async def dm_channel(self, user: UserRef) -> ChannelRef:
        opened = await self._call("conversations.open", users=user.id)
        return ChannelRef(Platform.SLACK, opened["channel"]["id"])

    async def find_posted(
        self, channel: ChannelRef, marker: str, *, since: datetime, thread_id: str | None
    ) -> Posted | None:
        args: dict[str, Any] = {
            "channel": channel.id,
            "oldest": f"{since.timestamp() - 60:.6f}",
            "include_all_metadata": True,
            "limit": 200,
        }
        method = "conversations.history"
        if thread_id:
            method, args["ts"] = "conversations.replies", thread_id
        for _ in range(MARKER_PAGES):
            data = await self._call(method, **args)
            for message in data.get("messages", []):
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                if payload.get("marker") == marker:
                    return self._posted(channel.id, {"ts": message["ts"], "channel": channel.id})
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not data.get("has_more") or not cursor:
                break
            args["cursor"] = cursor
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
        if (
            marker is not None
            and thread_id
            and await self._thread_has(channel, thread_id, filename)
        ):
            return  # an earlier attempt's upload went through: its answer was lost
        try:
            await self.client.files_upload_v2(
                channel=channel.id,
                filename=filename,
                content=data,
                title=title,
                initial_comment=comment,
                thread_ts=thread_id,
            )
        except (TimeoutError, SlackApiError, aiohttp.ClientError) as exc:
            self._record("files.upload", exc)
            raise _error(exc) from exc
        self.calls.record("files.upload", OK)

    async def _thread_has(self, channel: ChannelRef, thread_id: str, filename: str) -> bool:
        """Whether a file of that name is in the thread already (files carry no metadata:
        the name, unique per digest and week, is the marker)."""
        data = await self._call("conversations.replies", channel=channel.id, ts=thread_id)
        return any(
            f.get("name") == filename
            for m in data.get("messages", [])
            for f in m.get("files") or []
        )

    async def fetch_message(self, message: MessageRef) -> FetchedMessage | None:
        args: dict[str, Any] = {
            "channel": message.channel.id,
            "latest": message.id,
            "oldest": message.id,
            "inclusive": True,
            "limit": 1,
        }
        data = await self._call("conversations.history", **args)
        found = [m for m in data.get("messages", []) if m.get("ts") == message.id]
        if not found:
            try:
                data = await self._call(
                    "conversations.replies",
                    channel=message.channel.id,
                    ts=message.id,
                    latest=message.id,
                    oldest=message.id,
                    inclusive=True,
                    limit=1,
                )
            except GatewayError as exc:
                if exc.retryable:  # an outage: the flag waits for Slack, never dropped
                    raise
                return None  # the message is gone, or the bot is not in its channel
            found = [m for m in data.get("messages", []) if m.get("ts") == message.id]
        if not found:
            return None
        raw = found[0]
        author = None
        if raw.get("user") or raw.get("bot_id"):
            author = UserRef(
                Platform.SLACK, raw.get("user") or raw["bot_id"], is_bot=bool(raw.get("bot_id"))
            )
        ref = MessageRef(
            message.channel,
            message.id,
            raw.get("thread_ts") if raw.get("thread_ts") != message.id else None,
        )
        return FetchedMessage(
            ref, plain_text(str(raw.get("text", ""))), author, from_epoch(message.id)
        )

    async def permalink(self, message: MessageRef) -> str | None:
        try:
            data = await self._call(
                "chat.getPermalink", channel=message.channel.id, message_ts=message.id
            )
        except GatewayError as exc:
            if exc.retryable:
                raise
            return None
        link = data.get("permalink")
        return str(link) if link else None

    async def _channel_facts(self, channel: ChannelRef) -> tuple[bool, bool]:
        """(shared with another organisation, private) from one conversations.info."""
        known = self._channels.get(channel.id)
        if known is None:
            data = await self._call("conversations.info", channel=channel.id)
            info = data.get("channel", {})
            shared = bool(info.get("is_ext_shared") or info.get("is_shared"))
            private = bool(info.get("is_private") or info.get("is_im") or info.get("is_mpim"))
            known = self._channels.put(channel.id, (shared, private))
        return known

    async def is_shared_channel(self, channel: ChannelRef) -> bool:
        return (await self._channel_facts(channel))[0]

    async def is_private_channel(self, channel: ChannelRef) -> bool:
        return (await self._channel_facts(channel))[1]

    async def display_name(self, user: UserRef) -> str:
        name = self._names.get(user.id)
        if name is None:
            try:
                data = await self._call("users.info", user=user.id)
            except GatewayError:
                return user.id
            u = data.get("user", {})
            name = self._names.put(
                user.id,
                u.get("profile", {}).get("display_name")
                or u.get("real_name")
                or u.get("name")
                or user.id,
            )
        return name

    async def group_members(self, group_id: str) -> list[str]:
        data = await self._call("usergroups.users.list", usergroup=group_id)
        return [str(u) for u in data.get("users", [])]
