"""Nothing lost, nothing twice: the real server over HTTP against FakeSlack, through
redeliveries, rate limits, server errors, lost responses, crashes and racing replicas.

Time is a FakeClock wherever a retry has to wait (FakeSlack's `ts` follow it too), so the
tests move time instead of sleeping; one test checks the same on the wall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, func, select

from bot.core.clock import FakeClock
from bot.demo.standins import slack_requests as sr
from bot.demo.standins.harness import Server
from bot.demo.standins.slack_api import Call, FakeSlack
from bot.demo.standins.slack_requests import DEFAULT_SIGNING_SECRET, SignedRequest
from bot.outbox.worker import LEASE, Worker
from store.models import Broadcast, Flag, FlagFlagger, InboxEvent, OutboxMessage

CUSTOMERS = "C0CUSTOMERS"
ONE_TEAM = "Please refund the invoice, you charged me twice."  # billing
THREE_TEAMS = "You charged me twice and the export is broken."  # billing, product, engineering
TEAM_CHANNELS = ("C0BILLING", "C0PRODUCT", "C0ENG")


# ---------------------------------------------------------------------------- helpers


def fake_clock(*servers_or_slacks: Server | FakeSlack) -> FakeClock:
    """A frozen clock at the current second; FakeSlack's message `ts` follow it."""
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    for item in servers_or_slacks:
        slack = item.slack if isinstance(item, Server) else item
        slack.set_now(lambda: clock.now().timestamp())
    return clock


def customer_says(slack: FakeSlack, text: str) -> str:
    return slack.add_message(CUSTOMERS, text, user="U0SAM")


def flag_by_reaction(
    message_ts: str,
    *,
    user: str = "U0ANN",
    event_id: str | None = None,
    retry_num: int | None = None,
) -> SignedRequest:
    return sr.event_reaction_added(
        "T0001",
        user,
        "mega",
        CUSTOMERS,
        message_ts,
        "U0SAM",
        f"{time.time():.6f}",
        event_id,
        retry_num=retry_num,
    )


def posts_to(slack: FakeSlack, channel: str) -> list[Call]:
    """Every chat.postMessage that reached Slack for `channel`, whatever its answer."""
    return [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == channel]


def cards_in(slack: FakeSlack, channel: str) -> list[dict[str, Any]]:
    """Top-level messages in `channel` that Slack kept (what its members see)."""
    return [m for m in slack.posted(channel) if m.get("thread_ts") in (None, m["ts"])]


def count(server: Server, model: Any) -> int:
    return int(server.query(select(func.count()).select_from(model))[0])


def outbox(server: Server, kind: str | None = None) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(col(OutboxMessage.id))
    if kind is not None:
        stmt = stmt.where(OutboxMessage.kind == kind)
    return server.query(stmt)


def broadcast_of(server: Server, channel: str) -> Broadcast:
    (b,) = server.query(select(Broadcast).where(Broadcast.channel_id == channel))
    return b


def card_row(server: Server, channel: str) -> OutboxMessage:
    b = broadcast_of(server, channel)
    (row,) = server.query(
        select(OutboxMessage).where(
            OutboxMessage.kind == "card_post", OutboxMessage.subject_id == b.id
        )
    )
    return row


async def flag_one(server: Server, text: str = ONE_TEAM) -> str:
    ts = customer_says(server.slack, text)
    assert (await server.send(flag_by_reaction(ts))).status == 200
    return ts


def assert_each_card_once(server: Server, channels: tuple[str, ...] = ("C0BILLING",)) -> None:
    for channel in channels:
        cards = cards_in(server.slack, channel)
        assert len(cards) == 1, f"{channel}: {len(cards)} cards"
        b = broadcast_of(server, channel)
        assert b.message_id == cards[0]["ts"]
        assert card_row(server, channel).status == "done"


# ---------------------------------------------------------------------------- redelivery


