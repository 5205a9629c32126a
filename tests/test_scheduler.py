"""The scheduler and the clock (issue "Weekly silo-breaking digests and SLA nudges"):
when digests fall due in each team's timezone across daylight-saving changes and New Year,
driven by a fake clock; and the named jobs running inside the real server, stored in the
database, once across a restart.

2026 daylight-saving changes: America/New_York 8 March and 1 November, Europe/London
29 March and 25 October. A "mon 09:00" digest is 09:00 local on both sides of each.
"""

from __future__ import annotations

import asyncio
import time as clock_time
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.clock import FakeClock
from bot.core.timecalc import iso_week_bounds
from bot.demo.standins.harness import Server
from bot.handlers.digest import plan as digest
from bot.handlers.digest.weeks import WeeklyTime, last_send, local_instant, next_send, week_before
from bot.scheduler import JOBS, TABLE
from store.models import Broadcast, Flag, FlagTopic
from store.orgs import OrgIds
from tests.fakes.core_loop import all_text

LONDON, NEW_YORK = ZoneInfo("Europe/London"), ZoneInfo("America/New_York")
MON_0900 = WeeklyTime.parse("mon 09:00")

TWO_ZONES = """
[org]
name = "Acme"
timezone = "Europe/London"
slack_team_ids = ["T0001"]
business_hours = "Mon-Fri 09:00-17:30"

[[teams]]
key = "london"
name = "London"
slack_channel = "C0BILLING"
members = ["U0BOB"]
timezone = "Europe/London"

[[teams]]
key = "newyork"
name = "New York"
slack_channel = "C0PRODUCT"
members = ["U0PAM"]
timezone = "America/New_York"
"""


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


_seq = iter(range(1, 1_000_000))


def seed_broadcast(
    engine: Engine,
    ids: OrgIds,
    team: str,
    at: datetime,
    *,
    channel: str = "C0X",
    message_id: str | None = None,
) -> int:
    """A flag raised and broadcast to `team` at `at`, unanswered: history as the server
    stores it (the card posted as `message_id` in `channel`)."""
    n = next(_seq)
    with Session(engine) as s:
        flag = Flag(
            org_id=ids.org_id,
            platform="slack",
            workspace_id="T0001",
            channel_id="C0CUSTOMERS",
            message_id=f"{at.timestamp():.6f}-{n}",
            excerpt=f"customer message {n}",
            flagger_id="U0ANN",
            flagged_at=at,
            via="reaction",
        )
        s.add(flag)
        s.flush()
        s.add(FlagTopic(flag_id=flag.id or 0, topic=team))
        b = Broadcast(
            org_id=ids.org_id,
            flag_id=flag.id or 0,
            team_id=ids.team_ids[team],
            platform="slack",
            channel_id=channel,
            message_id=message_id or f"{at.timestamp():.6f}",
            created_at=at,
            posted_at=at,
        )
        s.add(b)
        s.commit()
        return b.id or 0


# ---------------------------------------------------------------------------- pure time


@pytest.mark.parametrize(
    ("tz", "monday", "expected"),
    [
        (NEW_YORK, date(2026, 3, 2), utc(2026, 3, 2, 14)),  # EST
        (NEW_YORK, date(2026, 3, 9), utc(2026, 3, 9, 13)),  # EDT, the day after the switch
        (LONDON, date(2026, 3, 23), utc(2026, 3, 23, 9)),  # GMT
        (LONDON, date(2026, 3, 30), utc(2026, 3, 30, 8)),  # BST
        (LONDON, date(2026, 10, 19), utc(2026, 10, 19, 8)),
        (LONDON, date(2026, 10, 26), utc(2026, 10, 26, 9)),
        (NEW_YORK, date(2026, 10, 26), utc(2026, 10, 26, 13)),
        (NEW_YORK, date(2026, 11, 2), utc(2026, 11, 2, 14)),
    ],
)
def test_monday_0900_is_local_on_both_sides_of_each_switch(
    tz: ZoneInfo, monday: date, expected: datetime
) -> None:
    before = expected - timedelta(microseconds=1)
    assert next_send(MON_0900, tz, before) == expected
    assert last_send(MON_0900, tz, expected) == expected
    previous = last_send(MON_0900, tz, before)  # the Monday before, 09:00 local there too
    assert previous.astimezone(tz).date() == monday - timedelta(days=7)
    assert previous.astimezone(tz).strftime("%a %H:%M") == "Mon 09:00"
    assert expected.astimezone(tz).strftime("%a %H:%M") == "Mon 09:00"


