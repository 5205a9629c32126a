"""Names in the config (#channel, @person, e-mail, @user-group): `config check` accepts them
offline and says they will be resolved; `crosstalk serve` resolves them through Slack (the
stand-in, over HTTP) before it stores or uses the config, refuses to start with one line
naming the key when one is not found, and makes no lookup at all for a config of ids."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import Session, select

from bot.cli import main
from bot.demo.standins import slack_requests as sr
from bot.demo.standins.serving import START
from bot.demo.standins.slack_api import FakeSlack
from config.load import ConfigError, parse_config
from store.db import make_engine
from store.models import Member, Team

ROOT = Path(__file__).resolve().parent.parent
LOOKUPS = ("conversations.list", "users.list", "users.lookupByEmail", "usergroups.list")
NAMED = """
[org]
name = "Acme"
slack_team_ids = ["T0001"]
[[teams]]
key = "billing"
name = "Billing"
slack_channel = "#Billing"
members = ["@bob", "bob@acme.com", "U0BOB", "@Bea Lane"]
slack_usergroup = "@billing-team"
[[teams]]
key = "product"
name = "Product"
slack_channel = "C0PRODUCT"
teams_channel = "https://teams.microsoft.com/l/channel/19%3aab12cd%40thread.tacv2/General?groupId=1"
members = ["U0PAM"]
[[routes]]
keywords = ["invoice"]
channels = ["#customers", "C0VIP"]
teams = ["billing"]
[digest]
managers_channel = "#leaders"
[roi]
managers = ["mia@acme.com", "U0MGR"]
"""
IDS = NAMED.replace('"#Billing"', '"C0BILLING"').replace(
    '["@bob", "bob@acme.com", "U0BOB", "@Bea Lane"]', '["U0BOB", "U0BEA"]'
)
IDS = (
    IDS.replace('"@billing-team"', '"S0BILL"')
    .replace('"#customers"', '"C0CUSTOMERS"')
    .replace('"#leaders"', '"C0LEADERS"')
    .replace('"mia@acme.com"', '"U0MIA"')
)


def test_config_check_accepts_names_and_says_they_will_be_resolved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "crosstalk.toml"
    path.write_text(NAMED)
    assert main(["config", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "OK (Acme: 2 teams, 1 routes)" in out
    assert "8 names will be resolved through Slack at start: #Billing, @billing-team, @bob" in out
    assert "(e-mails need the users:read.email scope)" in out
    product = parse_config(NAMED).team("product")
    assert product is not None and product.teams_channel == "19:ab12cd@thread.tacv2"
    path.write_text(IDS)
    assert main(["config", "check", str(path)]) == 0
    assert "resolved" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('"#Billing"', '"billing"', "teams[0] (billing).slack_channel: 'billing' is neither a"),
        ('"#Billing"', '"billing"', 'at the bottom of the channel\'s details ("Channel ID")'),
        ('"@bob", ', '"bob", ', "teams[0] (billing).members[0]: 'bob' is neither a Slack user"),
        ('"@billing-team"', '"billing"', "slack_usergroup: 'billing' is neither a Slack user"),
        ('"#leaders"', '"leaders"', "digest.managers_channel: 'leaders' is neither"),
        ("[digest]", '[digest]\nmanagers_teams_channel = "Leaders"', "cannot be looked up by"),
        ("https://teams", "#general", 'channel\'s ⋯ menu → "Get link to channel"'),
    ],
)
def test_what_cannot_be_a_name_is_refused_with_how_to_find_the_id(
    old: str, new: str, problem: str
) -> None:
    text = NAMED.replace(old, new, 1)
    assert text != NAMED
    with pytest.raises(ConfigError) as info:
        parse_config(text, "x.toml")
    assert any(problem in p for p in info.value.problems), info.value.problems


def _read(log: Path) -> str:
    return log.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def workspace() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as slack:
        for n in range(230):  # more than one page of conversations.list
            slack.add_channel(f"C1{n:04d}", f"random-{n}")
        slack.add_channel("C0BILLING", "billing")
        slack.add_channel("C0CUSTOMERS", "customers")
        slack.add_channel("G0LEADERS", "leaders", is_private=True, members=["UBOT", "U0MIA"])
        slack.add_channel("G0OTHER", "private-elsewhere", is_private=True, members=["U0MIA"])
        slack.add_user("U0BOB", "bob", "Bob Stone", email="bob@acme.com")
        slack.add_user("U0BEA", "bea", "Bea Lane", display_name="")
        slack.add_user("U0MIA", "mia", "Mia Park", email="Mia@Acme.com")
        slack.add_usergroup("S0BILL", ["U0BOB", "U0BEA"], handle="billing-team")
        yield slack


def _env(slack: FakeSlack, tmp_path: Path, toml: str) -> dict[str, str]:
    (tmp_path / "crosstalk.toml").write_text(toml, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    env.update(
        CROSSTALK_DATABASE_URL=f"sqlite:///{tmp_path}/crosstalk.db",
        CROSSTALK_CONFIG=str(tmp_path / "crosstalk.toml"),
        CROSSTALK_CLOCK_START=START.isoformat(),
        SLACK_BOT_TOKEN=slack.token,
        SLACK_SIGNING_SECRET=sr.DEFAULT_SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
        PYTHONUNBUFFERED="1",
    )
    return env


@contextlib.asynccontextmanager
async def serving(env: dict[str, str], log: Path) -> AsyncIterator[int]:
    """`crosstalk serve` in a subprocess, up (healthz answers) on the port yielded."""
    port = _free_port()
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "serve", "--port", str(port), cwd=ROOT, env=env,
            stdout=out, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as http:
            while True:
                assert proc.returncode is None, _read(log)
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        if resp.status in (200, 503):
                            break
                assert time.monotonic() < deadline, _read(log)
                await asyncio.sleep(0.1)
        yield port
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()


def _stored(env: dict[str, str]) -> dict[str, tuple[str | None, set[str]]]:
    engine = make_engine(env["CROSSTALK_DATABASE_URL"])
    try:
        with Session(engine) as s:
            teams = {t.id: t for t in s.exec(select(Team))}
            out = {t.key: (t.slack_channel, set[str]()) for t in teams.values()}
            for m in s.exec(select(Member).where(Member.source == "config")):
                out[teams[m.team_id].key][1].add(m.user_id)
            return out
    finally:
        engine.dispose()


async def test_serve_resolves_names_through_slack_before_using_them(tmp_path: Path) -> None:
    async with workspace() as slack:
        env = _env(slack, tmp_path, NAMED)
        async with serving(env, tmp_path / "serve.log") as port:
            stored = _stored(env)
            assert stored["billing"][0] == "C0BILLING"
            assert {"U0BOB", "U0BEA"} <= stored["billing"][1]
            assert stored["product"] == ("C0PRODUCT", {"U0PAM"})
            # a flag in #customers (a route's channel, by name) is broadcast to #billing's id
            ts = slack.add_message("C0CUSTOMERS", "We were charged twice on the invoice", "U0SAM")
            flag = sr.event_reaction_added(
                "T0001", "U0ANN", "mega", "C0CUSTOMERS", ts, "U0SAM", slack.next_ts()
            )
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    f"http://127.0.0.1:{port}/slack/events", data=flag.body, headers=flag.headers
                ) as resp,
            ):
                assert resp.status == 200
            deadline = time.monotonic() + 15
            while not slack.posted("C0BILLING"):
                assert time.monotonic() < deadline, _read(tmp_path / "serve.log")
                await asyncio.sleep(0.1)
    lists = [c for c in slack.calls if c.method == "conversations.list"]
    assert len(lists) == 2 and lists[1].args.get("cursor")  # paged, read once per start
    assert [c.args["email"] for c in slack.calls_to("users.lookupByEmail")] == [
        "bob@acme.com",
        "mia@acme.com",
    ]
    assert len(slack.calls_to("users.list")) == 1
    assert all(c.ok for c in slack.calls if c.method in LOOKUPS)


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        ('"@bob"', '"@bobb"', 'teams[0] (billing).members[0]: no Slack user "@bobb"'),
        ('"#leaders"', '"#leadrs"', 'digest.managers_channel: no Slack channel "#leadrs"'),
        (
            '"mia@acme.com"',
            '"mia@acme.co"',
            'roi.managers[0]: no Slack user with the e-mail "mia@acme.co"',
        ),
        ('"#customers"', '"#private-elsewhere"', 'routes[0].channels[0]: no Slack channel "#p'),
    ],
)
async def test_an_unknown_name_refuses_the_start_naming_its_key(
    tmp_path: Path, old: str, new: str, line: str
) -> None:
    async with workspace() as slack:
        env = _env(slack, tmp_path, NAMED.replace(old, new))
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "serve", "--port", str(_free_port()), cwd=ROOT,
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 2
    text = err.decode()
    assert text.strip().splitlines()[-1].startswith(f"crosstalk: {tmp_path}/crosstalk.toml: {line}")
    assert "Traceback" not in text and b"serving" not in out


async def test_ids_pass_through_with_no_lookup(tmp_path: Path) -> None:
    async with workspace() as slack:
        env = _env(slack, tmp_path, IDS)
        async with serving(env, tmp_path / "serve.log"):
            assert _stored(env)["billing"] == ("C0BILLING", {"U0BOB", "U0BEA"})
    assert not [c for c in slack.calls if c.method in LOOKUPS]


async def test_names_without_a_slack_token_refuse_the_start(tmp_path: Path) -> None:
    async with workspace() as slack:
        env = _env(slack, tmp_path, NAMED)
    del env["SLACK_BOT_TOKEN"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "serve", "--port", str(_free_port()), cwd=ROOT,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 2
    assert (
        "teams[0] (billing).slack_channel: '#Billing' is a Slack name, resolved through Slack at"
        " start, and SLACK_BOT_TOKEN is not set" in err.decode()
    )
    assert "Traceback" not in err.decode()
