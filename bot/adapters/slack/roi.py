"""The /roi slash command. Slack wants an answer within 3 seconds: refusals and usage lines
are the acknowledgement itself; the report is computed after the acknowledgement and sent
to the command's response_url, visible only to the manager who asked."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.adapters.slack.render import message_args
from bot.core.refs import Platform, UserRef
from bot.handlers.roi import command as roi_command
from bot.handlers.roi.view import roi_card
from bot.runtime import Runtime

log = logging.getLogger("crosstalk.slack")


def register_roi(app: AsyncApp, runtime: Runtime) -> None:
    org = runtime.org

    @app.command("/roi")
    async def on_roi(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        if not roi_command.is_manager(org, UserRef(Platform.SLACK, str(body.get("user_id", "")))):
            await ack(response_type="ephemeral", text=roi_command.REFUSAL)
            return
        words = str(body.get("text") or "").split()
        if roi_command.wants_link(words):  # `/roi web`: a sign-in link, for the asker alone
            text = await roi_command.dashboard_link(
                db=runtime.db,
                org=org,
                clock=runtime.clock,
                user=UserRef(Platform.SLACK, str(body.get("user_id", ""))),
                public_url=runtime.settings.public_url,
            )
            await ack(response_type="ephemeral", text=text)
            return
        try:
            period, team = roi_command.check_args(
                org, runtime.clock, str(body.get("text") or "").split()
            )
        except ValueError as exc:
            await ack(response_type="ephemeral", text=str(exc))
            return
        await ack(response_type="ephemeral", text="Working out the figures…")

        async def answer() -> None:
            try:
                report = await roi_command.report_json(
                    engine=runtime.engine, org=org, clock=runtime.clock, period=period, team=team
                )
            except Exception:
                log.exception("/roi failed")
                reply: dict[str, Any] = {
                    "text": "Sorry, the figures could not be computed; the error is logged."
                }
            else:
                reply = message_args(roi_card(report))
            try:
                await respond(response_type="ephemeral", replace_original=True, **reply)
            except (aiohttp.ClientError, ValueError, OSError, TimeoutError) as exc:
                # The response_url is Slack's: unreachable or refused, nobody is left to tell.
                log.warning("/roi: the answer could not be delivered to response_url: %r", exc)

        runtime.worker.spawn(answer())
