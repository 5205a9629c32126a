"""The processes the benchmark talks to, each on its own interpreter and event loop, so the
load generator, Slack's stand-in and the server under test do not share a loop (or, with
enough cores, a CPU). Each runs `serve_*` in a spawned process and answers commands sent
over a pipe: the parent sends `(command, arg)` and reads one reply per command.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult
from sqlalchemy import func
from sqlmodel import col, select

from bench.stream import CustomerMessage, Thread
from bot.core.clock import SystemClock
from bot.demo.org import CHANNELS, USERS
from bot.demo.standins.harness import Server
from bot.demo.standins.slack_api import FakeSlack
from bot.demo.standins.slack_requests import DEFAULT_SIGNING_SECRET
from store.models import Broadcast, Flag, InboxEvent, Interpretation, OutboxMessage

Commands = dict[str, Callable[[Any], Awaitable[Any]]]


async def _serve(conn: Connection, hello: Any, commands: Commands) -> None:
    conn.send(hello)
    while True:
        command, arg = await asyncio.to_thread(conn.recv)
        if command == "stop":
            conn.send(None)
            return
        conn.send(await commands[command](arg))


class Usage:
    """CPU time and garbage-collector pauses of this process since the last reading."""

    def __init__(self) -> None:
        self.longest_pause = 0.0
        self._started = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.longest_pause = max(self.longest_pause, time.perf_counter() - self._started)

    async def read(self, _: Any) -> tuple[float, float]:
        """(CPU seconds so far, longest GC pause in seconds since the last read)."""
        pause, self.longest_pause = self.longest_pause, 0.0
        return time.process_time(), pause


def _settled() -> Usage:
    """As `crosstalk serve` does once started (bot/cli.py): what exists now lives as long
    as the process, and full collections skip it."""
    gc.collect()
    gc.freeze()
    return Usage()


# ---------------------------------------------------------------------------- Slack


def serve_slack(conn: Connection, customers: list[CustomerMessage]) -> None:
    asyncio.run(_slack(conn, customers))


async def _slack(conn: Connection, customers: list[CustomerMessage]) -> None:
    async with FakeSlack() as slack:
        for cid, name in CHANNELS.items():
            slack.add_channel(cid, name, is_ext_shared=cid == "C0SHARED")
        for uid, name in USERS.items():
            slack.add_user(uid, uid.lower(), name)
        for m in customers:
            slack.add_message(m.channel, m.text, user="U0SAM", ts=m.ts)

        async def calls(_: Any) -> int:
            return len(slack.calls)

        await _serve(conn, slack.base_url, {"calls": calls})


class RemoteSlack(FakeSlack):
    """A FakeSlack served by another process: the harness only needs its address."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self._base_url = base_url

    @property
    def base_url(self) -> str:
        return self._base_url

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


# ---------------------------------------------------------------------------- Crosstalk


def serve_crosstalk(conn: Connection, db_url: str, slack_url: str, worker: bool) -> None:
    asyncio.run(_crosstalk(conn, db_url, slack_url, worker))


def _counts(server: Server) -> dict[str, int]:
    def count(stmt: Any) -> int:
        return int(server.query(stmt)[0])

    return {
        "inbox": count(select(func.count()).select_from(InboxEvent)),
        "flags": count(select(func.count()).select_from(Flag)),
        "broadcasts": count(select(func.count()).select_from(Broadcast)),
        "cards_posted": count(select(func.count()).where(col(Broadcast.message_id).is_not(None))),
        "interpretations": count(select(func.count()).select_from(Interpretation)),
        "outbox_done": count(
            select(func.count()).where(col(OutboxMessage.status).in_(("done", "skipped")))
        ),
        "outbox_retried": count(
            select(func.count()).where(col(OutboxMessage.last_error).is_not(None))
        ),
        "inbox_done": count(select(func.count()).where(col(InboxEvent.status) == "done")),
        "inbox_not_done": count(select(func.count()).where(col(InboxEvent.status) != "done")),
    }


async def _crosstalk(conn: Connection, db_url: str, slack_url: str, worker: bool) -> None:
    remote = RemoteSlack(slack_url)
    # A benchmark runs on the wall clock, as production does (the test harness's default
    # is a frozen fake clock, which would refuse these requests' signing times).
    clock = SystemClock()
    async with Server(
        db_url, slack=remote, seed_slack=False, run_worker=worker, clock=clock
    ) as server:

        async def drain(within: float) -> dict[str, Any]:
            """Wait, without driving the worker, until it has done all the stored work."""
            start = time.perf_counter()
            if not server.run_worker:
                return {"seconds": 0.0, "pending": server.pending()}
            deadline = start + within
            worker = server.runtime.worker
            while True:
                await worker.drain(wait=within)
                if server.pending() == 0 and not worker._tasks:
                    break
                if time.perf_counter() > deadline:
                    break
                await asyncio.sleep(0.01)
            return {"seconds": time.perf_counter() - start, "pending": server.pending()}

        async def threads(_: Any) -> list[Thread]:
            rows = server.query(
                select(Broadcast.channel_id, Broadcast.message_id, Flag.flagger_id)
                .join(Flag, col(Flag.id) == col(Broadcast.flag_id))
                .where(col(Broadcast.message_id).is_not(None))
            )
            return [Thread(channel, ts, flagger) for channel, ts, flagger in rows]

        async def counts(_: Any) -> dict[str, int]:
            return _counts(server)

        await _serve(
            conn,
            server.url,
            {
                "drain": drain,
                "threads": threads,
                "counts": counts,
                "usage": _settled().read,
            },
        )


# ---------------------------------------------------------------------------- bare Bolt


def serve_bare(conn: Connection) -> None:
    asyncio.run(_bare(conn))


def bare_app() -> web.Application:
    """Bolt with nothing of ours: it verifies the signature, authorizes from a constant,
    dispatches, and its listeners only acknowledge."""

    async def authorize(**_: Any) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=None,
            team_id="T0001",
            bot_user_id="UBOT",
            bot_id="BBOT",
            bot_token="xoxb-test",
        )

    bolt = AsyncApp(
        signing_secret=DEFAULT_SIGNING_SECRET, authorize=authorize, process_before_response=True
    )

    @bolt.event("message")
    async def on_message(ack: AsyncAck) -> None:
        await ack()

    @bolt.event("reaction_added")
    async def on_reaction(ack: AsyncAck) -> None:
        await ack()

    async def handle(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application(client_max_size=1_000_000)
    app.router.add_post("/slack/events", handle)
    return app


async def _bare(conn: Connection) -> None:
    runner = web.AppRunner(bare_app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        await _serve(conn, url, {"usage": _settled().read})
    finally:
        await runner.cleanup()