async def test_a_redelivered_event_is_one_flag_and_one_card_per_team(db_url: str) -> None:
    async with Server(db_url, run_worker=False) as server:
        ts = customer_says(server.slack, THREE_TEAMS)
        event_id = sr.new_event_id()
        # Slack retries while the first delivery is still queued, and again once it is done.
        first = await server.send(flag_by_reaction(ts, event_id=event_id))
        retry1 = await server.send(flag_by_reaction(ts, event_id=event_id, retry_num=1))
        await server.settle()
        retry2 = await server.send(flag_by_reaction(ts, event_id=event_id, retry_num=2))
        await server.settle()
        assert [r.status for r in (first, retry1, retry2)] == [200, 200, 200]

        assert count(server, InboxEvent) == 1
        (event,) = server.query(select(InboxEvent))
        assert event.dedupe_key == f"slack:{event_id}" and event.status == "done"
        assert event.attempts == 1
        assert count(server, Flag) == 1 and count(server, Broadcast) == 3
        for channel in TEAM_CHANNELS:
            assert len(posts_to(server.slack, channel)) == 1
        assert_each_card_once(server, TEAM_CHANNELS)
        assert len(server.slack.posted(CUSTOMERS, thread_ts=ts)) == 1  # the flagger's notice
        assert len(server.slack.calls_to("conversations.history")) == 1  # fetched once


# ---------------------------------------------------------------------------- Slack failures


async def test_rate_limit_waits_for_retry_after_then_posts_once(db_url: str) -> None:
    server = Server(db_url, run_worker=False)
    clock = server.clock = fake_clock(server)
    async with server:
        # Longer than the first back-off (about 1 s), so only Retry-After explains a wait.
        server.slack.fail_next("chat.postMessage", status=429, retry_after=3)
        await flag_one(server)
        await server.settle()
        failed_at = clock.now()
        row = card_row(server, "C0BILLING")
        assert (row.status, row.attempts, row.ambiguous) == ("pending", 1, False)
        assert "rate limited" in (row.last_error or "")
        assert (row.next_attempt_at - failed_at).total_seconds() == 3.0
        assert [c.status for c in posts_to(server.slack, "C0BILLING")] == [429]

        clock.advance(timedelta(seconds=2.99))  # before Retry-After: no call at all
        await server.settle()
        assert [c.status for c in posts_to(server.slack, "C0BILLING")] == [429]

        clock.set(row.next_attempt_at)
        await server.settle()
        assert [c.status for c in posts_to(server.slack, "C0BILLING")] == [429, 200]
        assert_each_card_once(server)
        assert card_row(server, "C0BILLING").attempts == 2


async def test_the_running_worker_wakes_for_the_retry_itself(db_url: str) -> None:
    """The running worker sleeps until the retry is due by its clock, not until a poll or
    a new event: it posts once the clock passes Retry-After, and not before."""
    server = Server(db_url)
    clock = server.clock = fake_clock(server)
    async with server:
        worker = server.runtime.worker
        worker.poll = 30.0  # no routine sweep during the test: only the due retry wakes it
        # Retry-After beyond the first back-off (at most 1.2 s), so it decides the wait.
        server.slack.fail_next("chat.postMessage", status=429, retry_after=2)
        await flag_one(server)
        await server.slack.wait_for("chat.postMessage", 1)  # the notice
        await server.slack.wait_for("chat.postMessage", 1, ok=False)  # the card's 429
        row = card_row(server, "C0BILLING")
        assert (
            await worker.idle_wait(OutboxMessage)
            == (row.next_attempt_at - clock.now()).total_seconds()
            == 2.0
        )
        assert [c.status for c in posts_to(server.slack, "C0BILLING")] == [429]
        clock.set(row.next_attempt_at)
        await server.slack.wait_for("chat.postMessage", 2)
        await server.settle()
        assert [c.status for c in posts_to(server.slack, "C0BILLING")] == [429, 200]
        assert_each_card_once(server)


async def test_server_error_is_retried_and_posted_once(db_url: str) -> None:
    server = Server(db_url, run_worker=False)
    clock = server.clock = fake_clock(server)
    async with server:
        server.slack.fail_next("chat.postMessage", status=500)
        await flag_one(server)
        await server.settle()
        row = card_row(server, "C0BILLING")
        assert (row.status, row.ambiguous) == ("pending", True)
        clock.set(row.next_attempt_at)
        await server.settle()
        # The retry looked for an earlier post first, found none, and posted.
        assert [c.status for c in posts_to(server.slack, "C0BILLING")] == [500, 200]
        lookups = [
            c
            for c in server.slack.calls_to("conversations.history")
            if c.args.get("channel") == "C0BILLING"
        ]
        assert len(lookups) == 1 and lookups[0].args.get("include_all_metadata") in (True, "1")
        assert_each_card_once(server)


