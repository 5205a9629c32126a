"""/roi in Slack and `crosstalk roi` in a terminal: managers only, a usage line for bad
words, the answer within Slack's 3 seconds (acknowledged first, figures after)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.demo.org import ORG_TOML
from bot.demo.standins import slack_requests as rq
from bot.demo.standins.harness import Server

STABLE_KEYS = {
    "org",
    "team",
    "period",
    "flags",
    "answer_rate",
    "resolution_rate",
    "tta",
    "ttfr",
    "cross_team_ttfr",
    "ttr",
    "sla_attainment",
    "satisfaction",
    "csat",
    "sentiment",
    "teams",
    "network",
    "maturity",
    "business",
    "objectives",
}


async def _flag_two(server: Server) -> None:
    slack = server.slack
    for text in ("We were charged twice on the invoice", "The export is broken again"):
        ts = slack.add_message("C0CUSTOMERS", text, "U0SAM")
        await server.send(
            rq.event_reaction_added(
                "T0001", "U0ANN", "mega", "C0CUSTOMERS", ts, "U0SAM", slack.next_ts()
            )
        )
    await server.settle()


async def _roi(server: Server, user: str, text: str, hook: str) -> dict[str, object]:
    request = rq.slash_command(
        "T0001",
        user,
        "C0GENERAL",
        "/roi",
        text,
        server.slack.response_url(hook),
        rq.new_trigger_id(),
    )
    assert server.http is not None
    async with server.http.post(
        server.url + "/slack/events", data=request.body, headers=request.headers
    ) as resp:
        assert resp.status == 200
        body: dict[str, object] = await resp.json()
        return body


async def test_a_manager_gets_the_report_after_the_ack(db_url: str) -> None:
    async with Server(db_url) as server:
        await _flag_two(server)
        ack = await _roi(server, "U0MGR", "30d", "mgr")
        assert ack == {"response_type": "ephemeral", "text": "Working out the figures…"}
        (answer,) = await server.slack.wait_for_response("mgr")
        assert answer["response_type"] == "ephemeral"
        text = json.dumps(answer["blocks"])
        assert "2 flags" in text
        assert "not enough data yet: 2 flags" in answer["text"]
        for title in ("Social ROI", "Business ROI", "Objectives", "Silos"):
            assert title in text


async def test_one_team_and_the_refusals(db_url: str) -> None:
    async with Server(db_url) as server:
        await _flag_two(server)
        refused = await _roi(server, "U0ANN", "", "ann")
        assert refused["text"] == "Only managers (config roi.managers) can see the /roi figures."
        bad = await _roi(server, "U0MGR", "fortnight", "bad")
        assert str(bad["text"]).startswith("'fortnight' is not a period.")
        assert str(bad["text"]).endswith(
            "Usage: /roi [7d|30d|90d|quarter|2026-Q3|2026-10-01..2026-10-31] [team]"
        )
        unknown = await _roi(server, "U0MGR", "30d finance", "unknown")
        assert "'finance' is not a team" in str(unknown["text"])
        too_many = await _roi(server, "U0MGR", "30d billing extra", "many")
        assert str(too_many["text"]).startswith("Too many arguments.")
        await _roi(server, "U0MGR", "billing", "team")
        (answer,) = await server.slack.wait_for_response("team")
        assert "/roi Acme · billing" in json.dumps(answer["blocks"], ensure_ascii=False)
        assert server.slack.responses["ann"] == [] and server.slack.responses["bad"] == []


async def test_cli_roi_json_and_usage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/roi.db"
    async with Server(url) as server:
        await _flag_two(server)
    config = tmp_path / "crosstalk.toml"
    config.write_text(ORG_TOML)
    monkeypatch.setenv("CROSSTALK_CONFIG", str(config))
    monkeypatch.setenv("CROSSTALK_DATABASE_URL", url)
    assert main(["roi", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report.keys() >= STABLE_KEYS
    assert report["flags"] == 2 and report["team"] is None
    assert report["maturity"]["score"] is None
    assert report["maturity"]["reason"] == "not enough data yet: 2 flags"

    assert main(["roi", "--team", "billing"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Acme / billing") and "1 flags" in out

    assert main(["roi", "--period", "2026-Q5"]) == 2
    err = capsys.readouterr().err
    assert "usage: crosstalk roi" in err and "Traceback" not in err