def test_next_send_agrees_with_apscheduler_cron_all_year() -> None:
    for tz in (LONDON, NEW_YORK):
        cron = CronTrigger(day_of_week="mon", hour=9, minute=0, timezone=tz)
        instant = utc(2025, 12, 20)
        while instant < utc(2027, 1, 20):
            ours = next_send(MON_0900, tz, instant)
            assert ours == cron.get_next_fire_time(None, instant + timedelta(microseconds=1))
            assert ours.astimezone(tz).strftime("%a %H:%M") == "Mon 09:00"
            instant = ours


def test_a_time_the_clocks_skip_or_repeat() -> None:
    # London skips 01:00-02:00 on 29 March: "sun 01:30" lands when the clock shows 02:30.
    skipped = next_send(WeeklyTime.parse("sun 01:30"), LONDON, utc(2026, 3, 28))
    assert skipped == utc(2026, 3, 29, 1, 30)
    assert skipped.astimezone(LONDON).strftime("%H:%M %Z") == "02:30 BST"
    # 01:30 happens twice on 25 October: the first time.
    repeated = next_send(WeeklyTime.parse("sun 01:30"), LONDON, utc(2026, 10, 24))
    assert repeated == utc(2026, 10, 25, 0, 30)
    assert local_instant(date(2026, 10, 25), repeated.astimezone(LONDON).time(), LONDON) == repeated


def test_iso_weeks_across_new_year() -> None:
    assert week_before(utc(2027, 1, 4, 9), LONDON) == "2026-W53"
    assert week_before(utc(2027, 1, 11, 9), LONDON) == "2027-W01"
    assert week_before(utc(2026, 1, 5, 9), LONDON) == "2026-W01"  # 2026-W01 began 29 Dec 2025
    assert iso_week_bounds("2026-W53", LONDON) == (utc(2026, 12, 28), utc(2027, 1, 4))
    assert iso_week_bounds("2026-W53", NEW_YORK) == (utc(2026, 12, 28, 5), utc(2027, 1, 4, 5))
    # A "mon 00:30" digest just after the clocks went forward covers the week before it,
    # not the one before that (168 hours back would land on Sunday).
    assert week_before(utc(2026, 3, 29, 23, 30), LONDON) == "2026-W13"


def test_weekly_time_parsing() -> None:
    assert str(WeeklyTime.parse(" FRI 16:05 ")) == "fri 16:05"
    for bad in ("monday 09:00", "mon 9:00", "mon 24:00", ""):
        with pytest.raises(ValueError, match="is not a weekly time"):
            WeeklyTime.parse(bad)


# ---------------------------------------------------------------------------- due checks


async def test_due_checks_fire_at_0900_local_across_daylight_saving(db_url: str) -> None:
    """London and New York teams, one unanswered flag a week around the spring and autumn
    switches; the due check runs a second before and at each team's Monday 09:00."""
    clock = FakeClock(utc(2026, 2, 20))
    async with Server(db_url, clock=clock, config_toml=TWO_ZONES, run_worker=False) as server:
        run = server.runtime
        wednesdays = [date(2026, 2, 25) + timedelta(weeks=n) for n in range(5)]  # W09-W13
        wednesdays += [date(2026, 10, 14) + timedelta(weeks=n) for n in range(3)]  # W42-W44
        for day in wednesdays:
            for team in ("london", "newyork"):
                seed_broadcast(run.engine, run.org.ids, team, local_instant(day, time(12), LONDON))

        def due_now(at: datetime) -> list[str]:
            clock.set(at)
            queued = digest.run_due(engine=run.engine, org=run.org, clock=clock).queued
            return [k.split(":")[2] + ":" + k.split(":")[3] for k in queued if "managers" not in k]

        cases = [
            (utc(2026, 3, 2, 14), "newyork:2026-W09"),  # 09:00 EST
            (utc(2026, 3, 9, 9), "london:2026-W10"),  # 09:00 GMT
            (utc(2026, 3, 9, 13), "newyork:2026-W10"),  # 09:00 EDT, one hour earlier in UTC
            (utc(2026, 3, 23, 9), "london:2026-W12"),
            (utc(2026, 3, 30, 8), "london:2026-W13"),  # 09:00 BST
            (utc(2026, 10, 19, 8), "london:2026-W42"),
            (utc(2026, 10, 26, 9), "london:2026-W43"),  # 09:00 GMT again
            (utc(2026, 10, 26, 13), "newyork:2026-W43"),  # 09:00 EDT
            (utc(2026, 11, 2, 14), "newyork:2026-W44"),  # 09:00 EST
        ]
        for instant, key in cases:
            assert key not in due_now(instant - timedelta(seconds=1)), (instant, key)
            assert due_now(instant) == [key], instant