async def test_a_lost_response_is_not_posted_twice(db_url: str) -> None:
    """Slack posted the card but answered 500: the retry finds it by its marker."""
    server = Server(db_url, run_worker=False)
    clock = server.clock = fake_clock(server)
    async with server:
        server.slack.fail_next("chat.postMessage", status=500, after_effect=True)
        await flag_one(server)
        await server.settle()
        (kept,) = cards_in(server.slack, "C0BILLING")  # there, though we were told 500
        row = card_row(server, "C0BILLING")
        assert (row.status, row.ambiguous) == ("pending", True)
        assert broadcast_of(server, "C0BILLING").message_id is None

        clock.set(row.next_attempt_at)
        await server.settle()
        assert len(posts_to(server.slack, "C0BILLING")) == 1  # never posted again
        assert_each_card_once(server)
        b = broadcast_of(server, "C0BILLING")
        assert b.message_id == kept["ts"] and b.posted_at is not None
        done = card_row(server, "C0BILLING")
        assert (done.result_id, done.attempts) == (f"C0BILLING|{kept['ts']}", 2)
        assert kept["metadata"]["event_payload"]["marker"] == f"ct-{done.id}"


async def test_a_permanent_error_buries_that_row_and_the_rest_goes_on(db_url: str) -> None:
    server = Server(db_url, run_worker=False)
    server.clock = fake_clock(server)
    async with server:
        server.slack.fail_next("chat.postMessage", error="channel_not_found")
        await flag_one(server, THREE_TEAMS)
        await server.settle()
        dead = card_row(server, "C0BILLING")
        assert (dead.status, dead.attempts) == ("dead", 1)
        assert "channel_not_found" in (dead.last_error or "")
        assert cards_in(server.slack, "C0BILLING") == []
        assert_each_card_once(server, ("C0PRODUCT", "C0ENG"))
        assert len(server.slack.posted(CUSTOMERS)) == 1  # the notice
        assert server.pending(due_before=datetime.now(UTC) + timedelta(days=1)) == 0


# ---------------------------------------------------------------------------- crash, restart


