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

from aiohttp import web

from bot.core.clock import Clock
from bot.demo.standins.slack.web_chat import ChatMixin
from bot.demo.standins.slack.web_conversations import ConversationsMixin
from bot.demo.standins.slack.web_directory import DirectoryMixin
from bot.demo.standins.slack.web_files import FilesMixin
from bot.demo.standins.slack.web_http import HttpMixin
from bot.demo.standins.slack.web_model import Call, FakeFile, Fault, JSONDict, ts_key
from bot.demo.standins.slack.web_views import ViewsMixin

__all__ = ["Call", "FakeFile", "FakeSlack", "Fault"]


class FakeSlack(ChatMixin, ConversationsMixin, DirectoryMixin, ViewsMixin, FilesMixin, HttpMixin):
    """An in-process Slack Web API on 127.0.0.1 with an OS-assigned port.

    Its ``ts`` values follow :attr:`clock` (frozen at ``serving.START`` unless given one;
    the test server hands over its own clock to a FakeSlack nobody set the time of)."""

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
        clock: Clock | None = None,
    ) -> None:
        super().__init__(
            token=token,
            team_id=team_id,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            app_id=app_id,
            team_name=team_name,
            domain=domain,
            bot_name=bot_name,
            clock=clock,
            host=host,
            port=port,
        )
        self.app = self.build_app()
        self._handlers.update(
            {
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
                "conversations.list": self._conversations_list,
                "users.list": self._users_list,
                "users.lookupByEmail": self._users_lookup_by_email,
                "usergroups.list": self._usergroups_list,
                "views.open": self._views_open,
                "views.update": self._views_update,
                "views.push": self._views_push,
                "views.publish": self._views_publish,
                "reactions.add": self._reactions_add,
                "files.getUploadURLExternal": self._files_get_upload_url_external,
                "files.completeUploadExternal": self._files_complete_upload_external,
            }
        )
        self.add_user(bot_user_id, name=bot_name, real_name=bot_name, is_bot=True, bot_id=bot_id)

    def make_app(self) -> web.Application:
        return self.app  # built once, in __init__: Socket Mode adds its route before a start

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
            for ts in sorted(stored, key=ts_key)
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

        deadline = asyncio.get_running_loop().time() + within
        while len(found := matching()) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{len(found)}/{count} {method} calls after {within}s")
            await asyncio.sleep(0.01)
        return found

    async def wait_for_response(
        self, name: str, count: int = 1, *, within: float = 5.0
    ) -> list[JSONDict]:
        """Wait until ``count`` POSTs reached ``response_url(name)``."""
        deadline = asyncio.get_running_loop().time() + within
        while len(self.responses[name]) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(
                    f"{len(self.responses[name])}/{count} responses to {name} after {within}s"
                )
            await asyncio.sleep(0.01)
        return self.responses[name]
