"""Slack Socket Mode (SLACK_APP_TOKEN): the same Bolt app, reached over a websocket the
bot opens itself, so no public URL is needed. Events still go through the inbox, so
de-duplication and crash safety are the same as over HTTP."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

log = logging.getLogger("crosstalk.slack")


def socket_mode(bolt: AsyncApp, app_token: str) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        handler = AsyncSocketModeHandler(
            bolt, app_token, logger=logging.getLogger("crosstalk.socket")
        )
        await handler.connect_async()  # type: ignore[no-untyped-call]
        log.info("Slack Socket Mode connected")
        yield
        await handler.close_async()  # type: ignore[no-untyped-call]

    return lifecycle
