"""Posting exactly once (bot/outbox/base.py), at the handler level with a FakeGateway: a
first attempt posts with the row's marker; a retry after a lost response finds that post
instead of posting again; a retry that finds nothing posts once."""

from __future__ import annotations

from datetime import timedelta

from bot.core.cards import Card
from bot.core.clock import FakeClock
from bot.core.refs import ChannelRef, Platform, UserRef
from bot.demo.standins.serving import START
from bot.outbox.base import dm_once, post_once
from store.models import OutboxMessage
from tests.fakes.gateway import FakeGateway

BILLING = ChannelRef(Platform.SLACK, "C0BILLING")
CARD = Card(title="📰 Weekly digest — Billing", summary="3 flags")


def row(*, attempts: int = 1, ambiguous: bool = False) -> OutboxMessage:
    return OutboxMessage(
        id=7,
        dedupe_key="digest:billing:2026-W46",
        org_id=1,
        kind="digest",
        platform="slack",
        attempts=attempts,
        ambiguous=ambiguous,
        next_attempt_at=START,
        created_at=START,
    )


async def test_a_first_attempt_posts_with_the_row_s_marker() -> None:
    gateway = FakeGateway()
    posted = await post_once(gateway, row(), BILLING, CARD, thread_id="1.0")
    (sent,) = gateway.posts
    assert (sent.message, sent.marker, sent.thread_id) == (posted.message, "ct-7", "1.0")


async def test_a_retry_after_a_lost_response_finds_the_earlier_post() -> None:
    clock = FakeClock(START)
    gateway = FakeGateway(clock=clock)
    first = await post_once(gateway, row(), BILLING, CARD)  # its answer was lost
    clock.advance(timedelta(seconds=30))
    again = await post_once(gateway, row(attempts=2, ambiguous=True), BILLING, CARD)
    assert again == first and len(gateway.posts) == 1


async def test_a_retry_that_finds_nothing_posts_once() -> None:
    gateway = FakeGateway()
    await post_once(gateway, row(attempts=2, ambiguous=True), BILLING, CARD)
    await post_once(gateway, row(attempts=3, ambiguous=True), BILLING, CARD)
    assert [s.marker for s in gateway.posts] == ["ct-7"]


async def test_a_dm_is_posted_once_in_the_user_s_direct_channel() -> None:
    gateway = FakeGateway()
    ann = UserRef(Platform.SLACK, "U0ANN")
    await dm_once(gateway, row(), ann, CARD)
    await dm_once(gateway, row(attempts=2, ambiguous=True), ann, CARD)
    (sent,) = gateway.sent
    assert sent.channel == await gateway.dm_channel(ann) and sent.marker == "ct-7"
