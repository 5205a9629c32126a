"""The logs an operator reads: one line per flag and per posted card naming ids, in JSON
with CROSSTALK_LOG_FORMAT=json; no secret and no customer text in them, ever; third-party
noise (Bolt's constructor warnings, alembic's steps) gone."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.demo.org import ORG_TOML
from bot.demo.standins import slack_requests as sr
from bot.demo.standins.harness import Server
from bot.demo.standins.slack_api import FakeSlack
from bot.demo.standins.slack_requests import DEFAULT_SIGNING_SECRET
from bot.logs import JsonFormatter, configure

CUSTOMERS = "C0CUSTOMERS"
SECRET_TEXT = "Please refund invoice INV-7731, card 4111 1111 1111 1111, I was charged twice."
BOT_TOKEN = "xoxb-4242-secret-bot-token"
TEAMS_PASSWORD = "teams-app-password-Zq9"
API_TOKEN = "test-token"  # the demo config's [api] tokens


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The CLI's logging, JSON to a buffer, at the levels `crosstalk` sets (INFO, and
    WARNING for the libraries)."""
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = configure({"CROSSTALK_LOG_FORMAT": "json"}, stream=stream, force=True)
    try:
        yield stream
    finally:
        root.removeHandler(handler)  # type: ignore[arg-type]
        root.setLevel(level)


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def test_a_flag_end_to_end_logs_ids_and_no_secret(
    db_url: str, json_logs: io.StringIO
) -> None:
    env: dict[str, str | None] = {"MICROSOFT_APP_PASSWORD": TEAMS_PASSWORD}
    async with Server(db_url, slack=FakeSlack(token=BOT_TOKEN), env=env) as server:
        ts = server.slack.add_message(CUSTOMERS, SECRET_TEXT, user="U0SAM")
        request = sr.event_reaction_added(
            "T0001", "U0ANN", "mega", CUSTOMERS, ts, "U0SAM", server.now_ts()
        )
        assert (await server.send(request)).status == 200
        await server.settle()
        assert server.http is not None
        headers = {"Authorization": f"Bearer {API_TOKEN}"}
        body = {"source": {"platform": "slack", "channel": CUSTOMERS, "ts": ts}, "kind": "retained"}
        async with server.http.post(
            server.url + "/api/outcomes", json={**body, "amount": 10}, headers=headers
        ) as resp:
            assert resp.status == 201
        async with server.http.post(
            server.url + "/api/outcomes",
            json=body,
            headers={"Authorization": "Bearer guessed-token-x9"},
        ) as resp:
            assert resp.status == 401
        await server.settle()

    text = json_logs.getvalue()
    for secret in (
        BOT_TOKEN,
        DEFAULT_SIGNING_SECRET,
        TEAMS_PASSWORD,
        API_TOKEN,
        "guessed-token-x9",
    ):
        assert secret not in text
    for said in ("INV-7731", "4111", "charged twice"):
        assert said not in text
    logged = records(json_logs)
    assert all({"ts", "level", "logger", "message"} <= entry.keys() for entry in logged)
    (created,) = [e for e in logged if e.get("event") == "flag_created"]
    assert created["level"] == "INFO" and created["logger"] == "crosstalk.flag"
    assert created["message"].startswith(f"flag {created['flag_id']} created (reaction)")
    assert f"{CUSTOMERS}/{ts} by U0ANN, routed to billing" in created["message"]
    posted = [e for e in logged if e.get("event") == "broadcast_posted"]
    assert [e["flag_id"] for e in posted] == [created["flag_id"]]
    assert posted[0]["message"].startswith(f"broadcast {posted[0]['broadcast_id']} posted to")


def test_the_json_format_carries_extra_fields_and_tracebacks() -> None:
    record = logging.LogRecord("crosstalk.x", logging.ERROR, __file__, 1, "row %s", (7,), None)
    record.row_id = 7
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "row 7" and entry["row_id"] == 7
    assert entry["level"] == "ERROR" and entry["logger"] == "crosstalk.x"
    assert "RuntimeError: boom" in entry["exc_info"]


async def test_serving_slack_says_nothing_about_an_unused_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Bolt reads SLACK_BOT_TOKEN itself and warns twice that it goes unused; the client
    and `authorize` it names are given on purpose."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    caplog.set_level(logging.INFO)
    async with Server(f"sqlite:///{tmp_path}/t.db"):
        pass
    bolt = [r.getMessage() for r in caplog.records if r.name.startswith("crosstalk.bolt")]
    assert not [m for m in bolt if "token" in m]


def test_a_command_prints_no_library_chatter(tmp_path: Path) -> None:
    (tmp_path / "crosstalk.toml").write_text(ORG_TOML)
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "CROSSTALK_CLOCK_START": "2026-11-16T09:00:00+00:00"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "crosstalk: database is up to date\n"
    assert run.stderr == ""  # no `INFO alembic.runtime...` lines
