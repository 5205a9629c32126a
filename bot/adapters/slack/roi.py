"""The /roi slash command. Slack wants an answer within 3 seconds: refusals and usage lines
are the acknowledgement itself; the report is computed after the acknowledgement and sent
to the command's response_url, visible only to the manager who asked."""

from __future__ import annotations

import logging
from typing import Any

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
                await respond(
                    response_type="ephemeral",
                    replace_original=True,
                    **message_args(roi_card(report)),
                )
            except Exception:
                log.exception("/roi failed")
                await respond(
                    response_type="ephemeral",
                    replace_original=True,
                    text="Sorry, the figures could not be computed; the error is logged.",
                )

        runtime.worker.spawn(answer())
