"""The dashboard's pages over HTTP: every page, the flags list's filters and pages, a flag's
page, the CSV exports, `GET /api/roi` against `crosstalk roi --json`, and one org never
seeing another's flags."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.demo.org import ORG_TOML
from bot.demo.standins import slack_requests as rq
from bot.demo.standins.harness import Server
from bot.web import flags as web_flags
from bot.web.render import CSP
from store.models import Flag
from tests.web.seed import CONFIG, Seeded, get, seeded_server, sign_in

PAGES = ("/dashboard", "/dashboard/teams", "/dashboard/silos", "/dashboard/flags")


async def test_every_page_renders_with_its_charts_and_headers(db_url: str) -> None:
    async with seeded_server(db_url) as seeded:
        server = seeded.server
        cookie = await sign_in(server)
        for path in (*PAGES, "/dashboard/flags/1"):
            page = await get(server, path, cookie)
            assert page.status == 200, path
            assert page.headers["Content-Security-Policy"] == CSP
            assert page.headers["X-Content-Type-Options"] == "nosniff"
            assert page.headers["Referrer-Policy"] == "same-origin"
            assert '<html lang="en">' in page.text and 'href="#main"' in page.text
            assert "<script" not in page.text and " style=" not in page.text
        overview = (await get(server, "/dashboard", cookie)).text
        assert "not enough data yet: 3 flags" in overview
        assert overview.count('<svg class="chart"') == 2 and "12,000 USD" in overview
        teams = (await get(server, "/dashboard/teams", cookie)).text
        assert teams.count('<svg class="chart"') == 10  # two per team
        assert "Billing: first response p50 and p90 by week" in teams
        silos = (await get(server, "/dashboard/silos", cookie)).text
        assert "Customer Success and Billing: 1 ties" in silos  # both over the floor
        assert "under the privacy floor (5 people)" in silos  # product, engineering, legal
        assert "Product and" not in silos and "and Product" not in silos
        css = await get(server, "/dashboard/static/dashboard.css")
        assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")


async def test_bad_filters_are_named(db_url: str) -> None:
    async with seeded_server(db_url) as seeded:
        cookie = await sign_in(seeded.server)
        for query, field in (
            ("period=fortnight", "period"),
            ("team=finance", "team"),
            ("status=lost", "status"),
            ("sentiment=angry", "sentiment"),
            ("page=0", "page"),
            ("q=" + "x" * 201, "q"),
        ):
            answer = await get(seeded.server, f"/dashboard/flags?{query}", cookie)
            assert answer.status == 400 and f"{field}:" in answer.text, query
        assert (await get(seeded.server, "/dashboard/teams?period=1999d", cookie)).status == 400


def _ids(html: str) -> list[int]:
    return [int(part.split('"', 1)[0]) for part in html.split('href="/dashboard/flags/')[1:]]


async def test_flags_list_filters_and_pages(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async with seeded_server(db_url) as seeded:
        server = seeded.server
        cookie = await sign_in(server)

        async def ids(query: str) -> list[int]:
            answer = await get(server, f"/dashboard/flags?{query}", cookie)
            assert answer.status == 200, answer.text
            return _ids(answer.text)

        assert await ids("") == [3, 2, 1]
        assert await ids("team=billing") == [3, 1]
        assert await ids("team=engineering") == [2]
        assert await ids("status=resolved") == [1]
        assert await ids("sentiment=negative") == [2, 1]
        assert await ids("q=CSV+EXPORT") == [2]
        assert await ids("q=100%25") == []  # a literal %, not a wildcard
        assert await ids("period=7d&team=billing&sentiment=negative") == [1]
        monkeypatch.setattr(web_flags, "PAGE_SIZE", 2)
        first = await get(server, "/dashboard/flags", cookie)
        assert _ids(first.text) == [3, 2] and "page 1 of 2" in first.text
        assert 'href="/dashboard/flags?page=2" rel="next"' in first.text
        assert _ids((await get(server, "/dashboard/flags?page=2", cookie)).text) == [1]


async def test_a_flags_page_shows_each_teams_words_timeline_and_outcome(db_url: str) -> None:
    async with seeded_server(db_url) as seeded:
        server = seeded.server
        cookie = await sign_in(server)
        export = (await get(server, "/dashboard/flags/2", cookie)).text
        assert "The CSV export is broken again" in export
        assert "Regression in 4.2, fix ships tomorrow." in export
        assert "Large exports need a progress bar too." in export
        assert export.index('<h3 id="h-col-1">Product') < export.index("Large exports")
        assert "Posted to Engineering" in export and "First response from Product" in export
        charged = (await get(server, "/dashboard/flags/1", cookie)).text
        assert "retained" in charged and "12,000 USD" in charged and "Outcome recorded" in charged
        script = (await get(server, "/dashboard/flags/3", cookie)).text
        assert "<script>" not in script
        missing = await get(server, "/dashboard/flags/999", cookie)
        assert missing.status == 404 and "No such flag" in missing.text
        huge = await get(server, "/dashboard/flags/99999999999999999999999", cookie)
        assert huge.status == 404


OTHER_TOML = ORG_TOML.replace('name = "Acme"', 'name = "Globex"').replace(
    'slack_team_ids = ["T0001"]', 'slack_team_ids = ["T0OTHER"]'
)


async def test_another_orgs_flag_is_not_found(db_url: str) -> None:
    async with seeded_server(db_url) as seeded, Server(db_url, config_toml=OTHER_TOML) as other:
        ts = other.slack.add_message("C0CUSTOMERS", "Their secret invoice problem", "U0SAM")
        await other.send(
            rq.event_reaction_added(
                "T0OTHER", "U0ANN", "mega", "C0CUSTOMERS", ts, "U0SAM", other.slack.next_ts()
            )
        )
        await other.settle()
        (theirs,) = other.query(Flag.__table__.select().where(Flag.excerpt.startswith("Their")))  # type: ignore[attr-defined]
        server = seeded.server
        cookie = await sign_in(server)
        assert (await get(server, f"/dashboard/flags/{theirs.id}", cookie)).status == 404
        for path in ("/dashboard/flags?period=90d", "/dashboard/export/flags.csv?period=90d"):
            assert "Their secret" not in (await get(server, path, cookie)).text


async def test_csv_exports(db_url: str) -> None:
    async with seeded_server(db_url) as seeded:
        server = seeded.server
        cookie = await sign_in(server)
        flags = await get(server, "/dashboard/export/flags.csv?team=billing", cookie)
        assert flags.status == 200 and flags.headers["Content-Type"].startswith("text/csv")
        assert "attachment" in flags.headers["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(flags.text)))
        assert [r["id"] for r in rows] == ["3", "1"]
        assert rows[1]["flagged_at"] == "2026-11-16T09:00:00Z" and rows[1]["teams"] == "billing"
        assert rows[1]["status"] == "resolved" and "charged twice" in rows[1]["excerpt"]
        assert all(not r["excerpt"].startswith(("=", "+", "-", "@")) for r in rows)
        figures = await get(server, "/dashboard/export/roi.csv", cookie)
        table = dict(csv.reader(io.StringIO(figures.text)))
        assert table["figure"] == "value" and table["flags"] == "3"
        assert table["business.by_kind.retained"] == "12000.0"
        assert table["teams.billing.flags"] == "2" and table["maturity.score"] == ""
        assert (await get(server, "/dashboard/export/roi.csv?period=nope", cookie)).status == 400


async def _cli_json(
    seeded: Seeded, tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    *args: str,
) -> object:  # fmt: skip
    config = tmp / "crosstalk.toml"
    config.write_text(CONFIG)
    monkeypatch.setenv("CROSSTALK_CONFIG", str(config))
    monkeypatch.setenv("CROSSTALK_DATABASE_URL", seeded.server.db_url)
    assert main(["roi", "--json", *args], clock=seeded.clock) == 0
    return json.loads(capsys.readouterr().out)


async def test_api_roi_is_the_cli_object(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with seeded_server(db_url) as seeded:
        server = seeded.server
        assert (await get(server, "/api/roi")).status == 401
        bad = await get(server, "/api/roi", headers={"Authorization": "Bearer nope"})
        assert bad.status == 401 and "bearer token" in bad.text
        auth = {"Authorization": "Bearer test-token"}
        period = await get(server, "/api/roi?period=fortnight", headers=auth)
        assert period.status == 400 and json.loads(period.text)["field"] == "period"
        team = await get(server, "/api/roi?team=finance", headers=auth)
        assert team.status == 400 and json.loads(team.text)["field"] == "team"
        for query, args in (
            ("", ()),
            ("?period=7d&team=billing", ("--period", "7d", "--team", "billing")),
        ):
            answer = await get(server, f"/api/roi{query}", headers=auth)
            assert answer.status == 200
            expected = await _cli_json(seeded, tmp_path, monkeypatch, capsys, *args)
            assert json.loads(answer.text) == expected
        assert json.loads(answer.text)["team"] == "billing"
