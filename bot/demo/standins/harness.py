"""Run the real Crosstalk server on 127.0.0.1 against a FakeSlack, and talk to it over
HTTP with signed requests. Used by the tests, `crosstalk demo` and the benchmarks."""

from __future__ import annotations

import asyncio
import contextlib
from contextvars import Token
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web
from sqlalchemy import or_
from sqlmodel import Session, col, func, select

from bot.app import create_app
from bot.core.clock import Clock
from bot.demo.org import CHANNELS, ORG_TOML, USERS
from bot.demo.standins.bot_connector import BotConnector
from bot.demo.standins.serving import request_clock, start_clock
from bot.demo.standins.slack_api import FakeSlack
from bot.demo.standins.slack_requests import DEFAULT_SIGNING_SECRET, SignedRequest
from bot.runtime import Runtime, build_runtime
from config.load import parse_config
from config.settings import Settings
from store.db import make_engine, upgrade
from store.models import InboxEvent, OutboxMessage


class Server:
    """`async with Server(db_url) as server:` — FakeSlack + the app on a free port.

    `clock`: the server's time (by default one frozen at serving.START, a Monday 09:00 UTC,
    until the test moves it). While the server runs, FakeSlack's `ts`, the Bot Connector's
    ids and every request built without an explicit time (signed Slack requests, Teams
    activities) follow it, unless a test gave that stand-in a time of its own.
    `run_worker=False`: no worker runs, so stored events and queued side effects wait
    until the test calls `settle()` (or drives `server.runtime.worker` itself).
    `run_scheduler=True`: the scheduled jobs run too (APScheduler fires on the wall clock;
    what a job does is decided on `clock`)."""

    def __init__(
        self,
        db_url: str,
        *,
        config_toml: str = ORG_TOML,
        clock: Clock | None = None,
        slack: FakeSlack | None = None,
        run_worker: bool = True,
        run_scheduler: bool = False,
        seed_slack: bool = True,
        env: dict[str, str | None] | None = None,
        teams: BotConnector | None = None,
        teams_credentials: Any = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.db_url = db_url
        self.config_toml = config_toml
        self.clock: Clock = clock or start_clock()
        self.slack = slack or FakeSlack()
        self._own_slack = slack is None
        self.run_worker = run_worker
        self.run_scheduler = run_scheduler
        self.seed_slack = seed_slack
        self.env = env or {}
        # Teams: the Bot Connector stand-in the server answers (its serviceUrl goes in the
        # activities sent) and reads through (Graph); `teams_credentials` replaces the Bot
        # Framework credentials factory; `host` is the address create_app is told about.
        self.teams = teams
        self._own_teams = teams is not None and not teams.started
        self.teams_credentials = teams_credentials
        self.host = host
        self.port = port  # 0: a free one, chosen by the OS (`crosstalk demo --serve` picks one)
        self._runner: web.AppRunner | None = None
        self.http: aiohttp.ClientSession | None = None
        self.url = ""
        self.runtime: Runtime
        self._dated: Token[Clock | None] | None = None

    async def __aenter__(self) -> Self:
        if not self.slack.clock_given:
            self.slack.follow(self.clock)
        if self.teams is not None and not self.teams.clock_given:
            self.teams.follow(self.clock)
        await self.slack.start()
        if self.teams is not None:
            await self.teams.start()
        if self.seed_slack:
            for cid, name in CHANNELS.items():
                if cid not in self.slack.channels:
                    self.slack.add_channel(cid, name, is_ext_shared=cid == "C0SHARED")
            for uid, name in USERS.items():
                if uid not in self.slack.users:
                    self.slack.add_user(uid, uid.lower(), name)
        values: dict[str, str | None] = {
            "CROSSTALK_DATABASE_URL": self.db_url,
            "SLACK_BOT_TOKEN": self.slack.token,
            "SLACK_SIGNING_SECRET": DEFAULT_SIGNING_SECRET,
            "SLACK_API_URL": self.slack.api_url,
            **self._teams_env(),
            **self.env,
        }
        settings = Settings.model_validate({k: v for k, v in values.items() if v is not None})
        engine = make_engine(self.db_url)
        upgrade(engine)
        config = parse_config(self.config_toml, "test.toml")
        self.runtime = build_runtime(settings, config, engine=engine, clock=self.clock)
        app = create_app(
            self.runtime,
            run_worker=self.run_worker,
            run_scheduler=self.run_scheduler,
            host=self.host,
            teams_credentials=self.teams_credentials,
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self.http = aiohttp.ClientSession()
        self._dated = request_clock.set(self.clock)
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.http:
            await self.http.close()
        if self._runner:
            await self._runner.cleanup()
        self.runtime.engine.dispose()
        if self._own_slack:
            await self.slack.stop()
        if self.teams is not None and self._own_teams:
            await self.teams.stop()
        if self._dated is not None:
            with contextlib.suppress(ValueError):  # left in another context than entered
                request_clock.reset(self._dated)
            self._dated = None

    def now_ts(self) -> str:
        """Now on the server's clock as a Slack ``ts`` (an action's or a reaction's
        ``event_ts``), later than every ``ts`` FakeSlack gave so far."""
        return self.slack.next_ts()

    def _teams_env(self) -> dict[str, str | None]:
        if self.teams is None:
            return {}
        return {"CROSSTALK_TEAMS_GRAPH_URL": self.teams.graph_url}

    async def send_activity(
        self, activity: dict[str, Any], *, token: str | None = None, headers: Any = None
    ) -> tuple[int, Any]:
        """POST a Teams activity to /api/messages (with `Authorization: Bearer <token>`);
        the status and the JSON answer (None when there is none)."""
        assert self.http is not None
        sent = {"Authorization": f"Bearer {token}"} if token else {}
        sent.update(headers or {})
        async with self.http.post(self.url + "/api/messages", json=activity, headers=sent) as r:
            text = await r.text()
            return r.status, (await r.json(content_type=None)) if text else None

    async def send(
        self, request: SignedRequest, path: str = "/slack/events"
    ) -> aiohttp.ClientResponse:
        """POST a signed request; the body is read so the response can be inspected."""
        assert self.http is not None
        async with self.http.post(
            self.url + path, data=request.body, headers=request.headers
        ) as resp:
            await resp.read()
            return resp

    async def settle(self, within: float = 10.0) -> None:
        """Wait until every stored event is handled and every due side effect is done."""
        deadline = asyncio.get_running_loop().time() + within
        worker = self.runtime.worker
        while True:
            await worker.drain()
            await worker.run_inbox()
            await worker.run_outbox()
            if self.pending() == 0:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{self.pending()} queued rows still pending after {within}s")
            await asyncio.sleep(0.02)

    def pending(self, *, due_before: datetime | None = None) -> int:
        """Due rows this server could work on: a row leased by another worker (a crashed
        process, another replica) is not this server's until that lease runs out."""
        now = due_before or self.runtime.clock.now()
        owner = self.runtime.worker.owner
        with Session(self.runtime.engine) as s:
            total = 0
            for model in (InboxEvent, OutboxMessage):
                stmt = select(func.count()).where(
                    col(model.status) == "pending",
                    col(model.next_attempt_at) <= now,
                    or_(
                        col(model.lease_until).is_(None),
                        col(model.lease_until) < now,
                        col(model.lease_owner) == owner,
                    ),
                )
                total += int(s.exec(stmt).one())
            return total

    def query(self, stmt: Any) -> list[Any]:
        with Session(self.runtime.engine) as s:
            return list(s.exec(stmt).all())


def sqlite_url(tmp_path: Any) -> str:
    return f"sqlite:///{tmp_path}/crosstalk.db"
