"""Weekly digests (SPEC "Weekly digest and nudges"), end to end: flags, replies and button
presses go through the real server over HTTP; the due check runs on a fake clock; the
outbox worker posts to FakeSlack; the test reads what Slack shows.

The week is 2026-W47 (Mon 16 - Sun 22 November 2026); London is on UTC then, so the
billing digest (Mon 09:00 Europe/London) is due at 09:00 UTC on Monday 23 November and the
product digest (Mon 09:00 America/New_York) at 14:00 UTC.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlmodel import select

from bot.cli import main
from bot.core.clock import FakeClock
from bot.core.timecalc import iso_week_bounds
from bot.demo.org import ORG_TOML
from bot.demo.standins.harness import Server
from bot.handlers.digest import chart
from bot.handlers.digest import plan as digest
from store.models import OutboxMessage
from tests.fakes.core_loop import (
    T,
    all_text,
    card,
    cards_in,
    click,
    fields,
    flag_by_reaction,
    reply,
)
from tests.test_scheduler import seed_broadcast

BILLING_AND_PRODUCT = "I was charged twice and the dashboard export fails"
BILLING_ONLY = "Please refund the invoice"
BILLING_AND_ENGINEERING = "I was charged twice and now the app is broken"
MONDAY = datetime(2026, 11, 23, tzinfo=UTC)
FRIDAY = datetime(2026, 11, 20, 17, 30, tzinfo=UTC)  # when Crosstalk handles week_47's events


def at(hour: int, minute: int = 0, day: datetime = MONDAY) -> datetime:
    return day + timedelta(hours=hour, minutes=minute)


def digests_in(server: Server, channel: str) -> list[dict[str, Any]]:
    return [m for m in cards_in(server.slack, channel) if "Weekly digest —" in all_text(m)]


async def week_47(server: Server) -> None:
    """Billing: two flags routed (one answered in 15 min, one waiting), Product's reply on
    the shared flag, and a flag on billing's topic that Billing passed on and Engineering
    answered. Product and Engineering: one flag each, answered."""
    await flag_by_reaction(server, BILLING_AND_PRODUCT, said_at=T - 900, flagged_at=T - 60)
    product, billing = card(server.slack, "C0PRODUCT"), card(server.slack, "C0BILLING")
    await server.send(
        reply("C0PRODUCT", product["ts"], "U0PAM", "Export bug is known; fix next sprint.", T + 600)
    )
    await server.send(reply("C0BILLING", billing["ts"], "U0BOB", "Refund issued.", T + 900))
    await flag_by_reaction(
        server, BILLING_ONLY, said_at=T + 1000, flagged_at=T + 1100, card_at=T + 1200
    )
    await flag_by_reaction(
        server, BILLING_AND_ENGINEERING, said_at=T + 1300, flagged_at=T + 1400, card_at=T + 1500
    )
    eng = card(server.slack, "C0ENG")
    passed_on = cards_in(server.slack, "C0BILLING")[-1]
    await server.send(click(server, passed_on, "U0BEA", "ct_not_for_us", T + 1600))
    await server.send(reply("C0ENG", eng["ts"], "U0EVE", "Crash fixed in 4.2.", T + 1700))
    await server.settle()


async def test_each_team_gets_its_week_at_its_local_time(db_url: str) -> None:
    clock = FakeClock(FRIDAY)
    async with Server(db_url, clock=clock) as server:
        await week_47(server)
        run = server.runtime

        clock.set(at(8, 59))
        assert digest.run_due(engine=run.engine, org=run.org, clock=clock).queued == []

        clock.set(at(9))
        first = digest.run_due(engine=run.engine, org=run.org, clock=clock)
        org_id = run.org.org_id
        assert sorted(first.queued) == [
            f"digest:{org_id}:billing:2026-W47",
            f"digest:{org_id}:engineering:2026-W47",
            f"digest:{org_id}:managers:2026-W47:U0MGR",
        ]
        # Customer Success and Legal had a quiet week: nothing queued, nothing posted.
        assert {d.scope for d in first.quiet} == {"success", "legal"}
        await server.settle()

        (billing,) = digests_in(server, "C0BILLING")
        facts = fields(billing)
        assert billing["blocks"][0]["text"]["text"] == "📰 Weekly digest — Billing, 2026-W47"
        assert "2 flags routed to Billing (1 responded to, 1 waiting)" in all_text(billing)
        waiting = facts["Waiting for a first response"]
        assert waiting.startswith("• <https://acme.slack.com/archives/C0CUSTOMERS/p")
        assert "|“Please refund the invoice”>" in waiting
        assert BILLING_AND_PRODUCT not in waiting
        said = facts["What other teams said"]
        assert said.startswith("• Product — <@U0PAM>: Export bug is known; fix next sprint. (on <")
        handled = facts["Handled by other teams on your topics"]
        assert "“I was charged twice and now the app is broken”>" in handled
        assert handled.endswith("[billing] — Engineering")
        assert facts["First response"] == (
            "p50 15m in business hours — within the SLA of 4h; 1 of 1 within SLA"
        )
        # Billing has two people: under /roi's privacy floor, so it is not named in ties.
        assert facts["New cross-team connections"] == "not shown for teams of fewer than 5 people"
        assert facts["Org maturity"] == "not enough data yet: 3 flags"
        assert digests_in(server, "C0SUCCESS") == digests_in(server, "C0LEGAL") == []
        assert digests_in(server, "C0PRODUCT") == []  # 09:00 in New York is 14:00 UTC

        (eng,) = digests_in(server, "C0ENG")
        assert (
            fields(eng)["Waiting for a first response"]
            == "nothing — every flag had a first response"
        )

        # The managers' digest: a direct message to each manager (no managers channel).
        (dm_call,) = server.slack.calls_to("conversations.open")
        assert dm_call.args["users"] == "U0MGR"
        managers = [
            m for m in server.slack.posted() if "Org digest — Acme, 2026-W47" in all_text(m)
        ]
        assert len(managers) == 1
        org_facts = fields(managers[0])
        assert org_facts["Top customer themes"].startswith("• billing (3 flags, ")
        assert org_facts["Waiting for a first response"].startswith("• Billing: <https://")
        assert org_facts["Maturity"] == "not enough data yet: 3 flags"

        # Later checks find everything sent; New York's 09:00 comes at 14:00 UTC.
        clock.set(at(13, 59))
        again = digest.run_due(engine=run.engine, org=run.org, clock=clock)
        assert again.queued == [] and len(again.existing) == 3
        clock.set(at(14))
        assert digest.run_due(engine=run.engine, org=run.org, clock=clock).queued == [
            f"digest:{org_id}:product:2026-W47"
        ]
        await server.settle()
        (product,) = digests_in(server, "C0PRODUCT")
        assert fields(product)["What other teams said"].startswith(
            "• Billing — <@U0BOB>: Refund issued."
        )
        assert len(digests_in(server, "C0BILLING")) == 1


async def test_a_quiet_week_posts_nothing(db_url: str) -> None:
    clock = FakeClock(at(14))  # every team's Monday 09:00 has passed
    async with Server(db_url, clock=clock) as server:
        run = server.runtime
        result = digest.run_due(engine=run.engine, org=run.org, clock=clock)
        assert result.queued == []
        assert len(result.quiet) == 6  # five teams and the managers
        await server.settle()
        assert server.query(select(OutboxMessage)) == []
        assert server.slack.calls_to("chat.postMessage") == []


async def test_a_restart_catches_up_once_and_a_stale_week_is_left(db_url: str) -> None:
    clock = FakeClock(FRIDAY)
    async with Server(db_url, clock=clock) as server:
        await week_47(server)
    # Down over Monday 09:00; back at 11:30: the digest goes out then, once.
    clock.set(at(11, 30))
    async with Server(db_url, clock=clock) as server:
        run = server.runtime
        queued = digest.run_due(engine=run.engine, org=run.org, clock=clock).queued
        assert f"digest:{run.org.org_id}:billing:2026-W47" in queued
        await server.settle()
        assert len(digests_in(server, "C0BILLING")) == 1
    clock.set(at(12))
    async with Server(db_url, clock=clock) as server:
        run = server.runtime
        assert digest.run_due(engine=run.engine, org=run.org, clock=clock).queued == []
        await server.settle()
        assert digests_in(server, "C0BILLING") == []  # a fresh FakeSlack: nothing new posted


async def test_a_digest_more_than_two_days_late_is_not_sent(db_url: str) -> None:
    clock = FakeClock(FRIDAY)
    async with Server(db_url, clock=clock) as server:
        await week_47(server)
        run = server.runtime
        key = f"digest:{run.org.org_id}:{{}}:2026-W47".format
        # Wednesday 09:00:01 UTC: London's Monday 09:00 is past the grace; New York's
        # (14:00 UTC) is not yet.
        clock.set(at(9) + digest.GRACE + timedelta(seconds=1))
        late = digest.run_due(engine=run.engine, org=run.org, clock=clock).queued
        assert late == [key("product")]
        clock.set(at(9) + digest.GRACE)
        assert key("billing") in digest.run_due(engine=run.engine, org=run.org, clock=clock).queued


def five_people_per_team(toml: str) -> str:
    """The sample org with three more people in every team: over the privacy floor."""
    return toml.replace('members = ["', 'members = ["U0X1", "U0X2", "U0X3", "')


async def test_managers_channel_gets_the_org_digest(db_url: str) -> None:
    toml = five_people_per_team(ORG_TOML) + '\n[digest]\nmanagers_channel = "C0LEADERS"\n'
    clock = FakeClock(FRIDAY)
    async with Server(db_url, clock=clock, config_toml=toml) as server:
        server.slack.add_channel("C0LEADERS", "leaders")
        await week_47(server)
        clock.set(at(9))
        run = server.runtime
        queued = digest.run_due(engine=run.engine, org=run.org, clock=clock).queued
        assert f"digest:{run.org.org_id}:managers:2026-W47" in queued
        await server.settle()
        (leaders,) = cards_in(server.slack, "C0LEADERS")
        assert leaders["blocks"][0]["text"]["text"] == "📊 Org digest — Acme, 2026-W47"
        assert "3 flags · 4 broadcasts, 3 responded to" in all_text(leaders)
        facts = fields(leaders)
        assert (
            facts["Fastest teams (business hours)"] == "• Engineering: p50 3m 20s (1 responded to)"
        )
        assert facts["Slowest teams (business hours)"] == (
            "• Billing: p50 15m (1 responded to)\n• Product: p50 10m (1 responded to)"
        )
        # Every reply this week came from another team than the flagger's (Ann, Success).
        assert facts["New cross-team connections"] == (
            "Billing ↔ Customer Success, Engineering ↔ Customer Success, Product ↔ Customer Success"
        )
        assert facts["Siloed teams"] == "none named"
        (billing,) = digests_in(server, "C0BILLING")
        assert fields(billing)["New cross-team connections"] == "Customer Success"
        assert server.slack.calls_to("conversations.open") == []


# ---------------------------------------------------------------------------- the chart


def maturity_files(server: Server) -> list[Any]:
    """The maturity trend's uploads (a team's digest also carries its own weeks' chart)."""
    return [f for f in server.slack.files.values() if f.filename.startswith("maturity-")]


