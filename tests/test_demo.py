"""`crosstalk demo`: the scripted day runs through the real server and prints what the
server recorded; the figures printed are the ones the scenario's clock implies."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

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

    assert await run_demo(out, temp_root=tmp_path, today=TODAY) == 0

    output = out.getvalue()
    lines = output.splitlines()
    assert 60 <= len(lines) <= 170, len(lines)
    # The manager's /roi answer, read back from the response_url, and the managers' digest.
    assert "/roi 30d, asked by a manager (HTTP 200; the figures came after the ack)" in lines
    assert "  8 flags · answered 88% · resolved 25%" in lines
    assert "  > Maturity: not enough data yet: 8 flags" in lines
    assert any(
        re.fullmatch(r"The managers' weekly digest for \d{4}-W\d\d \(.*\):", x) for x in lines
    )
    assert "  8 flags · 10 broadcasts, 10 answered · 10 interpretations (9 cross-team)" in lines
    assert not users_db.exists()
    assert os.environ["SLACK_APP_TOKEN"] == "xapp-not-for-the-demo"  # given back afterwards

    # The org: five teams, a person in two of them, the shared channel.
    org = section(output, "THE ORG")
    for team in ("Customer Success", "Billing", "Product", "Engineering", "Legal"):
        assert row(org, team)
    assert "Pam Reyes, Pia Novak, Cal Ortiz (New York hours)" in row(org, "Product")
    assert "#ext-globex (Slack Connect" in org[-1]

    # Eight flags through all three ways in; the message flagged twice made no second card.
    flags = section(output, "FLAGS")
    assert flags[0] == "FLAGS (8 flags, 11 cards posted to team channels)"
    heads = [line for line in flags if re.match(r"#\d ", line)]
    assert [h.split()[0] for h in heads] == [f"#{n}" for n in range(1, 9)]
    assert heads[0].startswith("#1 Mon 09:06 #customer-feedback, Priya Shah (Initech): negative")
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
        "  #2 Jira Cloud in Engineering's thread: an app, not a person",
        "  #2 Cal Ortiz in Engineering's thread: the flagger adding context",
        "  #5 Bea Kim in Customer Success's thread: the flagger adding context",
    ]

    # Per team p50s: Billing (42m, 1h 46m) -> 1h 14m; Success TTFR (26m, 1h 13m) -> 49m 30s
    # but cross-team only 26m (Ann answering Cal is not cross-team); Product's business-hours
    # figure counts from New York's 09:00 only.
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
    assert re.search(r"Legal\s+1 \+1 declined\s+23m\s+4h 43m", row(teams, "Legal"))

    # Slack Web API calls by method, then the wall time, well under a minute.
    api = section(output, "SLACK WEB API CALLS")
    calls = dict(re.findall(r"([a-z]+\.[A-Za-z]+) (\d+)", " ".join(api[1:])))
    assert int(calls["views.open"]) == 2  # the shortcut's form and "Add interpretation"
    assert int(calls["chat.postMessage"]) >= 11 + 8  # the cards and the notices at least
    assert sum(int(n) for n in calls.values()) == int(api[0].split(":")[1].split(",")[0])
    done = re.fullmatch(r"Done in (\d+\.\d) s of wall-clock time\.", lines[-1])
    assert done is not None and float(done.group(1)) < 60

    # What was printed is what is stored: the demo's own fresh SQLite file.
    database, flags_stored, flaggers_stored, billing_ttfr = stored(tmp_path)
    assert str(database) in lines[2]
    assert (flags_stored, flaggers_stored) == (8, 9)
    assert billing_ttfr == pytest.approx(42 * 60, abs=1)


def stored(tmp_path: Path) -> tuple[Path, int, int, float]:
    """The demo's database: flags, flaggers, and the first flag's Billing TTFR in seconds."""
    (database,) = tmp_path.glob("crosstalk-demo-*/crosstalk.db")
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        flags = conn.execute(text("SELECT count(*) FROM flags")).scalar_one()
        flaggers = conn.execute(text("SELECT count(*) FROM flag_flaggers")).scalar_one()
        ttfr = conn.execute(
            text("SELECT ttfr_seconds FROM broadcasts WHERE flag_id = 1")
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
    done = subprocess.run(
        [str(script), "demo"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "FLAGS (8 flags, 11 cards posted to team channels)" in done.stdout
    assert done.stdout.rstrip().splitlines()[-1].startswith("Done in ")
    assert list(tmp_path.glob("crosstalk-demo-*/crosstalk.db"))
