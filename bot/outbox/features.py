"""Deliverers of the features that post on a schedule: the weekly digests with their
charts, and the SLA reminders and escalations. Composed at send time from the
database (bot.handlers.digest, bot.handlers.nudge build the content); posted once."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from bot.core.clock import Clock
from bot.core.refs import ChannelRef, MessageRef, Platform
from bot.handlers.cards import localize
from bot.handlers.context import Gateways, OrgContext
from bot.handlers.digest.files import chart_file, chart_targets
from bot.handlers.digest.plan import CHART, KIND, Digest, build
from bot.handlers.nudge import escalation_card, reminder_text, waiting_now
from bot.outbox.base import SKIP, encode_message, post_once, send_to
from store.db import Database
from store.models import OutboxMessage
from store.queue import enqueue_outbox


async def deliver_digest(
    row: OutboxMessage, db: Database, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    assert row.kind == KIND
    target: dict[str, Any] = json.loads(row.target)
    now = clock.now()

    def read(session: Session) -> Digest:
        return build(session=session, org=org, scope=target["scope"], week=target["week"], now=now)

    digest = await db.run(read, read_only=True)
    if digest.card is None:
        return SKIP
    card = await localize(digest.card, row.platform, gws)  # people of the other platform
    posted = await send_to(gws.get(row.platform), row, target, card)
    where = {"channel": posted.message.channel.id, "thread": posted.message.id}
    charts = [(suffix, {**where, **spec}) for suffix, spec in chart_targets(digest)]

    def queue_charts(session: Session) -> None:
        for suffix, chart_target in charts:
            enqueue_outbox(
                session,
                org_id=row.org_id,
                dedupe_key=f"{row.dedupe_key}:{suffix}",
                kind=CHART,
                platform=row.platform,
                now=now,
                target=json.dumps(chart_target),
            )

    if charts:
        await db.run(queue_charts)
    return encode_message(posted)


async def deliver_chart(
    row: OutboxMessage, db: Database, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    """Upload a chart (a team's weeks, or the maturity trend) into the digest's thread,
    once: an earlier attempt's upload (its answer lost) is looked for first, by file name
    in Slack and by marker in Teams."""
    target: dict[str, Any] = json.loads(row.target)
    file = chart_file(org, target)
    channel = ChannelRef(Platform(row.platform), str(target["channel"]))
    await gws.get(row.platform).upload(
        channel,
        filename=file.filename,
        data=file.data,
        title=file.title,
        comment=file.comment,
        thread_id=str(target["thread"]),
        marker=f"ct-{row.id}",  # an upload whose answer was lost is found, not repeated
    )
    return f"{channel.id}|{target['thread']}"


async def deliver_nudge(
    row: OutboxMessage, db: Database, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    now = clock.now()
    waiting = await db.run(lambda s: waiting_now(s, org, row, now), read_only=True)
    if waiting is None:
        return SKIP  # answered, re-routed or closed since it was queued
    b, _, team, waited = waiting
    assert b.message_id is not None
    channel = ChannelRef(Platform(b.platform), b.channel_id)
    posted = await post_once(
        gws.get(b.platform), row, channel, reminder_text(team, waited), thread_id=b.message_id
    )
    return encode_message(posted)


async def deliver_escalation(
    row: OutboxMessage, db: Database, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    now = clock.now()
    waiting = await db.run(lambda s: waiting_now(s, org, row, now), read_only=True)
    if waiting is None:
        return SKIP
    b, flag, team, waited = waiting
    assert b.message_id is not None
    card_url = await gws.get(b.platform).permalink(
        MessageRef(ChannelRef(Platform(b.platform), b.channel_id), b.message_id)
    )
    content = escalation_card(b, flag, team, waited, card_url)
    content = await localize(content, row.platform, gws)  # the manager may be elsewhere
    posted = await send_to(gws.get(row.platform), row, json.loads(row.target), content)
    return encode_message(posted)
