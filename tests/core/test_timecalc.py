"""Tests for bot.core.timecalc. Expected values are worked out by hand in the comments.

Calendar facts used below (checked with datetime.date.isocalendar()):
2026-01-13 Tue, 2026-01-16 Fri, 2026-01-19 Mon, 2026-07-14 Tue;
Europe/London: BST starts Sun 2026-03-29 01:00 UTC (01:00 GMT -> 02:00 BST) and ends
Sun 2026-10-25 01:00 UTC (02:00 BST -> 01:00 GMT);
America/New_York: EDT starts Sun 2026-03-08 (02:00 EST -> 03:00 EDT) and ends
Sun 2026-11-01 (02:00 EDT -> 01:00 EST).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.timecalc import (
    BusinessHours,
    add_business_seconds,
    business_seconds,
    format_duration,
    is_open,
    iso_week_bounds,
    iso_week_of,
    next_open,
    parse_duration,
    percentile,
    subtract_business_seconds,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = BusinessHours.parse("Mon-Fri 09:00-17:30")
WEEKENDS = BusinessHours.parse("Sat-Sun 00:00-24:00")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("30m", 30 * 60),  # 1800
        ("4h", 4 * 3600),  # 14400
        ("1d", 86400),
        ("1h30m", 3600 + 30 * 60),  # 5400
        ("2d4h", 2 * 86400 + 4 * 3600),  # 172800 + 14400 = 187200
        ("1w", 7 * 86400),  # 604800
        (" 1H 30M ", 5400),
        ("1d 2h 3m 4s", 86400 + 7200 + 180 + 4),  # 93784
        ("0h5m", 300),
    ],
)
def test_parse_duration_accepts(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "4x", "h", "30", "1h30", "1.5h", "-5m", "30m1h", "1h1h", "4 hours", "1 0m"],
)
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_parse_duration_message_and_zero() -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration("4x")
    assert str(caught.value) == "'4x' is not a duration; use forms like 30m, 4h, 1d"
    with pytest.raises(ValueError, match="longer than zero"):
        parse_duration("0m")
    with pytest.raises(ValueError, match="longer than zero"):
        parse_duration("0h 0m")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "\u2014"),
        (float("nan"), "\u2014"),
        (0, "0s"),
        (45, "45s"),
        (45.4, "45s"),
        (59.6, "1m"),  # rounds to 60 s
        (600, "10m"),
        (3600, "1h"),
        (3661, "1h 1m"),  # 1h 1m 1s: two largest units
        (3630, "1h"),  # 1h 0m 30s: the zero minutes are dropped, seconds not shown
        (5400, "1h 30m"),
        (86400 + 30, "1d"),  # 1d 0h 0m 30s
        (90000, "1d 1h"),  # 86400 + 3600
        (30 * 86400, "30d"),
        (-600, "-10m"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


# --------------------------------------------------------------------------- schedules

NINE, FIVE_THIRTY = 9 * 60, 17 * 60 + 30  # 540, 1050 minutes after midnight


def test_parse_schedules() -> None:
    assert WEEKDAYS.intervals == ((NINE, FIVE_THIRTY),) * 5 + (None, None)
    assert str(WEEKDAYS) == "Mon-Fri 09:00-17:30"
    assert WEEKDAYS.text == "Mon-Fri 09:00-17:30"
    assert not WEEKDAYS.always_open

    split = BusinessHours.parse("Mon-Thu 09:00-17:00; Fri 09:00-15:00")
    assert split.intervals == ((540, 1020),) * 4 + ((540, 900), None, None)

    mwf = BusinessHours.parse("Mon,Wed,Fri 08:00-12:00")
    assert mwf.intervals == ((480, 720), None, (480, 720), None, (480, 720), None, None)

    weekend = BusinessHours.parse("Sat-Sun 10:00-14:00")
    assert weekend.intervals == (None,) * 5 + ((600, 840), (600, 840))

    assert WEEKENDS.intervals == (None,) * 5 + ((0, 1440), (0, 1440))  # 24:00 = 1440

    always = BusinessHours.parse(" 24/7 ")
    assert always.always_open
    assert str(always) == "24/7"

    # Wrapping range Fri-Mon = Fri, Sat, Sun, Mon; case and spacing do not matter.
    wrap = BusinessHours.parse("fri - MON 9:00 - 10:00")
    assert wrap.intervals == ((540, 600), None, None, None, (540, 600), (540, 600), (540, 600))

    # Equality is about the schedule, not the spelling.
    assert BusinessHours.parse("mon-fri 09:00-17:30") == WEEKDAYS
    assert hash(BusinessHours.parse("mon-fri 09:00-17:30")) == hash(WEEKDAYS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        (" ; ", "empty"),
        ("Mon-Fri", "'Mon-Fri' has no hours"),
        ("09:00-17:00", "names no days"),
        ("Fry 09:00-17:00", "'Fry' .* is not a day"),
        ("Monday 09:00-17:00", "'Monday' .* is not a day"),
        ("Mon,,Wed 09:00-10:00", "empty day name"),
        ("Mon-Tue-Wed 09:00-10:00", "'Mon-Tue-Wed' .* not a day or a day range"),
        ("Mon-Fri 9-17", "'9' .* is not a time"),
        ("Mon-Fri 25:00-26:00", "'25:00' .* is not a time"),
        ("Mon-Fri 09:60-17:00", "'09:60' .* is not a time"),
        ("Mon-Fri 09:00-24:01", "'24:01' .* is not a time"),
        ("Mon 24:00-24:00", "'24:00' .* is not a time"),  # 24:00 only as a closing time
        ("Mon-Fri 09:00 17:00", "is not like '09:00-17:30'"),
        ("Mon-Fri 17:00-09:00", "closing time must be after the opening"),  # no overnight
        ("Mon-Fri 09:00-09:00", "closing time must be after the opening"),
        ("Mon-Fri 09:00-17:00; Fri 09:00-15:00", "Fri is listed twice"),
        ("Mon,Mon 09:00-10:00", "Mon is listed twice"),
        ("Mon-Sun 09:00-10:00; Wed 11:00-12:00", "Wed is listed twice"),
    ],
)
def test_parse_schedule_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessHours.parse(text)


def test_business_hours_constructor_validates() -> None:
    with pytest.raises(ValueError):
        BusinessHours(intervals=(None,) * 7)
    with pytest.raises(ValueError):
        BusinessHours(intervals=((600, 540),) + (None,) * 6)


# --------------------------------------------------------------------------- business seconds
# In January London is on GMT (= UTC), so local and UTC clock times coincide.


def test_business_seconds_within_one_day() -> None:
    # Tue 10:00 -> 12:00, all inside 09:00-17:30: 2 h = 7200 s.
    assert business_seconds(utc(2026, 1, 13, 10), utc(2026, 1, 13, 12), WEEKDAYS, LONDON) == 7200
    # Tue 08:00 -> 10:00: only 09:00-10:00 counts = 3600 s.
    assert business_seconds(utc(2026, 1, 13, 8), utc(2026, 1, 13, 10), WEEKDAYS, LONDON) == 3600
    # Tue 17:00 -> 20:00: only 17:00-17:30 counts = 1800 s.
    assert business_seconds(utc(2026, 1, 13, 17), utc(2026, 1, 13, 20), WEEKDAYS, LONDON) == 1800
    # Tue 18:00 -> 20:00: closed = 0.
    assert business_seconds(utc(2026, 1, 13, 18), utc(2026, 1, 13, 20), WEEKDAYS, LONDON) == 0


def test_business_seconds_across_a_night() -> None:
    # Tue 16:00 -> Wed 10:00: Tue 16:00-17:30 (1.5 h) + Wed 09:00-10:00 (1 h) = 2.5 h = 9000 s.
    assert business_seconds(utc(2026, 1, 13, 16), utc(2026, 1, 14, 10), WEEKDAYS, LONDON) == 9000


def test_business_seconds_across_a_weekend() -> None:
    # Fri 17:00 -> Mon 10:00: 0.5 h Fri + 1 h Mon = 1.5 h = 5400 s.
    assert business_seconds(utc(2026, 1, 16, 17), utc(2026, 1, 19, 10), WEEKDAYS, LONDON) == 5400


def test_business_seconds_full_week_and_months() -> None:
    # Mon 00:00 -> next Mon 00:00: 5 days x 8.5 h = 42.5 h = 153000 s.
    assert business_seconds(utc(2026, 1, 19), utc(2026, 1, 26), WEEKDAYS, LONDON) == 153000
    # Jan 19 -> Apr 13 2026 = 84 days = 12 whole weeks, DST switch included (each local
    # 09:00-17:30 is still 8.5 real hours): 12 x 153000 = 1836000 s.
    assert business_seconds(utc(2026, 1, 19), utc(2026, 4, 13), WEEKDAYS, LONDON) == 1836000


def test_business_seconds_uses_local_time() -> None:
    # July: London is BST (UTC+1), so 09:00-17:30 local is 08:00-16:30 UTC = 8.5 h.
    assert business_seconds(utc(2026, 7, 14, 0), utc(2026, 7, 15, 0), WEEKDAYS, LONDON) == 30600
    # 16:30 UTC -> 18:00 UTC is 17:30-19:00 BST: closed.
    assert business_seconds(utc(2026, 7, 14, 16, 30), utc(2026, 7, 14, 18), WEEKDAYS, LONDON) == 0
    # Inputs in any aware timezone mean the same instants.
    start = datetime(2026, 7, 14, 9, tzinfo=LONDON)  # 08:00 UTC
    end = datetime(2026, 7, 14, 4, tzinfo=NEW_YORK)  # EDT, UTC-4: 08:00 UTC + 0 = 08:00 UTC
    assert business_seconds(start, end, WEEKDAYS, LONDON) == 0
    end = datetime(2026, 7, 14, 5, tzinfo=NEW_YORK)  # 09:00 UTC
    assert business_seconds(start, end, WEEKDAYS, LONDON) == 3600


def test_business_seconds_empty_or_reversed() -> None:
    at = utc(2026, 1, 13, 10)
    assert business_seconds(at, at, WEEKDAYS, LONDON) == 0.0
    assert business_seconds(at, at - timedelta(hours=1), WEEKDAYS, LONDON) == 0.0


def test_business_seconds_rejects_naive() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        business_seconds(datetime(2026, 1, 13, 10), utc(2026, 1, 13, 12), WEEKDAYS, LONDON)


def test_business_seconds_london_spring_forward() -> None:
    # Sat 2026-03-28 00:00 GMT = 00:00 UTC; Sun 24:00 local = Mon 2026-03-30 00:00 BST =
    # Sun 23:00 UTC. Sat is 24 h, Sun (clocks skip 01:00-02:00) is 23 h: 47 h = 169200 s.
    assert business_seconds(utc(2026, 3, 27, 12), utc(2026, 3, 31), WEEKENDS, LONDON) == 169200
    # The Sunday alone: 00:00 GMT (00:00 UTC) -> 24:00 local (23:00 UTC) = 23 h = 82800 s.
    assert business_seconds(utc(2026, 3, 29), utc(2026, 3, 30), WEEKENDS, LONDON) == 82800


def test_business_seconds_london_fall_back() -> None:
    # Sat 2026-10-24 00:00 BST = Fri 23:00 UTC; Mon 2026-10-26 00:00 GMT = 00:00 UTC:
    # 24 h Sat + 25 h Sun (01:00-02:00 happens twice) = 49 h = 176400 s.
    assert business_seconds(utc(2026, 10, 23), utc(2026, 10, 27), WEEKENDS, LONDON) == 176400


def test_business_seconds_switch_day_daytime_hours() -> None:
    # A 09:00-17:30 day is 8.5 real hours on either side of the switch:
    # Sat 2026-03-28 09:00 GMT = 09:00 UTC .. 17:30 UTC; Sun 09:00 BST = 08:00 UTC .. 16:30 UTC.
    # 8.5 + 8.5 = 17 h = 61200 s.
    weekend_days = BusinessHours.parse("Sat-Sun 09:00-17:30")
    assert business_seconds(utc(2026, 3, 28), utc(2026, 3, 30), weekend_days, LONDON) == 61200
    # Sunday 08:00-09:00 UTC is 09:00-10:00 BST, open; Saturday 08:00-09:00 UTC is closed.
    assert business_seconds(utc(2026, 3, 29, 8), utc(2026, 3, 29, 9), weekend_days, LONDON) == 3600
    assert business_seconds(utc(2026, 3, 28, 8), utc(2026, 3, 28, 9), weekend_days, LONDON) == 0


def test_business_seconds_new_york_switches() -> None:
    sunday = BusinessHours.parse("Sun 00:00-24:00")
    # 2026-03-08 00:00 EST = 05:00 UTC; 2026-03-09 00:00 EDT = 04:00 UTC: 23 h = 82800 s.
    assert business_seconds(utc(2026, 3, 7), utc(2026, 3, 10), sunday, NEW_YORK) == 82800
    # 2026-11-01 00:00 EDT = 04:00 UTC; 2026-11-02 00:00 EST = 05:00 UTC: 25 h = 90000 s.
    assert business_seconds(utc(2026, 10, 31), utc(2026, 11, 3), sunday, NEW_YORK) == 90000
    # An ordinary Sunday is 24 h: 2026-03-15 00:00 EDT = 04:00 UTC .. 2026-03-16 04:00 UTC.
    assert business_seconds(utc(2026, 3, 14), utc(2026, 3, 17), sunday, NEW_YORK) == 86400


def test_business_seconds_nonexistent_and_ambiguous_boundaries() -> None:
    # 01:30 does not exist in London on 2026-03-29 (01:00 GMT jumps to 02:00 BST at 01:00 UTC);
    # the window opens when the clocks jump (01:00 UTC) and closes at 03:00 BST = 02:00 UTC:
    # 1 h = 3600 s, the real time the clock shows 02:00-03:00.
    gap = BusinessHours.parse("Sun 01:30-03:00")
    assert business_seconds(utc(2026, 3, 29), utc(2026, 3, 30), gap, LONDON) == 3600
    # Entirely inside the gap: never open that day.
    swallowed = BusinessHours.parse("Sun 01:15-01:45")
    assert business_seconds(utc(2026, 3, 29), utc(2026, 3, 30), swallowed, LONDON) == 0
    # 01:00 and 01:30 both happen twice on 2026-10-25 (02:00 BST -> 01:00 GMT at 01:00 UTC).
    # Opening takes the first 01:00 (BST, 00:00 UTC), closing the last 01:30 (GMT, 01:30 UTC):
    # 1.5 h = 5400 s.
    fold = BusinessHours.parse("Sun 01:00-01:30")
    assert business_seconds(utc(2026, 10, 25), utc(2026, 10, 26), fold, LONDON) == 5400


def test_business_seconds_always_open() -> None:
    always = BusinessHours.parse("24/7")
    assert business_seconds(utc(2026, 1, 16, 17), utc(2026, 1, 19, 10), always, LONDON) == (
        3 * 86400 - 7 * 3600  # Fri 17:00 -> Mon 10:00 = 65 h = 234000 s
    )
    # Both ends in London wall time across spring forward: 00:00 GMT -> 03:00 BST = 2 real hours.
    start = datetime(2026, 3, 29, 0, tzinfo=LONDON)
    end = datetime(2026, 3, 29, 3, tzinfo=LONDON)
    assert business_seconds(start, end, always, LONDON) == 7200


def test_business_seconds_agrees_with_is_open_minute_by_minute() -> None:
    # Brute force over the London spring-forward week with awkward boundaries: count the
    # minutes at which is_open() is true; every window boundary is a whole UTC minute here.
    hours = BusinessHours.parse("Mon-Fri 08:15-18:45; Sat 01:30-03:00; Sun 00:00-24:00")
    start, end = utc(2026, 3, 26, 7), utc(2026, 4, 1, 9)
    minutes = int((end - start).total_seconds() // 60)
    open_minutes = sum(is_open(start + timedelta(minutes=i), hours, LONDON) for i in range(minutes))
    assert business_seconds(start, end, hours, LONDON) == open_minutes * 60


# --------------------------------------------------------------------------- is_open / next_open


def test_is_open() -> None:
    assert is_open(utc(2026, 1, 16, 9), WEEKDAYS, LONDON)  # Fri 09:00: opening is inclusive
    assert is_open(utc(2026, 1, 16, 17, 29), WEEKDAYS, LONDON)
    assert not is_open(utc(2026, 1, 16, 17, 30), WEEKDAYS, LONDON)  # closing is exclusive
    assert not is_open(utc(2026, 1, 16, 8, 59), WEEKDAYS, LONDON)
    assert not is_open(utc(2026, 1, 17, 12), WEEKDAYS, LONDON)  # Saturday
    assert is_open(utc(2026, 7, 14, 8), WEEKDAYS, LONDON)  # 09:00 BST
    assert not is_open(utc(2026, 7, 14, 16, 30), WEEKDAYS, LONDON)  # 17:30 BST
    assert is_open(utc(2026, 1, 17, 3), BusinessHours.parse("24/7"), LONDON)
    # Midnight between two all-day Saturday and Sunday windows is open.
    assert is_open(utc(2026, 1, 18, 0), WEEKENDS, LONDON)


def test_next_open() -> None:
    # Fri 18:00 -> Mon 09:00.
    assert next_open(utc(2026, 1, 16, 18), WEEKDAYS, LONDON) == utc(2026, 1, 19, 9)
    # Already open: unchanged.
    assert next_open(utc(2026, 1, 16, 12), WEEKDAYS, LONDON) == utc(2026, 1, 16, 12)
    # Exactly at closing: the next opening, Mon 09:00.
    assert next_open(utc(2026, 1, 16, 17, 30), WEEKDAYS, LONDON) == utc(2026, 1, 19, 9)
    # Early morning: same day.
    assert next_open(utc(2026, 1, 13, 6), WEEKDAYS, LONDON) == utc(2026, 1, 13, 9)
    # Summer: 09:00 BST = 08:00 UTC; the answer is in the caller's timezone.
    result = next_open(datetime(2026, 7, 14, 7, tzinfo=LONDON), WEEKDAYS, LONDON)
    assert result == utc(2026, 7, 14, 8)
    assert result.tzinfo is LONDON
    assert (result.hour, result.minute) == (9, 0)
    # Saturday before the London switch, weekday schedule -> Mon 2026-03-30 09:00 BST = 08:00 UTC.
    assert next_open(utc(2026, 3, 28, 12), WEEKDAYS, LONDON) == utc(2026, 3, 30, 8)
    # 24/7: always `at`.
    at = utc(2026, 1, 17, 3)
    assert next_open(at, BusinessHours.parse("24/7"), LONDON) is at


# --------------------------------------------------------------------------- add_business_seconds


def test_add_business_seconds_examples() -> None:
    # Fri 17:00 + 1.5 h: 0.5 h on Friday, 1 h on Monday -> Mon 10:00.
    assert add_business_seconds(utc(2026, 1, 16, 17), 5400, WEEKDAYS, LONDON) == utc(
        2026, 1, 19, 10
    )
    # Landing exactly on closing time stays on Friday 17:30, not Monday 09:00.
    assert add_business_seconds(utc(2026, 1, 16, 16), 5400, WEEKDAYS, LONDON) == utc(
        2026, 1, 16, 17, 30
    )
    # Saturday noon + 1 h -> Mon 10:00.
    assert add_business_seconds(utc(2026, 1, 17, 12), 3600, WEEKDAYS, LONDON) == utc(
        2026, 1, 19, 10
    )
    # Zero: start itself.
    at = utc(2026, 1, 17, 12)
    assert add_business_seconds(at, 0, WEEKDAYS, LONDON) is at
    # Eight working days of 8.5 h from Mon 09:00 = Mon + 8 -> end of the following Wednesday
    # (Mon..Fri, Mon..Wed): Wed 2026-01-28 17:30 UTC.
    assert add_business_seconds(utc(2026, 1, 19, 9), 8 * 30600, WEEKDAYS, LONDON) == utc(
        2026, 1, 28, 17, 30
    )
    with pytest.raises(ValueError):
        add_business_seconds(at, -1, WEEKDAYS, LONDON)
    with pytest.raises(ValueError):
        add_business_seconds(at, float("inf"), WEEKDAYS, LONDON)


def test_add_business_seconds_always_open_uses_real_time() -> None:
    # 2026-03-29 00:00 GMT + 2 real hours = 02:00 UTC = 03:00 BST (not wall-clock 02:00).
    start = datetime(2026, 3, 29, 0, tzinfo=LONDON)
    due = add_business_seconds(start, 7200, BusinessHours.parse("24/7"), LONDON)
    assert due == utc(2026, 3, 29, 2)
    assert due.hour == 3


@pytest.mark.parametrize(
    "hours",
    [
        WEEKDAYS,
        WEEKENDS,
        BusinessHours.parse("Mon-Thu 09:00-17:00; Fri 09:00-15:00; Sun 01:30-03:00"),
        BusinessHours.parse("Sun 01:00-01:30; Wed 23:00-24:00"),
    ],
)
@pytest.mark.parametrize("tz", [LONDON, NEW_YORK])
def test_add_business_seconds_round_trips(hours: BusinessHours, tz: ZoneInfo) -> None:
    starts = [
        utc(2026, 1, 16, 17),
        utc(2026, 3, 6, 12),  # the week of the New York spring switch
        utc(2026, 3, 27, 23, 59),  # just before the London spring switch
        utc(2026, 10, 24, 22, 17),  # just before the London fall-back
        utc(2026, 10, 31, 5, 1, 7),  # just before the New York fall-back
    ]
    amounts = [1, 59.5, 1800, 5400, 30600, 86400, 200000, 2_000_000]
    for start in starts:
        for amount in amounts:
            due = add_business_seconds(start, amount, hours, tz)
            assert due >= start
            assert business_seconds(start, due, hours, tz) == amount
            # Earliest such instant: one microsecond earlier is not enough.
            assert business_seconds(start, due - timedelta(microseconds=1), hours, tz) < amount


# --------------------------------------------------------------------------- percentile


def test_percentile() -> None:
    # Positions are q * (n - 1), interpolated linearly between neighbours.
    # [600, 1800, 7200], q=0.9: position 1.8 -> 1800 + 0.8 * (7200 - 1800) = 6120.
    assert percentile([600, 1800, 7200], 0.9) == 6120.0
    # Input order does not matter.
    assert percentile([7200, 600, 1800], 0.9) == 6120.0
    # q=0.5 of [1, 2, 3, 4]: position 1.5 -> 2 + 0.5 * (3 - 2) = 2.5.
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    # q=0.5 of an odd count is the middle value.
    assert percentile([5, 1, 3], 0.5) == 3.0
    # [10, 20], q=0.25: position 0.25 -> 10 + 0.25 * 10 = 12.5.
    assert percentile([10, 20], 0.25) == 12.5
    # Ends.
    assert percentile([3, 9, 4], 0.0) == 3.0
    assert percentile([3, 9, 4], 1.0) == 9.0
    # A single value is every percentile.
    for q in (0.0, 0.5, 0.9, 1.0):
        assert percentile([42], q) == 42.0
    # Nothing to measure.
    assert percentile([], 0.5) is None


def test_percentile_rejects() -> None:
    for q in (-0.1, 1.1, float("nan")):
        with pytest.raises(ValueError):
            percentile([1, 2], q)
    with pytest.raises(ValueError):
        percentile([1, float("nan")], 0.5)


# --------------------------------------------------------------------------- ISO weeks


def test_iso_calendar_facts() -> None:
    # The facts the tests below rely on, straight from Python.
    assert date(2026, 12, 31).isocalendar() == (2026, 53, 4)  # Thursday of 2026-W53
    assert date(2027, 1, 1).isocalendar() == (2026, 53, 5)
    assert date(2027, 1, 4).isocalendar() == (2027, 1, 1)  # Monday of 2027-W01
    assert date(2026, 11, 16).isocalendar() == (2026, 47, 1)


def test_iso_week_bounds() -> None:
    # 2026-W47 starts Mon 2026-11-16; London is on GMT then.
    assert iso_week_bounds("2026-W47", LONDON) == (utc(2026, 11, 16), utc(2026, 11, 23))
    # New York is EST (UTC-5): local midnight is 05:00 UTC.
    assert iso_week_bounds("2026-W47", NEW_YORK) == (utc(2026, 11, 16, 5), utc(2026, 11, 23, 5))
    # Across the year boundary: 2026-W53 is Mon 2026-12-28 .. Mon 2027-01-04.
    assert iso_week_bounds("2026-W53", LONDON) == (utc(2026, 12, 28), utc(2027, 1, 4))
    assert iso_week_bounds("2027-w01", LONDON) == (utc(2027, 1, 4), utc(2027, 1, 11))
    # The London spring-forward week: Mon 2026-03-23 00:00 GMT = 00:00 UTC to
    # Mon 2026-03-30 00:00 BST = Sun 23:00 UTC, 7 x 24 - 1 = 167 h.
    first, last = iso_week_bounds("2026-W13", LONDON)
    assert (first, last) == (utc(2026, 3, 23), utc(2026, 3, 29, 23))
    assert last - first == timedelta(hours=167)
    assert first.tzinfo is UTC


@pytest.mark.parametrize(
    "text", ["", "2026", "2026-47", "2026-W7", "2026-W00", "2026-W54", "2025-W53", "26-W01", "x"]
)
def test_iso_week_bounds_rejects(text: str) -> None:
    # 2025 began on a Wednesday and is not a leap year, so it has only 52 ISO weeks.
    with pytest.raises(ValueError, match="ISO week"):
        iso_week_bounds(text, LONDON)


def test_iso_week_of() -> None:
    assert iso_week_of(utc(2026, 11, 18, 12), LONDON) == "2026-W47"
    assert iso_week_of(utc(2026, 12, 31, 12), LONDON) == "2026-W53"
    assert iso_week_of(utc(2027, 1, 1, 12), LONDON) == "2026-W53"
    assert iso_week_of(utc(2027, 1, 4, 12), LONDON) == "2027-W01"
    # Mon 2027-01-04 03:00 UTC is still Sun 2027-01-03 22:00 in New York (EST, UTC-5).
    assert iso_week_of(utc(2027, 1, 4, 3), LONDON) == "2027-W01"
    assert iso_week_of(utc(2027, 1, 4, 3), NEW_YORK) == "2026-W53"
    # Consistent with iso_week_bounds: the first instant of a week belongs to it, the end not.
    first, last = iso_week_bounds("2026-W13", LONDON)
    assert iso_week_of(first, LONDON) == "2026-W13"
    assert iso_week_of(last, LONDON) == "2026-W14"
    assert iso_week_of(last - timedelta(microseconds=1), LONDON) == "2026-W13"


def test_subtract_business_seconds() -> None:
    # Mon 2026-01-19 10:00 London (GMT): 4 business hours back are Mon 09:00-10:00 and
    # Fri 14:30-17:30, so anything posted before Fri 14:30 has waited more than 4 hours.
    monday = utc(2026, 1, 19, 10)
    assert subtract_business_seconds(monday, 4 * 3600, WEEKDAYS, LONDON) == utc(2026, 1, 16, 14, 30)
    # Exactly one hour back lands on Monday's opening; the same hour is reached from
    # Friday's closing onwards, and the earliest such instant is the answer.
    assert subtract_business_seconds(monday, 3600, WEEKDAYS, LONDON) == utc(2026, 1, 16, 17, 30)
    assert subtract_business_seconds(monday, 1800, WEEKDAYS, LONDON) == utc(2026, 1, 19, 9, 30)
    always = BusinessHours.parse("24/7")
    assert subtract_business_seconds(monday, 90, always, LONDON) == monday - timedelta(seconds=90)
    with pytest.raises(ValueError):
        subtract_business_seconds(monday, 0, WEEKDAYS, LONDON)


@pytest.mark.parametrize("seconds", [1.0, 1800.5, 4 * 3600.0, 30600.0, 5 * 86400.0])
def test_subtract_business_seconds_inverts_business_seconds(seconds: float) -> None:
    # For every `start`: business_seconds(start, end) > seconds exactly when start < cut,
    # across the London clock change (2026-10-25) and weekends.
    end = utc(2026, 10, 27, 11, 15)
    for hours in (WEEKDAYS, WEEKENDS):
        cut = subtract_business_seconds(end, seconds, hours, LONDON)
        assert business_seconds(cut, end, hours, LONDON) == seconds
        for delta in (-3600.0, -1e-6, 0.0, 1e-6, 7200.0):
            start = cut + timedelta(seconds=delta)
            assert (business_seconds(start, end, hours, LONDON) > seconds) == (start < cut)
