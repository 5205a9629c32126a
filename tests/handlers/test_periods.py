"""/roi periods: what a manager types, as [start, end) UTC instants at local midnights in
the org's timezone, relative to the injected clock.

Calendar facts used below: Europe/London leaves BST on Sun 2026-10-25 (02:00 BST -> 01:00
GMT), so a London midnight is 23:00 UTC the day before until then and 00:00 UTC after;
America/Santiago starts summer time on Sun 2026-09-06 at local midnight (00:00 -> 01:00),
so that day has no midnight and lasts 23 hours.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.core.clock import FakeClock
from bot.handlers.roi.periods import Period, parse_period
from bot.handlers.roi.view import USAGE

NOW = FakeClock(datetime(2026, 11, 21, 14, 0, tzinfo=UTC))  # a Saturday


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def parse(text: str | None, tz: str = "UTC", clock: FakeClock = NOW) -> Period:
    return parse_period(text, timezone=tz, clock=clock)


def test_the_default_is_the_last_30_days_including_today() -> None:
    # METRICS' example: asked on 2026-11-21, the 30 days are Oct 23 .. Nov 21 inclusive.
    p = parse(None)
    assert (p.start, p.end) == (utc(2026, 10, 23), utc(2026, 11, 22))
    assert p.days == 30 and not p.explicit  # the maturity score then uses its own 28 days
    with pytest.raises(ValueError, match="The period is empty"):
        parse("")  # given but empty (`--period ""`): a usage error, not the default
    typed = parse(" 30d ")
    assert (typed.start, typed.end, typed.explicit) == (p.start, p.end, True)


@pytest.mark.parametrize(
    ("text", "start"),
    [("7d", utc(2026, 11, 15)), ("90d", utc(2026, 8, 24)), ("1d", utc(2026, 11, 21))],
)
def test_day_counts_end_tonight(text: str, start: datetime) -> None:
    # 7 days back from Nov 21 inclusive starts Nov 15; 90 days starts Aug 24 (8 days of
    # August + 30 + 31 + 21 = 90).
    p = parse(text)
    assert (p.start, p.end) == (start, utc(2026, 11, 22))


def test_days_are_local_days_across_a_clock_change() -> None:
    # On 2026-11-10 in London, 30d = Oct 12 .. Nov 10: it starts at a BST midnight
    # (Oct 11 23:00 UTC) and ends at a GMT one (Nov 11 00:00 UTC): 30 days and 1 hour.
    clock = FakeClock(utc(2026, 11, 10, 12))
    p = parse("30d", "Europe/London", clock)
    assert (p.start, p.end) == (utc(2026, 10, 11, 23), utc(2026, 11, 11))
    assert p.end - p.start == timedelta(days=30, hours=1)


def test_today_is_the_org_timezone_s_today() -> None:
    # 23:30 UTC on Nov 21 is already 08:30 on Nov 22 in Tokyo (UTC+9): the period ends at
    # Tokyo's midnight after Nov 22, which is 15:00 UTC on Nov 22.
    late = FakeClock(utc(2026, 11, 21, 23, 30))
    p = parse("7d", "Asia/Tokyo", late)
    assert p.last_day == date(2026, 11, 22)
    assert (p.start, p.end) == (utc(2026, 11, 15, 15), utc(2026, 11, 22, 15))
    assert parse("7d", "America/New_York", late).last_day == date(2026, 11, 21)


def test_quarters() -> None:
    # Q4 in London: Oct 1 00:00 BST (Sep 30 23:00 UTC) to Jan 1 00:00 GMT, 92 days.
    this = parse("quarter", "Europe/London")
    assert (this.start, this.end, this.days) == (utc(2026, 9, 30, 23), utc(2027, 1, 1), 92)
    q3 = parse("2026-q3", "Europe/London")
    assert (q3.start, q3.end, q3.label) == (utc(2026, 6, 30, 23), utc(2026, 9, 30, 23), "2026-Q3")
    q1 = parse("2027-Q1")  # 31 + 28 + 31 days
    assert (q1.start, q1.end, q1.days) == (utc(2027, 1, 1), utc(2027, 4, 1), 90)


def test_date_ranges_include_both_days() -> None:
    p = parse("2026-10-01..2026-10-31", "Europe/London")
    assert (p.start, p.end, p.days) == (utc(2026, 9, 30, 23), utc(2026, 11, 1), 31)
    one = parse("2026-10-25..2026-10-25", "Europe/London")  # the 25-hour day
    assert one.end - one.start == timedelta(hours=25)


def test_a_day_without_a_midnight_starts_when_the_clocks_jump() -> None:
    # Santiago: Sep 5 begins 04:00 UTC (-04); Sep 6's 00:00 does not exist, it begins at
    # the jump (04:00 UTC = 01:00 -03); Sep 7 begins 03:00 UTC. Days tile without a gap.
    p = parse("2026-09-05..2026-09-06", "America/Santiago")
    assert (p.start, p.end) == (utc(2026, 9, 5, 4), utc(2026, 9, 7, 3))
    first, second = p.last(2).previous(), parse("2026-09-06..2026-09-06", "America/Santiago")
    assert second.start == utc(2026, 9, 6, 4) and second.end - second.start == timedelta(hours=23)
    assert first.end == p.start


def test_previous_periods_have_equal_length_and_tile() -> None:
    p = parse("30d")
    before = p.previous()
    assert (before.start, before.end, before.days) == (utc(2026, 9, 23), p.start, 30)
    q3 = parse("2026-Q3")  # Jul 1 - 92 days = Mar 31
    assert (q3.previous().start, q3.previous().end) == (utc(2026, 3, 31), q3.start)
    last28 = p.last(28)  # the maturity window when no period is given: Oct 25 .. Nov 21
    assert (last28.start, last28.end) == (utc(2026, 10, 25), p.end)
    assert last28.previous().end == last28.start


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "31x",
        "0d",
        "1097d",
        "30 d",
        "month",
        "2026-Q5",
        "2026-Q0",
        "26-Q1",
        "1969-Q4",
        "2026-13-01..2026-13-02",
        "2026-02-30..2026-03-01",
        "2026-10-31..2026-10-01",
        "2026-10-01..",
        "2026-10-01",
        "2020-01-01..2026-01-01",
        "2026-10-01...2026-10-31",
    ],
)
def test_anything_else_is_refused_with_the_usage_line(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse(text)
    message = str(caught.value)
    assert message.endswith(USAGE) and repr(text.strip()) in message


def test_the_longest_period_is_three_years() -> None:
    assert parse("1096d").days == 1096
    assert parse("2024-01-01..2026-12-31").days == 1096
