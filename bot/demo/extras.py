"""The demo's last two acts: a manager asks `/roi` over the real Slack endpoint (signed
slash command, answer read back from the response_url), and the managers' weekly digest
for the story's week, composed exactly as the scheduler would send it."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot.core.timecalc import iso_week_of
from bot.demo.standins import slack_requests as rq
from bot.demo.standins.harness import Server
from bot.handlers.digest.card import card_text
from bot.handlers.digest.plan import MANAGERS, build
from store.db import session_scope


def blocks_text(blocks: list[dict[str, Any]]) -> list[str]:
    """Block Kit as the manager reads it, line by line."""
    lines: list[str] = []
    for block in blocks:
        texts = [block["text"]["text"]] if "text" in block else []
        texts += [f["text"] for f in block.get("fields", [])]
        texts += [e.get("text", "") for e in block.get("elements", []) if isinstance(e, dict)]
        for text in texts:
            lines.extend(text.replace("*", "").splitlines())
    return lines


async def roi_section(server: Server) -> list[str]:
    manager = server.runtime.config.roi.managers[0]
    request = rq.slash_command(
        "T0001",
        manager,
        "C0CUSTOMERS",
        "/roi",
        "30d",
        server.slack.response_url("demo-roi"),
        rq.new_trigger_id(),
    )
    ack = await server.send(request)
    (answer,) = await server.slack.wait_for_response("demo-roi", within=30)
    body = ["", f"/roi 30d, asked by a manager (HTTP {ack.status}; the figures came after the ack)"]
    body += [f"  {line}" for line in blocks_text(answer.get("blocks", []))]
    return body


def digest_section(server: Server) -> list[str]:
    runtime = server.runtime
    now = runtime.clock.now()
    week = iso_week_of(now, ZoneInfo(runtime.config.org.timezone))
    with session_scope(runtime.engine) as session:
        digest = build(session, runtime.org, scope=MANAGERS, week=week, now=now)
    if digest.card is None:
        return ["", f"Managers' digest for {week}: a quiet week, nothing to send"]
    return [
        "",
        f"The managers' weekly digest for {week} (as the scheduler sends it):",
        *(f"  {line}" for line in card_text(digest.card).splitlines()),
    ]
