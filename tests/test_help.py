"""Asking for help gets it: `/roi help` answers the /roi help text (not "'help' is not a
period"), and `@Crosstalk help` answers what the bot can do, on Slack and on Teams."""

from __future__ import annotations

from bot.demo.standins import slack_requests as sr
from bot.demo.standins import teams_activities as ta
from bot.demo.standins.bot_connector import BotConnector
from bot.demo.standins.harness import Server
from bot.handlers.roi.view import HELP
from tests.adapters.teams.test_teams_capture import install, seed, teams_server
from tests.adapters.teams.test_teams_commands import ask

CUSTOMERS = "C0CUSTOMERS"


async def roi(server: Server, text: str) -> dict[str, object]:
    request = sr.slash_command(
        "T0001",
        "U0MGR",
        "C0GENERAL",
        "/roi",
        text,
        server.slack.response_url("mgr"),
        sr.new_trigger_id(),
    )
    assert server.http is not None
    async with server.http.post(
        server.url + "/slack/events", data=request.body, headers=request.headers
    ) as resp:
        assert resp.status == 200
        body: dict[str, object] = await resp.json()
        return body


async def test_roi_help_on_slack(db_url: str) -> None:
    async with Server(db_url) as server:
        for asked in ("help", "HELP", "?"):
            answer = await roi(server, asked)
            assert answer == {"response_type": "ephemeral", "text": HELP}
        assert "is not a period" not in HELP
        assert HELP.endswith(
            "Usage: /roi [7d|30d|90d|quarter|2026-Q3|2026-10-01..2026-10-31] [team]"
        )
        assert server.slack.responses["mgr"] == []  # no report computed


async def test_mention_help_on_slack(db_url: str) -> None:
    async with Server(db_url) as server:
        server.slack.channels[CUSTOMERS]["members"].append("U0ANN")
        ts = server.slack.next_ts()
        mention = sr.event_app_mention("T0001", CUSTOMERS, "U0ANN", "<@UBOT> help", ts)
        assert (await server.send(mention)).status == 200
        await server.settle()
        (helped,) = server.slack.ephemeral
    assert (helped["channel"], helped["user"]) == (CUSTOMERS, "U0ANN")
    text = str(helped["text"])
    assert text.startswith("Crosstalk shares what customers say with every team it concerns.")
    assert ":mega:" in text and "`@Crosstalk flag`" in text and "`/roi" in text
    assert "Record outcome" in text and "weekly digest" in text


async def test_mention_help_on_teams(db_url: str) -> None:
    async with BotConnector() as connector:
        seed(connector)
        async with teams_server(db_url, connector) as server:
            await install(server, connector)
            helped = await ask(server, connector, "help", ta.LIZ)
    assert helped.text.startswith("Crosstalk shares what customers say")
    assert "@Crosstalk roi" in helped.text and "Flag for stakeholders" in helped.text
