"""Slack's side of name resolution (bot/names.py): `#channel`, `@person`, an e-mail and a
user group `@handle` looked up through the Web API, once per start.

Each listing (`conversations.list`, `users.list`, `usergroups.list`) is read whole, page by
page, the first time a name of its kind is asked for, and kept for the other names; an
e-mail is one `users.lookupByEmail` (scope `users:read.email`). The calls are synchronous:
they run before the server's loop exists. 429s wait for Retry-After (up to three times).
In a workspace of many thousands, `@name`s cost a `users.list` of many pages (Tier 2);
e-mails or ids cost one call or none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.web import SlackResponse

from bot.names import LookupFailed, NameProblem
from config.names import HOW_SLACK_CHANNEL, HOW_SLACK_USER, Name, NameKind

log = logging.getLogger("crosstalk.names")
PAGE = 200
Index = dict[str, list[str]]


class _NotFound(Exception):
    pass


class SlackNames:
    platform = "Slack"

    def __init__(self, token: str, base_url: str, *, timeout: int = 10) -> None:
        self.client = WebClient(token=token, base_url=base_url, timeout=timeout)
        self.client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
        self._indexes: dict[NameKind, Index] = {}
        self._outside: set[str] = set()  # public channels the bot is not a member of

    def lookup(self, name: Name) -> str | None:
        if name.kind is NameKind.SLACK_EMAIL:
            return self._by_email(name.key)
        index = self._indexes.get(name.kind)
        if index is None:
            index = self._indexes[name.kind] = self._build(name.kind)
        ids = index.get(name.key, [])
        if len(ids) > 1:
            how = HOW_SLACK_CHANNEL if name.kind is NameKind.SLACK_CHANNEL else HOW_SLACK_USER
            raise NameProblem(
                f'"{name.text}" is {len(ids)} {name.kind}s ({", ".join(ids[:3])}): write the id'
                f" instead ({how})"
            )
        if ids and ids[0] in self._outside:
            log.warning("the bot is not in %s (%s): invite it there", name.text, ids[0])
        return ids[0] if ids else None

    def _build(self, kind: NameKind) -> Index:
        if kind is NameKind.SLACK_CHANNEL:
            return self._channels()
        if kind is NameKind.SLACK_USER:
            return self._users()
        return self._usergroups()

    def _call(self, method: str, fn: Callable[..., SlackResponse], **args: Any) -> SlackResponse:
        try:
            return fn(**args)
        except SlackApiError as exc:
            error = exc.response.get("error", "error")
            if error == "users_not_found":
                raise _NotFound from None
            needed = exc.response.get("needed")
            if needed:
                raise LookupFailed(
                    f"Slack {method} answered {error}: the app needs the {needed} scope (add it,"
                    " or create the app again from `crosstalk slack-manifest`, and reinstall)"
                ) from None
            raise LookupFailed(f"Slack {method} answered {error}") from None
        except (SlackClientError, OSError) as exc:
            raise LookupFailed(f"Slack could not be reached ({method}: {exc})") from None

    def _pages(
        self, method: str, fn: Callable[..., SlackResponse], key: str, **args: Any
    ) -> Iterator[dict[str, Any]]:
        cursor = ""
        while True:
            extra = {"cursor": cursor} if cursor else {}
            page = self._call(method, fn, limit=PAGE, **args, **extra)
            yield from page.get(key) or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                return

    def _channels(self) -> Index:
        index: Index = {}
        for channel in self._pages(
            "conversations.list",
            self.client.conversations_list,
            "channels",
            types="public_channel,private_channel",
            exclude_archived=True,
        ):
            index.setdefault(str(channel.get("name", "")).lower(), []).append(channel["id"])
            if not channel.get("is_member", True):
                self._outside.add(channel["id"])
        return index

    def _users(self) -> Index:
        index: Index = {}
        for user in self._pages("users.list", self.client.users_list, "members"):
            if user.get("deleted"):
                continue
            profile = user.get("profile") or {}
            handles = {
                user.get("name"),
                profile.get("display_name"),
                profile.get("display_name_normalized"),
                profile.get("real_name"),
                user.get("real_name"),
            }
            for handle in {str(h).lower() for h in handles if h}:
                index.setdefault(handle, []).append(user["id"])
        return index

    def _usergroups(self) -> Index:
        page = self._call("usergroups.list", self.client.usergroups_list)
        index: Index = {}
        for group in page.get("usergroups") or []:
            index.setdefault(str(group.get("handle", "")).lower(), []).append(group["id"])
        return index

    def _by_email(self, email: str) -> str | None:
        try:
            answer = self._call("users.lookupByEmail", self.client.users_lookupByEmail, email=email)
        except _NotFound:
            return None
        return str(answer["user"]["id"])