async def _crash(task: asyncio.Task[Any]) -> None:
    """The process dies here: nothing after this await runs, nothing more is committed."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_events_stored_before_a_crash_are_handled_after_restart(db_url: str) -> None:
    slack = FakeSlack()
    await slack.start()
    clock = fake_clock(slack)
    try:
        async with Server(db_url, clock=clock, slack=slack, run_worker=False) as first:
            crashed = customer_says(slack, ONE_TEAM)
            untouched = customer_says(slack, "The export to CSV has been broken since Monday.")
            assert (await first.send(flag_by_reaction(crashed))).status == 200
            assert (await first.send(flag_by_reaction(untouched))).status == 200
            slack.delay("conversations.history", 0.2)
            task = asyncio.create_task(first.runtime.worker.run_inbox())
            await slack.wait_for("conversations.history", 2, ok=None)
            await _crash(task)  # both events of the batch in flight, neither recorded
            slack.delay("conversations.history", 0)
            assert count(first, Flag) == 0
            owner = first.runtime.worker.owner

        async with Server(db_url, clock=clock, slack=slack) as second:
            await second.settle()
            # The dead process's lease holds both until it runs out: nobody else takes
            # them meanwhile, and nothing is lost.
            leased = second.query(select(InboxEvent).where(InboxEvent.status == "pending"))
            assert [(e.lease_owner, e.attempts) for e in leased] == [(owner, 1), (owner, 1)]
            assert cards_in(slack, "C0PRODUCT") == [] and cards_in(slack, "C0BILLING") == []

            clock.advance(LEASE + timedelta(seconds=1))
            await second.settle()
            events = second.query(select(InboxEvent).order_by(col(InboxEvent.id)))
            assert [(e.status, e.attempts) for e in events] == [("done", 2), ("done", 2)]
            assert count(second, Flag) == 2
            assert_each_card_once(second, ("C0BILLING", "C0PRODUCT"))
            assert len(slack.posted(CUSTOMERS)) == 2  # one notice per flag
    finally:
        await slack.stop()


async def test_a_post_in_flight_at_a_crash_is_not_doubled_after_restart(db_url: str) -> None:
    """The process dies after Slack accepted the card, before it was recorded."""
    slack = FakeSlack()
    await slack.start()
    clock = fake_clock(slack)
    try:
        async with Server(db_url, clock=clock, slack=slack, run_worker=False) as first:
            await flag_one(first, THREE_TEAMS)
            await first.runtime.worker.run_inbox()
            slack.delay("chat.postMessage", 0.2)
            worker = first.runtime.worker
            task = asyncio.create_task(worker.run_outbox())
            await slack.wait_for("chat.postMessage", ok=None)
            # The flag's rows are leased together (its cards, then its notice, in order);
            # each waiting row has its lease renewed before its turn (test_queue.py).
            held = first.query(
                select(OutboxMessage).where(OutboxMessage.lease_owner == worker.owner)
            )
            assert len(held) == 4
            await _crash(task)
            # Slack finishes the request it was given although nobody waits for the answer.
            for _ in range(100):
                if cards_in(slack, "C0BILLING"):
                    break
                await asyncio.sleep(0.01)
            slack.delay("chat.postMessage", 0)
            assert len(cards_in(slack, "C0BILLING")) == 1
            assert broadcast_of(first, "C0BILLING").message_id is None

        async with Server(db_url, clock=clock, slack=slack) as second:
            clock.advance(LEASE + timedelta(seconds=1))
            await second.settle()
            assert len(posts_to(slack, "C0BILLING")) == 1  # found by marker, not reposted
            assert_each_card_once(second, TEAM_CHANNELS)
            assert card_row(second, "C0BILLING").attempts == 2
            assert len(slack.posted(CUSTOMERS)) == 1
            assert all(r.status == "done" for r in outbox(second))
    finally:
        await slack.stop()


# ---------------------------------------------------------------------------- replicas


_STARTUP = threading.Lock()  # alembic's module-level proxies are not thread-safe


def _replica(db_url: str, slack: FakeSlack, ready: threading.Barrier, tally: list[int]) -> None:
    """One more `crosstalk serve` process: its own engine, event loop and Worker owner."""

    async def main() -> None:
        server = Server(db_url, slack=slack, run_worker=False)
        with _STARTUP:
            await server.__aenter__()
        try:
            worker = server.runtime.worker
            ready.wait(timeout=30)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                handled = await worker.run_inbox() + await worker.run_outbox()
                tally.append(handled)
                if handled == 0:
                    if server.pending(due_before=datetime.now(UTC) + timedelta(days=1)) == 0:
                        return
                    await asyncio.sleep(0.01)
        finally:
            await server.__aexit__(None, None, None)

    asyncio.run(main())


async def test_two_replicas_race_over_the_same_rows(db_url: str) -> None:
    """35 events (30 messages, 5 of them flagged twice) stored while no worker runs; then
    two replicas, each in its own thread, work through them at once."""
    texts = [
        "Please refund invoice {i}.",
        "Export {i} is broken.",
        "Our contract {i} needs a lawyer.",
        "Dashboard {i} is down and I was charged.",
        "Question {i} about onboarding.",
    ]
    async with Server(db_url, run_worker=False) as setup:
        slack = setup.slack
        messages = [customer_says(slack, texts[i % 5].format(i=i)) for i in range(30)]
        for ts in messages:
            assert (await setup.send(flag_by_reaction(ts))).status == 200
        for ts in messages[:5]:
            assert (await setup.send(flag_by_reaction(ts, user="U0BOB"))).status == 200
        assert count(setup, InboxEvent) == 35 and count(setup, Flag) == 0

        slack.delay("conversations.history", 0.005)  # let the replicas interleave
        ready = threading.Barrier(2)
        tallies: tuple[list[int], list[int]] = ([], [])
        await asyncio.gather(
            *(asyncio.to_thread(_replica, db_url, slack, ready, t) for t in tallies)
        )

        events = setup.query(select(InboxEvent))
        assert all(e.status == "done" for e in events)
        assert Counter(e.attempts for e in events) == {1: 35}  # none claimed twice
        assert count(setup, Flag) == 30 and count(setup, FlagFlagger) == 35
        rows = outbox(setup)
        assert all(r.status == "done" and r.attempts == 1 for r in rows)
        broadcasts = setup.query(select(Broadcast))
        assert len([r for r in rows if r.kind == "card_post"]) == len(broadcasts)
        assert len([r for r in rows if r.kind == "notice"]) == 30

        posted = slack.calls_to("chat.postMessage")
        assert all(c.ok for c in posted) and len(posted) == len(rows)
        markers = [c.args["metadata"]["event_payload"]["marker"] for c in posted]
        assert sorted(markers) == sorted(f"ct-{r.id}" for r in rows)  # each row once
        for b in broadcasts:
            assert b.message_id is not None
        per_channel = Counter(b.channel_id for b in broadcasts)
        for channel, expected in per_channel.items():
            assert len(cards_in(slack, channel)) == expected
        assert len(slack.posted(CUSTOMERS)) == 30
        assert sum(tallies[0]) > 0 and sum(tallies[1]) > 0, "both replicas did work"
        assert sum(tallies[0]) + sum(tallies[1]) == 35 + len(rows)


# ---------------------------------------------------------------------------- ordering


async def test_an_update_waits_for_a_card_another_replica_is_posting(db_url: str) -> None:
    """Replica B posts a card composed before the flag was resolved; replica A meanwhile
    takes that card's update: it must come back after the post, not drop the change."""
    server = Server(db_url, run_worker=False)
    clock = server.clock = fake_clock(server)
    async with server:
        a = server.runtime.worker
        b = Worker(db=a.db, org=a.org, gateways=a.gateways, clock=clock)
        assert a.owner != b.owner
        server.slack.fail_next("chat.postMessage", status=429)  # billing's card waits
        await flag_one(server, "I was charged twice and the app is broken.")
        await server.settle()
        eng = broadcast_of(server, "C0ENG")
        assert eng.message_id and broadcast_of(server, "C0BILLING").message_id is None

        clock.set(card_row(server, "C0BILLING").next_attempt_at)
        server.slack.delay("chat.postMessage", 0.3)
        in_flight = asyncio.create_task(b.run_outbox())  # B composes billing's card, posts
        await server.slack.wait_for("chat.postMessage", 4, ok=None)

        resolve = sr.block_action(
            "T0001", "U0EVE", "C0ENG", eng.message_id, "ct_resolve", str(eng.id),
            sr.new_trigger_id(), server.slack.response_url("resolve"), f"{time.time():.6f}",
        )  # fmt: skip
        assert (await server.send(resolve)).status == 200
        await a.run_outbox()  # A: both card updates; billing's card is still in flight
        waiting = [r for r in outbox(server, "card_update") if r.subject_id != eng.id]
        assert [(r.status, "not posted yet" in (r.last_error or "")) for r in waiting] == [
            ("pending", True)
        ]
        await in_flight
        server.slack.delay("chat.postMessage", 0)
        (card,) = cards_in(server.slack, "C0BILLING")
        assert "resolved" not in json.dumps(card["blocks"])  # B's card was composed before

        clock.set(max(r.next_attempt_at for r in outbox(server, "card_update")))
        await server.settle()
        (card,) = cards_in(server.slack, "C0BILLING")
        assert "resolved" in json.dumps(card["blocks"])
        assert len(posts_to(server.slack, "C0BILLING")) == 2  # the 429, then the one card
        assert all(r.status in ("done", "skipped") for r in outbox(server))


