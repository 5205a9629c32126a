"""`crosstalk demo`: the scripted day runs through the real server and prints what the
server recorded; the figures printed are the ones the scenario's clock implies."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from PIL import Image
from sqlalchemy import create_engine, text

from bot.cli import main
from bot.core.clock import FakeClock
from bot.demo.demo_org import DEMO_TOML
from bot.demo.run import run_demo
from bot.demo.scenario import scenario_start

REPO = Path(__file__).resolve().parents[1]


def section(output: str, title: str) -> list[str]:
    """The lines of one titled section of the report, up to the blank line ending it."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = lines.index("", start)
    return lines[start:end]


TODAY = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # a Friday: the story is that week's


def row(lines: list[str], prefix: str) -> str:
    (found,) = [line for line in lines if line.strip().startswith(prefix)]
    return found


async def test_the_demo_plays_the_day_and_prints_what_the_server_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A user's own settings must not leak into the demo's server: their database is untouched.
    users_db = tmp_path / "users-own.db"
    monkeypatch.setenv("CROSSTALK_DATABASE_URL", f"sqlite:///{users_db}")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-not-for-the-demo")
    out = io.StringIO()
    charts = tmp_path / "charts"

    assert await run_demo(out, temp_root=tmp_path, today=TODAY, charts=charts) == 0

    output = out.getvalue()
    lines = output.splitlines()
    assert 120 <= len(lines) <= 220, len(lines)
    # The manager's /roi answer, read back from the response_url, and the managers' digest.
    assert "/roi 30d, asked by a manager (HTTP 200; the figures came after the ack)" in lines
    assert any(re.fullmatch(r"  > Maturity \d+/100 — [A-Z][a-z]+.*", x) for x in lines)
    assert any(
        re.fullmatch(r"The managers' weekly digest for \d{4}-W\d\d \(.*\):", x) for x in lines
    )
    assert not users_db.exists()
    assert os.environ["SLACK_APP_TOKEN"] == "xapp-not-for-the-demo"  # given back afterwards

    # The org: five teams of at least five people, a person in two of them, the shared channel.
    org = section(output, "THE ORG")
    assert "managers: Mia Grant, Mia Grant (in Teams)" in org[0]
    for team in ("Customer Success", "Billing", "Product", "Engineering", "Legal"):
        assert len(row(org, team).split("   ")[-1].split(", ")) >= 5
    assert "Pam Reyes, Pia Novak, Cal Ortiz, Pat Dunn, Per Holm (New York hours)" in row(
        org, "Product"
    )
    assert "Eve Adams (in Teams)" in row(org, "Engineering")
    assert "#ext-globex (Slack Connect" in org[-1]

    # The weeks before the story: flags in both Slack and Teams, outcomes, ratings.
    history = section(output, "THE 6 WEEKS BEFORE")
    counts = re.search(r"(\d+) flags \((\d+) in Slack, (\d+) in Microsoft Teams\)", history[1])
    assert counts is not None and int(counts.group(2)) > 0 and int(counts.group(3)) > 0
    assert re.search(r"(\d+) business outcomes recorded with their CRM refs", history[3])
    listened = re.search(
        r"listening: (\d+) customer messages suggested.* (\d+) flagged", history[4]
    )
    assert listened is not None and int(listened.group(1)) >= 2 and int(listened.group(2)) == 1

    # Eight flags through all three ways in; the message flagged twice made no second card.
    flags = section(output, "FLAGS")
    assert flags[0] == "FLAGS (8 flags, 11 cards posted to team channels)"
    heads = [line for line in flags if re.match(r"#\d+ ", line)]
    ids = [int(h.split()[0][1:]) for h in heads]
    assert ids == list(range(ids[0], ids[0] + 8)) and ids[0] > 20  # after the history's
    assert heads[0].startswith(
        f"#{ids[0]} Mon 09:06 #customer-feedback, Priya Shah (Initech): negative"
    )
    assert "resolved in 1h 34m" in heads[0]
    assert (
        "   flagged by Ann Lee (reaction); Cal Ortiz (reaction) 25m later: added as a flagger,"
        " no new card" in flags
    )
    assert "   flagged by Cal Ortiz (@mention)" in flags
    assert "   flagged by Ann Lee (shortcut + form)" in flags
    assert "   customer Umbrella Corp; note: Renewal worth 48k USD is due in June." in flags
    # The shortcut's team override (Legal by the rules, Engineering added by the flagger);
    # internal content from the shared channel went to the flagger, not to Globex.
    for sent in (
        "sent to Legal, Engineering; notice + 2 interpretations -> the #customer-feedback thread",
        "sent to Product, Engineering; notice + 2 interpretations -> a DM to Cal Ortiz",
        "sent to Customer Success; notice + 1 interpretation -> a DM to Cal Ortiz",
    ):
        assert "   " + sent in flags
    # PII: redacted in the stored excerpt, reported, and never printed.
    assert "call me on [phone] or [email]." in output
    assert "1 e-mail address, 1 phone number" in output
    assert "7946" not in output and "hooli.com" not in output

    # Response times from the scenario clock: Billing's card at 09:06, acknowledged 09:18,
    # answered 09:48; the second Billing flag answered after 1h 46m.
    assert "   Billing           ack 12m (Bob Stone) | first response 42m | cross-team 42m" in flags
    assert "   Billing           ack - | first response 1h 46m | cross-team 1h 46m" in flags
    assert "   Legal             not for us, said Leo Grant after 18m" in flags
    assert "Engineering       ack - | first response 19h 42m | cross-team 19h 42m" in output

    # Interpretations: team, cross-team marker, the form's fields, the edit.
    assert "* Cal Ortiz (Product, also in Customer Success; cross-team) +4h 12m:" in output
    assert "* Ann Lee (Customer Success; same team as the flagger) +1h 13m:" in output
    assert "* Pam Reyes (Product; cross-team; by form) +5h 25m:" in output
    assert "impact high, owner Pia Novak, action: Ship streaming CSV export in 2.14;" in output
    assert "* Eve Adams (Engineering; cross-team; edited) +25m:" in output
    assert "Fix ships in 2.13.1" in output and "Fix in progress" not in output

    # The bot's and the flaggers' thread replies were seen and not counted.
    uncounted = section(output, "NOT COUNTED")
    assert uncounted[1:] == [
        f"  #{ids[1]} Jira Cloud in Engineering's thread: an app, not a person",
        f"  #{ids[1]} Cal Ortiz in Engineering's thread: the flagger adding context",
        f"  #{ids[4]} Bea Kim in Customer Success's thread: the flagger adding context",
    ]

    # Per team p50s over the story's flags: Billing (42m, 1h 46m) -> 1h 14m; Success TTFR
    # (26m, 1h 13m) -> 49m 30s but cross-team only 26m (Ann answering Cal is not
    # cross-team); Product's business-hours figure counts from New York's 09:00 only.
    teams = section(output, "RESPONSE TIMES")
    assert re.search(
        r"Billing\s+2\s+12m\s+1h 14m \(1h 14m\)\s+1h 14m\s+4h: met 2 of 2$", row(teams, "Billing")
    )
    assert re.search(
        r"Customer Success\s+2\s+6m\s+49m 30s \(49m 30s\)\s+26m\s+2h: met 2 of 2$",
        row(teams, "Customer Success"),
    )
    assert re.search(
        r"Product\s+2\s+-\s+4h 48m \(30m\)\s+4h 48m\s+1d: met 2 of 2$", row(teams, "Product")
    )
    assert row(teams, "Engineering").endswith("4h: met 2 of 3, MISSED")
    assert re.search(r"Legal\s+1 \+1 declined\s+23m", row(teams, "Legal"))

    # Slack Web API calls by method, then the wall time, well under a minute.
    api = section(output, "SLACK WEB API CALLS")
    calls = dict(re.findall(r"([a-z]+\.[A-Za-z]+) (\d+)", " ".join(api[1:])))
    assert int(calls["views.open"]) >= 2  # the story's two forms, the outcome forms
    assert int(calls["chat.postMessage"]) >= 11 + 8  # the cards and the notices at least
    assert sum(int(n) for n in calls.values()) == int(api[0].split(":")[1].split(",")[0])
    done = re.fullmatch(r"Done in (\d+\.\d) s of wall-clock time\.", lines[-1])
    assert done is not None and float(done.group(1)) < 60

    # The charts: named, written, and decodable PNGs of the digests' size.
    shown = section(output, "CHARTS")
    assert shown[0] == f"CHARTS the weekly digests carry, written to {charts}/ (open them):"
    written = sorted(charts.iterdir())
    assert {p.name for p in written} == {
        *(f"first-response-{t}-2026-W47.png" for t in TEAM_KEYS),
        "maturity-2026-W47.png",
    }
    for path in written:
        assert any(line.startswith(f"  {path}  ") for line in shown[1:])
        image = Image.open(path)
        image.load()
        assert image.format == "PNG" and image.size in {(720, 360), (640, 300)}

    # What was printed is what is stored: the demo's own fresh SQLite file.
    database, flags_stored, flaggers_stored, billing_ttfr = stored(tmp_path, ids[0])
    assert str(database) in lines[2]
    assert flags_stored == ids[-1] and flaggers_stored == flags_stored + 1
    assert billing_ttfr == pytest.approx(42 * 60, abs=1)

    # Every figure shows in /roi, read from the demo's database as `crosstalk roi --json`.
    report = roi_json(database, monkeypatch, tmp_path)
    assert report["maturity"]["score"] is not None and report["maturity"]["stage"] is not None
    assert report["business"]["roi"] is not None and report["business"]["roi"] > 0
    assert report["business"]["crm_coverage"] and report["business"]["crm_coverage"] > 0
    assert report["csat"] is not None and report["satisfaction"] is not None
    assert report["network"]["siloed_teams"] is not None
    assert report["network"]["new_connections"]
    assert all(t["ei"] is not None for t in report["teams"])  # over the privacy floor
    assert report["objectives"] and all(o["actual"] is not None for o in report["objectives"])
    listening = report["listening"]
    assert listening["suggestions"] >= 2 and listening["precision"] is not None


