"""Exactly once with real processes (SPEC "Scale"): `crosstalk serve` replicas with their
schedulers on, sharing one database and one FakeSlack, each run the due checks at start;
every digest, reminder and escalation reaches Slack once. Then one replica is stopped and
started again: its catch-up check sends nothing a second time.

Each process lives on the test's calendar: CROSSTALK_CLOCK_START starts its clock at
serving.START (a Monday 09:00 UTC), whatever today is. The config sets each team's digest
time to two minutes before that, and the data sits in the ISO week that digest covers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel import Session, col, func, select

from bot.core.timecalc import iso_week_bounds
from bot.demo.org import CHANNELS, USERS
from bot.demo.standins.serving import START
from bot.demo.standins.slack_api import FakeSlack
from bot.demo.standins.slack_requests import DEFAULT_SIGNING_SECRET
from bot.handlers.digest.weeks import WeeklyTime, last_send, week_before
from config.load import parse_config
from store.db import make_engine, upgrade
from store.models import OutboxMessage
from store.orgs import sync_org
from tests.fakes.core_loop import all_text
from tests.test_scheduler import seed_broadcast

ROOT = Path(__file__).resolve().parent.parent
TEAMS = {"billing": ("Billing", "C0BILLING"), "success": ("Customer Success", "C0SUCCESS")}


def config_toml(when: str) -> str:
    teams = "".join(
        f'\n[[teams]]\nkey = "{key}"\nname = "{name}"\nslack_channel = "{channel}"\n'
        f'members = ["U0BOB"]\nsla = "1h"\ndigest = "{when}"\n'
        for key, (name, channel) in TEAMS.items()
    )
    return (
        '[org]\nname = "Acme"\ntimezone = "UTC"\nslack_team_ids = ["T0001"]\n'
        'business_hours = "24/7"\n' + teams + '\n[roi]\nmanagers = ["U0MGR"]\n'
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Replica:
    """One `crosstalk serve` process (python -m bot.cli), its log in a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "serve", "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    async def ran_due_checks(self, http: aiohttp.ClientSession, within: float = 15.0) -> None:
        """Wait until this process is up and its scheduler ran every named job once."""
        deadline = time.monotonic() + within
        while True:
            assert self.proc is not None and self.proc.poll() is None, self.log.read_text()
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{self.port}/healthz") as resp:
                    body: dict[str, Any] = await resp.json()
                    runs = body["scheduler"]["last_run"]
                    if {"weekly_digests", "sla_nudges"} <= set(runs):
                        assert body["scheduler"]["errors"] == {}
                        return
            assert time.monotonic() < deadline, self.log.read_text()[-3000:]
            await asyncio.sleep(0.1)


@dataclass
class Scenario:
    env: dict[str, str]  # of every replica
    week: str  # the ISO week the digests cover
    cards: list[tuple[str, str]]  # (channel, ts) of each unanswered card


@pytest.fixture
def scenario(db_url: str, tmp_path: Path) -> Scenario:
    now = START
    when = (now - timedelta(minutes=2)).strftime("%a %H:%M").lower()
    week = week_before(last_send(WeeklyTime.parse(when), UTC, now), UTC)
    toml = config_toml(when)
    (tmp_path / "crosstalk.toml").write_text(toml, encoding="utf-8")
    engine = make_engine(db_url)
    upgrade(engine)
    with Session(engine) as s:
        ids = sync_org(s, parse_config(toml))
        s.commit()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    env.update(
        CROSSTALK_DATABASE_URL=db_url,
        CROSSTALK_CONFIG=str(tmp_path / "crosstalk.toml"),
        SLACK_SIGNING_SECRET=DEFAULT_SIGNING_SECRET,
        CROSSTALK_CLOCK_START=START.isoformat(),
        PYTHONUNBUFFERED="1",
    )
    start, _ = iso_week_bounds(week, UTC)
    cards = []
    for n, (key, (_, channel)) in enumerate(TEAMS.items()):
        posted = start + timedelta(days=1, hours=n)
        cards.append((channel, f"{posted.timestamp():.6f}"))
        seed_broadcast(engine, ids, key, posted, channel=channel, message_id=cards[-1][1])
    engine.dispose()
    return Scenario(env, week, cards)


@contextlib.asynccontextmanager
async def fake_slack(scenario: Scenario) -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as slack:
        for cid, name in CHANNELS.items():
            slack.add_channel(cid, name)
        for uid, name in USERS.items():
            slack.add_user(uid, uid.lower(), name)
        for channel, ts in scenario.cards:
            slack.add_message(channel, "a card", user="UBOT", ts=ts)
        scenario.env.update(SLACK_BOT_TOKEN=slack.token, SLACK_API_URL=slack.api_url)
        yield slack


def pending(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            stmt = select(func.count()).where(col(OutboxMessage.status) == "pending")
            return int(s.exec(stmt).one())
    finally:
        engine.dispose()


async def all_sent(db_url: str, slack: FakeSlack, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while pending(db_url) or not slack.calls_to("chat.postMessage"):
        assert time.monotonic() < deadline, f"{pending(db_url)} outbox rows still pending"
        await asyncio.sleep(0.1)


def what_slack_shows(slack: FakeSlack) -> Counter[str]:
    seen: Counter[str] = Counter()
    for m in slack.posted():
        text = all_text(m)
        if "Weekly digest —" in text or "Org digest —" in text:
            seen[m["blocks"][0]["text"]["text"]] += 1
        elif text.startswith("⏰"):
            seen[f"reminder in {m['channel']}:{m['thread_ts']}"] += 1
        elif "⏫" in text:
            seen[f"escalation: {m['blocks'][0]['text']['text']}"] += 1
    return seen


async def test_replicas_and_a_restart_send_everything_once(
    db_url: str, scenario: Scenario, tmp_path: Path
) -> None:
    week = scenario.week
    # Two processes share PostgreSQL; the embedded SQLite default is one process.
    count = 1 if db_url.startswith("sqlite") else 2
    async with fake_slack(scenario) as slack, aiohttp.ClientSession() as http:
        replicas = [Replica(scenario.env, tmp_path / f"replica{i}.log") for i in range(count)]
        try:
            for replica in replicas:
                replica.start()
            for replica in replicas:
                await replica.ran_due_checks(http)
            await all_sent(db_url, slack)
            first = what_slack_shows(slack)
            assert first[f"📰 Weekly digest — Billing, {week}"] == 1
            assert first[f"📰 Weekly digest — Customer Success, {week}"] == 1
            for channel, ts in scenario.cards:  # 1 h SLA, 24/7, posted days ago
                assert first[f"reminder in {channel}:{ts}"] == 1
            assert first["escalation: ⏫ Billing has not answered a flagged conversation"] == 1
            assert set(first.values()) == {1}, first

            replicas[0].stop()
            replicas[0].start()
            await replicas[0].ran_due_checks(http)
            await all_sent(db_url, slack)
            await asyncio.sleep(0.3)  # anything queued at start would have been sent by now
            assert what_slack_shows(slack) == first
        finally:
            for replica in replicas:
                replica.stop()