async def test_an_update_of_a_card_that_never_posted_is_dropped(db_url: str) -> None:
    server = Server(db_url, run_worker=False)
    server.clock = fake_clock(server)
    async with server:
        server.slack.fail_next("chat.postMessage", error="channel_not_found")
        await flag_one(server, "I was charged twice and the app is broken.")
        await server.settle()
        eng = broadcast_of(server, "C0ENG")
        assert eng.message_id is not None
        resolve = sr.block_action(
            "T0001", "U0EVE", "C0ENG", eng.message_id, "ct_resolve", str(eng.id),
            sr.new_trigger_id(), server.slack.response_url("resolve"), f"{time.time():.6f}",
        )  # fmt: skip
        assert (await server.send(resolve)).status == 200
        await server.settle()
        updates = {r.subject_id: r.status for r in outbox(server, "card_update")}
        assert updates == {broadcast_of(server, "C0BILLING").id: "skipped", eng.id: "skipped"}
        assert len(server.slack.calls_to("chat.update")) == 1


# ---------------------------------------------------------------------------- secrets


async def test_secrets_never_reach_the_logs(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    token = f"xoxb-{secrets.token_hex(12)}"
    slack = FakeSlack(token=token)
    await slack.start()
    caplog.set_level(logging.DEBUG)
    clock = fake_clock(slack)
    try:
        async with Server(db_url, clock=clock, slack=slack, run_worker=False) as server:
            slack.fail_next("chat.postMessage", status=429)
            slack.fail_next("chat.postMessage", status=500, after_effect=True)
            slack.fail_next("chat.postMessage", error="channel_not_found")
            await flag_one(server, THREE_TEAMS)
            await server.send(flag_by_reaction("1.0", retry_num=1))  # unknown message
            bad = flag_by_reaction("2.0")
            await server.send(SignedRequest(bad.body + b" ", bad.headers))  # bad signature
            for _ in range(5):
                await server.settle()
                clock.advance(timedelta(seconds=5))
        assert slack.calls and all(c.token == token for c in slack.calls)
        assert "chat.postMessage" in caplog.text  # the logs did see the traffic
        assert token not in caplog.text
        assert DEFAULT_SIGNING_SECRET not in caplog.text
    finally:
        await slack.stop()
