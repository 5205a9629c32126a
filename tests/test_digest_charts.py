"""A chart every week there is data (issue 10): each team's weekly digest carries a PNG of
its first-response p50 against its SLA and its flags, week by week, uploaded once into the
digest's thread in Slack and inline in Teams; a quiet week sends neither digest nor chart;
`crosstalk digest --dry-run --charts DIR` writes the PNGs it would send."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.cli import main
from bot.core.clock import FakeClock
from bot.demo.standins import teams_activities as ta
from bot.demo.standins.bot_connector import BotConnector
from bot.demo.standins.harness import Server
from bot.handlers.digest import plan as digest
from bot.handlers.digest import team_chart
from bot.handlers.digest.series import TeamSeries, WeekPoint
from store.db import session_scope
from tests.adapters.teams.test_teams_capture import install, seed, teams_server
from tests.adapters.teams.test_teams_digest_nudge import (
    FRIDAY as TEAMS_FRIDAY,
)
from tests.adapters.teams.test_teams_digest_nudge import (
    MONDAY as TEAMS_MONDAY,
)
from tests.adapters.teams.test_teams_digest_nudge import (
    flag_for_engineering,
    iso,
)
from tests.test_digest import FRIDAY, at, cli_env, digests_in, week_47

__all__ = ["cli_env"]  # the fixture, shared with tests.test_digest


def png(data: bytes | None) -> Image.Image:
    assert data is not None and data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(BytesIO(data))
    image.load()
    return image


async def test_a_week_with_flags_gets_its_chart_in_the_digest_thread(db_url: str) -> None:
    clock = FakeClock(FRIDAY)
    async with Server(db_url, clock=clock) as server:
        await week_47(server)
        clock.set(at(9))
        run = server.runtime
        digest.run_due(engine=run.engine, org=run.org, clock=clock)
        await server.settle()

        (billing,) = digests_in(server, "C0BILLING")
        charts = [f for f in server.slack.files.values() if f.filename.startswith("first-")]
        by_name = {f.filename: f for f in charts}
        file = by_name["first-response-billing-2026-W47.png"]
        assert (file.channels, file.thread_ts) == (["C0BILLING"], billing["ts"])
        image = png(file.content)
        assert image.size == (team_chart.WIDTH, team_chart.HEIGHT)
        # The week's point is drawn where its p50 (15 min) falls against Billing's 4h SLA.
        with session_scope(run.engine) as session:
            built = digest.build(session, run.org, scope="billing", week="2026-W47", now=at(9))
        assert built.team_chart is not None
        points = built.team_chart.points
        assert [p.week for p in points] == [f"W{n}" for n in range(38, 48)]
        assert (points[-1].flags, points[-1].p50) == (2, 900.0)
        assert all(p.flags == 0 for p in points[:-1])
        xy = team_chart.point_xy(built.team_chart, len(points) - 1)
        assert xy is not None and image.convert("RGB").getpixel(xy) == team_chart.LINE
        # Each team due at 09:00 that had flags got its own chart, once (Product's digest is
        # New York's 09:00, later); Legal's quiet week got none.
        assert set(by_name) == {
            "first-response-billing-2026-W47.png",
            "first-response-engineering-2026-W47.png",
        }
        assert len(charts) == 2
        assert digests_in(server, "C0LEGAL") == []
        assert not [f for f in server.slack.files.values() if "C0LEGAL" in f.channels]


async def test_a_quiet_week_gets_no_chart(db_url: str) -> None:
    clock = FakeClock(at(9))
    async with Server(db_url, clock=clock) as server:
        run = server.runtime
        queued = digest.run_due(engine=run.engine, org=run.org, clock=clock)
        await server.settle()
        assert queued.queued == []
        assert server.slack.files == {}
        assert server.slack.calls_to("files.getUploadURLExternal") == []


async def test_a_teams_digest_carries_its_chart_inline(db_url: str) -> None:
    clock = FakeClock(TEAMS_FRIDAY)
    async with BotConnector() as connector:
        seed(connector)
        async with teams_server(db_url, connector, clock=clock) as server:
            await install(server, connector)
            await flag_for_engineering(server, connector)
            [card] = connector.threads(ta.ENGINEERING)
            reply = ta.channel_message(
                connector.service_url, ta.ENGINEERING, "Fixed in 4.2", user=ta.EVE, root=card.id
            )
            reply["timestamp"] = iso(TEAMS_FRIDAY + timedelta(minutes=10))
            await server.send_activity(reply)
            await server.settle()
            clock.set(TEAMS_MONDAY + timedelta(hours=9))
            run = server.runtime
            digest.run_due(engine=run.engine, org=run.org, clock=clock)
            await server.settle()

            [weekly] = [
                m for m in connector.threads(ta.ENGINEERING) if "Weekly digest" in str(m.card)
            ]
            images = [
                item
                for m in connector.replies(ta.ENGINEERING, weekly.id)
                for item in (m.card or {}).get("body", [])
                if item.get("type") == "Image"
            ]
            assert len(images) == 1, json.dumps(images)[:300]
            url = str(images[0]["url"])
            assert url.startswith("data:image/png;base64,")
            image = png(base64.b64decode(url.split(",", 1)[1]))
            assert image.size == (team_chart.WIDTH, team_chart.HEIGHT)


async def test_cli_writes_the_charts_it_would_send(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = FakeClock(FRIDAY)
    async with Server(cli_env, clock=clock) as server:
        await week_47(server)
        folder = tmp_path / "charts" / "w47"
        argv = ["digest", "--week", "2026-W47", "--team", "billing", "--charts", str(folder)]
        assert main(argv, clock=clock) == 0
        out = capsys.readouterr().out
        written = sorted(folder.iterdir())
        assert [p.name for p in written] == ["first-response-billing-2026-W47.png"]
        assert f"  wrote {written[0]}" in out.splitlines()
        assert "  [+ first-response and flags chart, 10 weeks]" in out
        assert png(written[0].read_bytes()).size == (team_chart.WIDTH, team_chart.HEIGHT)

        a_file = tmp_path / "not-a-dir"
        a_file.write_text("x")
        assert main([*argv[:-1], str(a_file)], clock=clock) == 2
        err = capsys.readouterr().err.strip()
        assert err == f"crosstalk digest: --charts {a_file}: that is a file, not a directory"
        assert main([*argv, "--send"], clock=clock) == 2
        assert "not with --send" in capsys.readouterr().err


def test_the_chart_shows_gaps_and_the_sla_line() -> None:
    weeks = [WeekPoint("W1", 3, 1800.0), WeekPoint("W2", 0, None), WeekPoint("W3", 4, 1800.0)]
    series = TeamSeries("billing", "Billing", 4 * 3600.0, tuple(weeks))
    image = png(team_chart.team_png(series)).convert("RGB")
    first, third = team_chart.point_xy(series, 0), team_chart.point_xy(series, 2)
    assert first is not None and third is not None
    assert image.getpixel(first) == team_chart.LINE
    assert image.getpixel(((first[0] + third[0]) // 2, first[1])) != team_chart.LINE  # a gap
    top, _ = team_chart.time_scale(series)
    sla_y = team_chart.plot_y(4.0 / top)
    row: list[Any] = [image.getpixel((x, sla_y)) for x in range(team_chart.LEFT, 300)]
    assert team_chart.SLA in row
    assert team_chart.time_scale(series)[0] >= 4 * 1.25
    with pytest.raises(ValueError):
        team_chart.team_png(TeamSeries("x", "X", 60.0, ()))
