"""The Slack App Home: `app_home_opened` publishes the person's own view (bot.handlers.home),
its rating buttons rate a flag, and a manager's button sends a fresh dashboard link by DM.

A home view is idempotent (the latest publish replaces the last), so it is published
directly rather than through the outbox: the event is acknowledged at once, the view is
read on the database's threads and published in the request's wake (worker.spawn), and a
Slack failure is logged, never a 500 (Slack would only resend the event; the next opening
of the tab publishes again)."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import translate
from bot.adapters.slack.home_view import DASHBOARD_BUTTON, home_view
from bot.core.cards import Link
from bot.core.gateway import GatewayError
from bot.core.refs import Platform, UserRef
from bot.handlers import home
from bot.runtime import Runtime
from bot.web.links import LinksUnavailable, new_link

log = logging.getLogger("crosstalk.slack.home")
SLACK_FAILURES = (SlackApiError, aiohttp.ClientError, OSError, TimeoutError)


def register_home(app: AsyncApp, runtime: Runtime) -> None:
    """Register before the catch-all event listener: Bolt runs the first that matches."""
    org = runtime.org
    public_url = runtime.settings.public_url

    async def publish(client: AsyncWebClient, user: UserRef, notice: str | None = None) -> None:
        try:
            view = await runtime.query(
                lambda s: home.home_view(
                    session=s, org=org, user=user, clock=runtime.clock, public_url=public_url
                )
            )
            await client.views_publish(
                user_id=user.id, view=home_view(view, tz=org.config.org.zone, notice=notice)
            )
        except SLACK_FAILURES as exc:
            log.warning("App Home of %s not published: %r", user.id, exc)
        except Exception:  # a follow-up task: nobody else would see it
            log.exception("App Home of %s could not be built", user.id)

    @app.event("app_home_opened")
    async def on_home_opened(body: dict[str, Any], client: AsyncWebClient) -> None:
        event = translate.home_opened(body)
        if event is not None:
            runtime.worker.spawn(publish(client, event.user))

    @app.action(translate.HOME_RATE)
    async def on_home_rating(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        event = translate.home_rating(body, runtime.clock.now())
        if event is None:
            return
        answer = await runtime.handle_now(translate.interaction_key(body), event)
        said = answer.message if answer is not None else None
        notice = said or f"Thank you: your {event.score} ★ is recorded."
        runtime.worker.spawn(publish(client, event.user, notice))

    @app.action(DASHBOARD_BUTTON)
    async def on_dashboard_button(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        user = UserRef(Platform.SLACK, str(body["user"]["id"]))
        if not org.config.roi.is_manager(user):
            return  # a stale view: the button is only shown to managers
        runtime.worker.spawn(send_link(client, user))

    async def send_link(client: AsyncWebClient, user: UserRef) -> None:
        try:
            url = await runtime.db.run(
                lambda s: new_link(
                    s, org_id=org.org_id, user=user, clock=runtime.clock, public_url=public_url
                )
            )
        except LinksUnavailable as exc:
            await publish(client, user, str(exc))
            return
        text = (
            "Your dashboard link, single use, valid 10 minutes: ",
            Link(url, "open the dashboard"),
        )
        try:
            await runtime.gateways.get(Platform.SLACK).direct_message(user, text, marker=None)
        except GatewayError as exc:
            log.warning("dashboard link for %s not sent: %s", user.id, exc)
            await publish(client, user, "The link could not be sent; please try again.")
            return
        await publish(client, user, "A dashboard link is in your direct messages with Crosstalk.")