TEAM_KEYS = ("success", "billing", "product", "engineering", "legal")


def roi_json(database: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """`crosstalk roi --json` on the demo's database, on the story's last day."""
    config = tmp_path / "demo.toml"
    config.write_text(DEMO_TOML, encoding="utf-8")
    monkeypatch.setenv("CROSSTALK_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("CROSSTALK_CONFIG", str(config))
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    end = scenario_start(TODAY.date(), ZoneInfo("Europe/London")) + timedelta(days=1, hours=1)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["roi", "--json"], clock=FakeClock(end)) == 0
    return json.loads(buffer.getvalue())


def stored(tmp_path: Path, first: int) -> tuple[Path, int, int, float]:
    """The demo's database: flags, flaggers, and the story's first flag's Billing TTFR in
    seconds."""
    (database,) = tmp_path.glob("crosstalk-demo-*/crosstalk.db")
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        flags = conn.execute(text("SELECT count(*) FROM flags")).scalar_one()
        flaggers = conn.execute(text("SELECT count(*) FROM flag_flaggers")).scalar_one()
        ttfr = conn.execute(
            text("SELECT ttfr_seconds FROM broadcasts WHERE flag_id = :id"), {"id": first}
        ).scalar_one()
    engine.dispose()
    return database, flags, flaggers, ttfr


@pytest.mark.parametrize("days_ago", range(7))
def test_the_story_is_set_in_a_past_business_week(days_ago: int) -> None:
    today = date(2026, 11, 22) - timedelta(days=days_ago)
    start = scenario_start(today, ZoneInfo("Europe/London"))
    assert start.weekday() == 0 and (start.hour, start.minute) == (9, 0)
    assert start.date() + timedelta(days=1) < today  # Tuesday's end of the story is past
    assert (today - start.date()).days <= 8


def test_crosstalk_demo_exits_zero_from_the_repo_root(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "crosstalk"
    if not script.exists():
        script = REPO / ".venv" / "bin" / "crosstalk"
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    charts = tmp_path / "charts"
    done = subprocess.run(
        [str(script), "demo", "--charts", str(charts)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "FLAGS (8 flags, 11 cards posted to team channels)" in done.stdout
    assert done.stdout.rstrip().splitlines()[-1].startswith("Done in ")
    assert list(tmp_path.glob("crosstalk-demo-*/crosstalk.db"))
    assert len(list(charts.glob("*.png"))) == 6

    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    refused = subprocess.run(
        [str(script), "demo", "--charts", str(a_file)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"crosstalk demo: --charts {a_file}: that is a file, not a directory"
    )


class Watched(io.StringIO):
    """The demo's output, and an event set once it says it is serving."""

    def __init__(self) -> None:
        super().__init__()
        self.serving = asyncio.Event()

    def write(self, text: str) -> int:
        written = super().write(text)
        if "Ctrl-C to stop." in self.getvalue():
            self.serving.set()
        return written


async def test_demo_serve_stays_up_with_a_dashboard_link(tmp_path: Path) -> None:
    """`crosstalk demo --serve`: after the story the server answers over HTTP, and the
    printed link opens the demo manager's dashboard sign-in page, until told to stop."""
    out = Watched()
    until = asyncio.Event()
    seen: dict[str, int] = {}

    async def visit() -> None:
        await out.serving.wait()
        (link,) = re.findall(r"http://127\.0\.0\.1:\d+/dashboard/login\?token=\S+", out.getvalue())
        async with aiohttp.ClientSession() as http:
            base = link.split("/dashboard", 1)[0]
            async with http.get(base + "/healthz") as health:
                seen["healthz"] = health.status
            async with http.get(link) as page:
                seen["login"] = page.status
        until.set()

    visitor = asyncio.create_task(visit())
    code = await run_demo(
        out, temp_root=tmp_path, today=TODAY, charts=tmp_path / "c", serve=True, until=until
    )
    await visitor
    assert code == 0
    assert seen == {"healthz": 200, "login": 200}
    assert "  Dashboard for Mia Grant (a manager), single use, valid 10 minutes:" in out.getvalue()
