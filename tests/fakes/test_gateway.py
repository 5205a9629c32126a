"""The in-memory FakeGateway does what a ChatGateway promises, so handler tests that use it
assert on what a real platform would have been asked to do."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.cards import Button, Card
from bot.core.clock import FakeClock
from bot.core.gateway import GatewayError
from bot.core.refs import ChannelRef, MessageRef, Platform, UserRef
from bot.demo.standins.serving import START
from tests.fakes.gateway import FakeGateway, text_of

BILLING = ChannelRef(Platform.SLACK, "C0BILLING")
CARD = Card(
    title="📣 Customer conversation",
    summary="Flagged by Ann",
    quote="You charged me twice",
    facts=(("Status", ("open",)),),
    buttons=(Button("Acknowledge", "ct_ack", "1"),),
)


async def test_posts_replies_updates_and_dms_are_recorded_in_order() -> None:
    clock = FakeClock(START)
    gateway = FakeGateway(clock=clock)
    card = await gateway.post(BILLING, CARD, marker="ct-1")
    clock.advance(timedelta(minutes=1))
    reply = await gateway.post(BILLING, ("on it",), thread_id=card.message.id)
    await gateway.update(card.message, Card(title="📣 Resolved", summary="by Bob"))
    dm = await gateway.direct_message(UserRef(Platform.SLACK, "U0ANN"), ("sent",), marker=None)

    assert [s.message for s in gateway.posts] == [card.message, reply.message]
    assert (card.at, reply.at) == (START, START + timedelta(minutes=1))
    (first, second) = gateway.in_channel("C0BILLING")
    assert first.versions == [CARD, Card(title="📣 Resolved", summary="by Bob")]
    assert first.text == "📣 Resolved\nby Bob" and "Acknowledge" in text_of(CARD)
    assert gateway.in_channel("C0BILLING", thread_id=card.message.id) == [second]
    assert gateway.updates == [(card.message, first.content)]
    (sent,) = gateway.dms
    assert sent.message == dm.message and sent.dm_to == UserRef(Platform.SLACK, "U0ANN")
    assert sent.channel == await gateway.dm_channel(UserRef(Platform.SLACK, "U0ANN"))


async def test_lookups_answer_from_what_it_holds() -> None:
    gateway = FakeGateway(names={"U0ANN": "Ann Lee"}, groups={"S0BILL": ["U0BOB"]})
    gateway.shared_channels.add("C0SHARED")
    posted = await gateway.post(BILLING, CARD, marker="ct-7")
    found = await gateway.find_posted(BILLING, "ct-7", since=START, thread_id=None)
    assert found == posted
    assert await gateway.find_posted(BILLING, "ct-8", since=START, thread_id=None) is None
    later = START + timedelta(seconds=1)
    assert await gateway.find_posted(BILLING, "ct-7", since=later, thread_id=None) is None
    fetched = await gateway.fetch_message(posted.message)
    assert fetched is not None and fetched.text == text_of(CARD)
    assert await gateway.fetch_message(MessageRef(BILLING, "999")) is None
    assert await gateway.display_name(UserRef(Platform.SLACK, "U0ANN")) == "Ann Lee"
    assert await gateway.group_members("S0BILL") == ["U0BOB"]
    assert await gateway.is_shared_channel(ChannelRef(Platform.SLACK, "C0SHARED"))
    assert not await gateway.is_shared_channel(BILLING)
    await gateway.upload(BILLING, filename="t.png", data=b"png", title="Trend", comment="")
    assert [u.filename for u in gateway.uploads] == ["t.png"]


async def test_failures_before_and_after_the_effect() -> None:
    gateway = FakeGateway()
    limited = GatewayError("HTTP 429", retryable=True, retry_after=3)
    gateway.fail_next("post", limited)
    with pytest.raises(GatewayError) as refused:
        await gateway.post(BILLING, CARD)
    assert refused.value is limited and gateway.sent == []

    lost = GatewayError("read timeout", retryable=True, ambiguous=True)
    gateway.fail_next("post", lost, after_effect=True)
    with pytest.raises(GatewayError):
        await gateway.post(BILLING, CARD, marker="ct-2")
    assert [s.marker for s in gateway.sent] == ["ct-2"]  # it went through all the same
    await gateway.post(BILLING, CARD)  # and the next call is answered again
    assert len(gateway.sent) == 2

    with pytest.raises(GatewayError, match="no such message"):
        await gateway.update(MessageRef(BILLING, "404"), CARD)
