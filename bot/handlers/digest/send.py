"""Send a queued digest (outbox kinds "digest" and "digest_chart").

The digest is composed at send time from the database. Its trend chart is a second outbox
row queued once the message is posted, so a failed upload is retried on its own and never
posts the message twice; the chart goes into the digest's thread.

The outbox calls these deliverers (bot.outbox.deliver lists them); nothing here imports the
outbox back, so the result meaning "nothing left to do" is spelled here as SKIP, the same
value as bot.outbox.base.SKIP.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Engine

from bot.core.cards import Content
from bot.core.clock import Clock
from bot.core.gateway import ChatGateway, Posted
from bot.core.refs import ChannelRef, Platform, UserRef
from bot.handlers.cards import localize
from bot.handlers.context import Gateways, OrgContext
from bot.handlers.digest.chart import trend_png
from bot.handlers.digest.plan import KIND, build
from store.db import session_scope
from store.models import OutboxMessage
from store.queue import enqueue_outbox

CHART = "digest_chart"
SKIP = "-"  # the outbox's "nothing left to do": the row is marked skipped, not done


async def post_once(
    gateway: ChatGateway,
    row: OutboxMessage,
    channel: ChannelRef,
    content: Content,
    thread_id: str | None = None,
) -> Posted:
    """Post, unless an earlier attempt of this row already did (looked for by its marker
    when that attempt may have gone through: a lost response, or a process gone mid-call)."""
    marker = f"ct-{row.id}"
    if row.ambiguous or row.attempts > 1:
        found = await gateway.find_posted(
            channel, marker, since=row.created_at, thread_id=thread_id
        )
        if found is not None:
            return found
    return await gateway.post(channel, content, thread_id=thread_id, marker=marker)


async def send_to(
    gateway: ChatGateway, row: OutboxMessage, target: dict[str, Any], content: Content
) -> Posted:
    """To the target's channel, or as a direct message to its user. A DM channel is opened
    by the platform, so a repeat after a lost DM response is accepted rather than looked for
    (the same trade as the flagger's notice)."""
    if target.get("user"):
        user = UserRef(Platform(row.platform), str(target["user"]))
        return await gateway.direct_message(user, content, marker=f"ct-{row.id}")
    return await post_once(
        gateway, row, ChannelRef(Platform(row.platform), target["channel"]), content
    )


async def deliver(
    row: OutboxMessage, engine: Engine, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    assert row.kind == KIND
    target: dict[str, Any] = json.loads(row.target)
    with session_scope(engine) as session:
        digest = build(
            session=session, org=org, scope=target["scope"], week=target["week"], now=clock.now()
        )
    if digest.card is None:
        return SKIP
    card = await localize(digest.card, row.platform, gws)  # people of the other platform
    posted = await send_to(gws.get(row.platform), row, target, card)
    if digest.chart is not None:
        chart_target = {
            "channel": posted.message.channel.id,
            "thread": posted.message.id,
            "week": digest.week,
            "points": digest.chart,
        }
        with session_scope(engine) as session:
            enqueue_outbox(
                session,
                org_id=row.org_id,
                dedupe_key=f"{row.dedupe_key}:chart",
                kind=CHART,
                platform=row.platform,
                now=clock.now(),
                target=json.dumps(chart_target),
            )
        org.wake_outbox()
    return f"{posted.message.channel.id}|{posted.message.id}"


async def deliver_chart(
    row: OutboxMessage, engine: Engine, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    """Upload the maturity trend into the digest's thread. An upload carries no marker to
    look for, so one whose response was lost may be repeated: a second chart in a thread is
    the lesser harm than none."""
    target: dict[str, Any] = json.loads(row.target)
    points = [
        (str(label), None if score is None else int(score)) for label, score in target["points"]
    ]
    week = str(target["week"])
    data = trend_png(points, title=f"{org.config.org.name}: maturity score by week")
    channel = ChannelRef(Platform(row.platform), str(target["channel"]))
    await gws.get(row.platform).upload(
        channel,
        filename=f"maturity-{week}.png",
        data=data,
        title=f"Maturity trend to {week}",
        comment="Org maturity score, week by week (gaps: not enough data that week).",
        thread_id=str(target["thread"]),
    )
    return f"{channel.id}|{target['thread']}"