async def test_a_flag_on_new_years_day_is_in_the_digest_of_2026_w53(db_url: str) -> None:
    clock = FakeClock(utc(2027, 1, 1, 12))
    async with Server(db_url, clock=clock, config_toml=TWO_ZONES) as server:
        run = server.runtime
        seed_broadcast(run.engine, run.org.ids, "london", utc(2027, 1, 1, 12))
        clock.set(utc(2027, 1, 4, 9))
        queued = digest.run_due(engine=run.engine, org=run.org, clock=clock).queued
        org_id = run.org.org_id
        # New York's 09:00 is later; this org names no managers, so no org digest.
        assert queued == [f"digest:{org_id}:london:2026-W53"]
        await server.settle()
        (posted,) = server.slack.posted("C0BILLING")
        assert posted["blocks"][0]["text"]["text"] == "📰 Weekly digest — London, 2026-W53"


# ---------------------------------------------------------------------------- the real thing


async def health(server: Server) -> dict[str, Any]:
    assert server.http is not None
    async with server.http.get(server.url + "/healthz") as resp:
        body: dict[str, Any] = await resp.json()
        return body


async def test_the_server_runs_the_named_jobs_from_the_database(db_url: str) -> None:
    """The scheduler inside the server checks at start (catching up), stores its jobs in
    the database, and a restarted server sends nothing twice: one digest, one reminder."""
    monday = utc(2026, 11, 23, 9, 30)
    clock = FakeClock(utc(2026, 11, 20, 12))
    async with Server(db_url, clock=clock) as server:
        slack = server.slack
        assert (await health(server))["scheduler"] == "off"
        card = slack.add_message(
            "C0BILLING", "a card", user="UBOT", ts=f"{clock.now().timestamp():.6f}"
        )
        seed_broadcast(
            server.runtime.engine,
            server.runtime.org.ids,
            "billing",
            clock.now(),
            channel="C0BILLING",
            message_id=card,
        )
    clock.set(monday)
    for _restart in range(2):
        async with Server(db_url, clock=clock, run_scheduler=True, slack=slack) as server:
            status: dict[str, Any] = {}

            async def ran_both() -> bool:
                nonlocal status
                status = (await health(server))["scheduler"]
                return set(status["last_run"]) == {job.name for job in JOBS}

            deadline = clock_time.monotonic() + 8
            while not await ran_both():
                assert clock_time.monotonic() < deadline, status
                await asyncio.sleep(0.05)
            await server.settle()
            assert status["running"] is True and status["errors"] == {}
            with server.runtime.engine.connect() as conn:
                rows = conn.execute(text(f"SELECT id, next_run_time FROM {TABLE} ORDER BY id"))
                stored = {row.id: row.next_run_time for row in rows}
            jobs = {"sla_nudges", "weekly_digests", "prune_inbox", "listening_model"}
            assert set(stored) == {f"Acme:{name}" for name in jobs}
            # Scheduled (APScheduler keeps its next run on the wall clock, so not compared).
            assert all(v is not None for v in stored.values())
        digests = [m for m in slack.posted("C0BILLING") if "Weekly digest —" in all_text(m)]
        assert len(digests) == 1
        # Friday 12:00 + 4 business hours (Mon-Fri 09:00-17:30) was Friday 16:00.
        (reminder,) = slack.posted("C0BILLING", thread_ts=card)
        assert reminder["text"].startswith("⏰ No first response yet")
    await slack.stop()


async def test_serve_without_the_scheduler_runs_no_jobs(db_url: str) -> None:
    async with Server(db_url) as server:
        assert (await health(server))["scheduler"] == "off"
        with server.runtime.engine.connect() as conn:
            assert not inspect(conn).has_table(TABLE)
