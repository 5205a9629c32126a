"""Hostile input, signed so that it reaches the handlers: every endpoint answers with a
clear 4xx, or a 200 that ignores what Slack would otherwise resend; never a 500, never a
traceback in the log. A seeded, bounded property-based run (hypothesis); bench/fuzz.py
runs 10,000 cases and prints the counts by status."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings

from bot.demo.standins import teams_activities as ta
from bot.demo.standins.bot_connector import BotConnector
from bot.demo.standins.harness import Server
from tests.fakes import fuzz

EXAMPLES = 300


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_fuzzed_requests_never_get_a_500(
    tmp_path: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    connector = BotConnector()
    server = Server(f"sqlite:///{tmp_path}/fuzz.db", config_toml=ta.MIXED_ORG_TOML, teams=connector)
    async with server:
        loop = asyncio.get_running_loop()
        statuses: Counter[int] = Counter()
        strategy = fuzz.cases(fuzz.slack_templates(server), fuzz.teams_templates(connector))

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def check(case: fuzz.Case) -> None:
            status = asyncio.run_coroutine_threadsafe(fuzz.send(server, case), loop).result(30)
            statuses[status] += 1
            assert status < 500, (status, case)

        await asyncio.to_thread(check)
        await server.settle()
        assert statuses and all(s < 500 for s in statuses)
        assert tracebacks(caplog) == []


@pytest.mark.parametrize("path", ["/slack/events", "/api/outcomes", "/api/messages"])
async def test_deeply_nested_json_is_a_400_before_anything_else(db_url: str, path: str) -> None:
    connector = BotConnector()
    async with Server(db_url, config_toml=ta.MIXED_ORG_TOML, teams=connector) as server:
        assert server.http is not None
        headers = {"Content-Type": "application/json", "Authorization": "Bearer test-token"}
        if path == "/slack/events":
            ts = int(server.runtime.clock.now().timestamp())
            headers.update(fuzz.sr.sign(fuzz.sr.DEFAULT_SIGNING_SECRET, fuzz.DEEP, ts))
        async with server.http.post(server.url + path, data=fuzz.DEEP, headers=headers) as r:
            assert r.status in (400, 401)


async def test_a_400_digit_slack_timestamp_is_a_401(db_url: str) -> None:
    async with Server(db_url) as server:
        assert server.http is not None
        headers = {"X-Slack-Request-Timestamp": "9" * 400, "X-Slack-Signature": "v0=00"}
        async with server.http.post(server.url + "/slack/events", data=b"{}", headers=headers) as r:
            assert r.status == 401
