"""Socket Mode: with SLACK_APP_TOKEN the bot opens a websocket (apps.connections.open)
and handles the same events as over HTTP, acknowledged and de-duplicated the same way."""

from __future__ import annotations

from sqlmodel import select

from bot.demo.standins import slack_requests as rq
from bot.demo.standins.harness import Server
from bot.demo.standins.slack_api import FakeSlack
from bot.demo.standins.slack_socket import FakeSocketMode
from store.models import Flag, InboxEvent


async def test_socket_mode_flags_and_deduplicates(tmp_path: object) -> None:
    slack = FakeSlack()
    socket = FakeSocketMode()
    socket.install(slack)
    await slack.start()
    env: dict[str, str | None] = {"SLACK_APP_TOKEN": socket.app_token, "SLACK_SIGNING_SECRET": None}
    try:
        async with Server(f"sqlite:///{tmp_path}/s.db", slack=slack, env=env) as server:
            await socket.connected.wait()
            assert socket.opens == 1
            opened = slack.calls_to("apps.connections.open")
            assert opened[0].token == socket.app_token

            ts = slack.add_message(
                "C0CUSTOMERS", "We were charged twice on the last invoice", "U0SAM"
            )
            body = rq.event_reaction_added(
                "T0001", "U0ANN", "mega", "C0CUSTOMERS", ts, "U0SAM", slack.next_ts()
            ).payload()
            first = await socket.send("events_api", body)
            await socket.wait_ack(first)
            again = await socket.send("events_api", body, retry_attempt=1)
            await socket.wait_ack(again)
            await server.settle()

            flags = server.query(select(Flag))
            assert [(f.channel_id, f.message_id, f.flagger_id) for f in flags] == [
                ("C0CUSTOMERS", ts, "U0ANN")
            ]
            assert len(server.query(select(InboxEvent))) == 1
            assert len(slack.posted(channel="C0BILLING")) == 1

            # The HTTP endpoint is off without a signing secret.
            assert server.http is not None
            async with server.http.post(server.url + "/slack/events", data=b"{}") as resp:
                assert resp.status in (404, 405)
    finally:
        await slack.stop()


async def test_socket_mode_ignores_unclaimed_workspaces(tmp_path: object) -> None:
    slack = FakeSlack()
    socket = FakeSocketMode()
    socket.install(slack)
    await slack.start()
    env: dict[str, str | None] = {"SLACK_APP_TOKEN": socket.app_token}
    try:
        async with Server(f"sqlite:///{tmp_path}/s.db", slack=slack, env=env) as server:
            ts = slack.add_message("C0CUSTOMERS", "refund please", "U0SAM")
            body = rq.event_reaction_added(
                "T0OTHER", "U0ANN", "mega", "C0CUSTOMERS", ts, "U0SAM", slack.next_ts()
            ).payload()
            await socket.wait_ack(await socket.send("events_api", body))
            await server.settle()
            assert server.query(select(InboxEvent)) == []
            assert server.query(select(Flag)) == []
    finally:
        await slack.stop()