async def test_the_maturity_trend_goes_into_the_digest_thread(db_url: str) -> None:
    """Seven flags a week from W42 to W47: the 28-day windows ending with W44 to W47 hold
    the 20 flags a score needs (METRICS), the earlier ones do not and are gaps."""
    clock = FakeClock(FRIDAY)
    async with Server(db_url, clock=clock) as server:
        run = server.runtime
        for week in range(42, 48):
            start, _ = iso_week_bounds(f"2026-W{week}", ZoneInfo("Europe/London"))
            for n in range(7):
                at_ = start + timedelta(days=1, hours=n)
                seed_broadcast(run.engine, run.org.ids, "billing", at_)
        clock.set(at(9))
        digest.run_due(engine=run.engine, org=run.org, clock=clock)
        await server.settle()

        (billing,) = digests_in(server, "C0BILLING")
        maturity = fields(billing)["Org maturity"]
        assert re.fullmatch(r"\d+/100 — \w+ \([+-]\d+ vs the week before\)", maturity), maturity
        key = f"digest:{run.org.org_id}:billing:2026-W47:chart"
        (chart_row,) = server.query(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
        points = json.loads(chart_row.target)["points"]
        assert [label for label, _ in points] == [f"W{n}" for n in range(40, 48)]
        assert [score is None for _, score in points] == [True] * 4 + [False] * 4
        (file,) = [f for f in maturity_files(server) if f.channels == ["C0BILLING"]]
        assert (file.filename, file.channels, file.thread_ts) == (
            "maturity-2026-W47.png",
            ["C0BILLING"],
            billing["ts"],
        )
        assert file.content is not None
        image = Image.open(BytesIO(file.content))
        assert image.size == (chart.WIDTH, chart.HEIGHT)
        for index, (_, score) in enumerate(points[4:], start=4):
            assert image.getpixel(chart.point_xy(index, 8, score)) == chart.LINE


async def test_a_chart_whose_upload_answer_was_lost_is_not_uploaded_twice(db_url: str) -> None:
    clock = FakeClock(FRIDAY)
    async with Server(db_url, clock=clock, run_worker=False) as server:
        run = server.runtime
        for week in range(44, 48):
            start, _ = iso_week_bounds(f"2026-W{week}", ZoneInfo("Europe/London"))
            for n in range(7):
                seed_broadcast(
                    run.engine, run.org.ids, "billing", start + timedelta(days=1, hours=n)
                )
        server.slack.fail_next("files.completeUploadExternal", status=500, after_effect=True)
        clock.set(at(9))
        digest.run_due(engine=run.engine, org=run.org, clock=clock)
        await server.settle()
        key = f"digest:{run.org.org_id}:billing:2026-W47:chart"
        (row,) = server.query(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
        if row.status == "pending":  # Slack shared the file but answered 500: a retry
            clock.set(row.next_attempt_at)
            await server.settle()
        charts = [f for f in maturity_files(server) if f.channels == ["C0BILLING"]]
        assert len(charts) == 1  # a second upload would be a second file
        (row,) = server.query(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
        assert row.status == "done"


def test_weeks_without_a_score_are_gaps_in_the_line() -> None:
    def pixel_between(points: list[tuple[str, int | None]]) -> object:
        image = Image.open(BytesIO(chart.trend_png(points, title="t")))
        (x1, y), (x3, _) = chart.point_xy(0, 3, 50), chart.point_xy(2, 3, 50)
        return image.getpixel(((x1 + x3) // 2, y))

    assert pixel_between([("a", 50), ("b", 50), ("c", 50)]) == chart.LINE
    assert pixel_between([("a", 50), ("b", None), ("c", 50)]) == chart.BACKGROUND
    with pytest.raises(ValueError):
        chart.trend_png([], title="t")


# ---------------------------------------------------------------------------- the CLI


@pytest.fixture
def cli_env(db_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    config = tmp_path / "crosstalk.toml"
    config.write_text(ORG_TOML, encoding="utf-8")
    monkeypatch.setenv("CROSSTALK_DATABASE_URL", db_url)
    monkeypatch.setenv("CROSSTALK_CONFIG", str(config))
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return db_url


async def test_cli_dry_run_prints_and_send_is_once(
    cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = FakeClock(FRIDAY)
    async with Server(cli_env, clock=clock) as server:
        await week_47(server)

        assert (
            main(["digest", "--week", "2026-W47", "--team", "billing", "--dry-run"], clock=clock)
            == 0
        )
        out = capsys.readouterr().out
        assert out.startswith("📰 Weekly digest — Billing, 2026-W47\n")
        assert "2 flags routed to Billing (1 responded to, 1 waiting)" in out
        assert "  • “Please refund the invoice” <https://acme.slack.com/archives/" in out
        assert server.query(select(OutboxMessage).where(OutboxMessage.kind == "digest")) == []

        assert main(["digest", "--week", "2026-W47", "--team", "legal"], clock=clock) == 0
        assert capsys.readouterr().out.strip() == "Legal, 2026-W47: a quiet week, nothing to send"

        # The scheduler sends first; a later --send is a no-op that says so.
        clock.set(at(9))
        run = server.runtime
        digest.run_due(engine=run.engine, org=run.org, clock=clock)
        await server.settle()
        key = f"digest:{run.org.org_id}:billing:2026-W47"
        assert (
            main(["digest", "--week", "2026-w47", "--team", "billing", "--send"], clock=clock) == 0
        )
        assert capsys.readouterr().out.strip() == f"already sent or queued, not again: {key}"
        assert (
            main(["digest", "--week", "2026-W47", "--team", "product", "--send"], clock=clock) == 0
        )
        out = capsys.readouterr().out
        assert f"queued digest:{run.org.org_id}:product:2026-W47" in out
        await server.settle()
        assert len(digests_in(server, "C0PRODUCT")) == 1
        assert len(digests_in(server, "C0BILLING")) == 1
        row = server.query(
            select(OutboxMessage).where(
                OutboxMessage.dedupe_key == f"digest:{run.org.org_id}:product:2026-W47"
            )
        )[0]
        assert json.loads(row.target)["week"] == "2026-W47"


async def test_cli_refuses_bad_arguments(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    clock = FakeClock(FRIDAY)
    async with Server(cli_env, clock=clock):
        assert main(["digest", "--team", "nosuch"], clock=clock) == 2
        assert "unknown team 'nosuch'; use one of success, billing" in capsys.readouterr().err
        assert main(["digest", "--week", "2026-W54"], clock=clock) == 2
        assert "2026 has no week 54" in capsys.readouterr().err
        assert main(["digest", "--week", "last week"], clock=clock) == 2
        assert "is not an ISO week" in capsys.readouterr().err
        with pytest.raises(SystemExit):
            main(["digest", "--dry-run", "--send"], clock=clock)


async def test_cli_defaults_to_the_last_complete_week(
    cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = FakeClock(FRIDAY)  # Friday of 2026-W47: the last complete week is W46
    async with Server(cli_env, clock=clock):
        assert main(["digest", "--team", "legal"], clock=clock) == 0
    assert capsys.readouterr().out.strip() == "Legal, 2026-W46: a quiet week, nothing to send"
