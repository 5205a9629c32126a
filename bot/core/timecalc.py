"""Time arithmetic for SLAs and reports: durations, business hours, percentiles, ISO weeks.

Pure functions, no I/O. Every instant argument must be timezone-aware; all arithmetic is done
on UTC instants (aware datetimes that share a `ZoneInfo` compare and subtract by *wall clock*,
which is wrong across daylight-saving changes), and business-hour boundaries are converted
from local wall time to instants one day at a time, so spans of months cost O(days).

Local boundary times that do not exist or occur twice (daylight-saving changes) are resolved
so that a window is "from the first moment the clock shows the opening time until the last
moment it shows the closing time":

* a time inside a spring-forward gap maps to the instant the clocks jump (so "01:30-03:00" on
  the London switch day is open 02:00-03:00 BST, one real hour);
* an ambiguous opening time takes its first occurrence (``fold=0``), an ambiguous closing time
  its second (``fold=1``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

__all__ = [
    "BusinessHours",
    "add_business_seconds",
    "business_seconds",
    "format_duration",
    "is_open",
    "iso_week_bounds",
    "iso_week_of",
    "next_open",
    "parse_duration",
    "percentile",
    "subtract_business_seconds",
]

# --------------------------------------------------------------------------- durations

_UNIT_SECONDS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_UNIT_ORDER = "wdhms"
_DURATION_RE = re.compile(r"(?:\s*\d{1,9}\s*[wdhms])+\s*", re.IGNORECASE | re.ASCII)
_DURATION_PART_RE = re.compile(r"(\d+)\s*([wdhms])", re.IGNORECASE | re.ASCII)


def parse_duration(text: str) -> timedelta:
    """Parse "90s", "30m", "4h", "1d", "1h30m", "2d 4h", "1w" (case- and space-insensitive).

    Units are w, d, h, m, s, each at most once and largest first; the total must be > 0.
    """
    bad = ValueError(f"{text.strip()!r} is not a duration; use forms like 30m, 4h, 1d")
    if not _DURATION_RE.fullmatch(text):
        raise bad
    total = 0
    last_rank = -1
    for number, unit in _DURATION_PART_RE.findall(text):
        rank = _UNIT_ORDER.index(unit.lower())
        if rank <= last_rank:  # repeated or out of order, e.g. "30m1h" or "1h1h"
            raise bad
        last_rank = rank
        total += int(number) * _UNIT_SECONDS[unit.lower()]
    if total <= 0:
        raise ValueError(f"{text.strip()!r} is not a duration; it must be longer than zero")
    try:
        return timedelta(seconds=total)
    except OverflowError:
        raise ValueError(f"{text.strip()!r} is too long to be a duration") from None


_FORMAT_UNITS = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))


def format_duration(seconds: float | None) -> str:
    """Short human form for chat cards: 45 -> "45s", 5400 -> "1h 30m", 90000 -> "1d 1h".

    Rounds to whole seconds, then shows the largest unit and the next one down, leaving out
    zero parts (3630 -> "1h", not "1h 0m" and not "1h 30s"). None or non-finite -> "—".
    """
    if seconds is None or not math.isfinite(seconds):
        return "\u2014"
    sign = "-" if seconds < 0 else ""
    remaining = math.floor(abs(seconds) + 0.5)
    if remaining == 0:
        return "0s"
    index = next(i for i, (_, size) in enumerate(_FORMAT_UNITS) if remaining >= size)
    parts = []
    for name, size in _FORMAT_UNITS[index : index + 2]:
        amount, remaining = divmod(remaining, size)
        if amount:
            parts.append(f"{amount}{name}")
    return sign + " ".join(parts)


# --------------------------------------------------------------------------- business hours

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_INDEX = {name: index for index, name in enumerate(_DAY_NAMES)}
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})", re.ASCII)
_MINUTES_PER_DAY = 24 * 60
_EXAMPLE = "'Mon-Fri 09:00-17:30'"

Interval = tuple[int, int]
"""Opening and closing time as minutes after local midnight; closing may be 1440 (24:00)."""


@dataclass(frozen=True)
class BusinessHours:
    """A weekly schedule: at most one opening interval per weekday, in local wall time.

    ``intervals[0]`` is Monday, ``intervals[6]`` Sunday; ``None`` means closed all day.
    Equality ignores ``text``, so "mon-fri 09:00-17:00" == "Mon-Fri 09:00-17:00".
    """

    intervals: tuple[Interval | None, ...]
    always_open: bool = False
    text: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if len(self.intervals) != 7:
            raise ValueError("BusinessHours needs exactly 7 daily intervals (Monday first)")
        for span in self.intervals:
            if span is not None and not 0 <= span[0] < span[1] <= _MINUTES_PER_DAY:
                raise ValueError(f"bad business-hours interval {span!r}")
        if not self.always_open and all(span is None for span in self.intervals):
            raise ValueError("a schedule must be open on at least one day")

    def __str__(self) -> str:
        return self.text

    @classmethod
    def parse(cls, text: str) -> BusinessHours:
        """Parse "Mon-Fri 09:00-17:30", "Mon-Thu 09:00-17:00; Fri 09:00-15:00",
        "Mon,Wed,Fri 08:00-12:00", "Sat-Sun 10:00-14:00" or "24/7".

        Day names are three letters, any case; a range may wrap ("Fri-Mon"). Each day may
        appear once. Intervals may not cross midnight; "24:00" is allowed as a closing time.
        """
        source = text.strip()
        if source.lower() == "24/7":
            return cls(intervals=(None,) * 7, always_open=True, text=source)
        segments = [segment.strip() for segment in source.split(";")]
        segments = [segment for segment in segments if segment]
        if not segments:
            raise ValueError(f"business hours are empty; write e.g. {_EXAMPLE} or '24/7'")
        intervals: list[Interval | None] = [None] * 7
        seen_in: dict[int, str] = {}
        for segment in segments:
            days, span = _parse_segment(segment)
            for day in days:
                if day in seen_in:
                    raise ValueError(
                        f"{_DAY_NAMES[day].title()} is listed twice (in {seen_in[day]!r} and "
                        f"{segment!r}); each day may have only one interval"
                    )
                seen_in[day] = segment
                intervals[day] = span
        return cls(intervals=tuple(intervals), text=source)


def _parse_segment(segment: str) -> tuple[list[int], Interval]:
    digit = re.search(r"\d", segment, re.ASCII)
    if digit is None:
        raise ValueError(f"{segment!r} has no hours; write e.g. {_EXAMPLE}")
    days_text, hours_text = segment[: digit.start()].strip(), segment[digit.start() :]
    if not days_text:
        raise ValueError(f"{segment!r} names no days; write e.g. {_EXAMPLE}")
    days = _parse_days(days_text, segment)
    pieces = hours_text.split("-")
    if len(pieces) != 2:
        raise ValueError(f"{hours_text.strip()!r} in {segment!r} is not like '09:00-17:30'")
    start = _parse_clock(pieces[0].strip(), segment, closing=False)
    end = _parse_clock(pieces[1].strip(), segment, closing=True)
    if end <= start:
        raise ValueError(
            f"in {segment!r} the closing time must be after the opening time "
            "(intervals cannot cross midnight; use 24:00 to close at midnight)"
        )
    return days, (start, end)


def _parse_days(days_text: str, segment: str) -> list[int]:
    days: list[int] = []
    for item in days_text.split(","):
        names = [name.strip() for name in item.split("-")]
        if len(names) > 2:
            raise ValueError(f"{item.strip()!r} in {segment!r} is not a day or a day range")
        indexes = [_parse_day(name, segment) for name in names]
        first, last = indexes[0], indexes[-1]
        count = (last - first) % 7 + 1
        for offset in range(count):
            day = (first + offset) % 7
            if day in days:
                raise ValueError(
                    f"{_DAY_NAMES[day].title()} is listed twice in {segment!r}; "
                    "each day may have only one interval"
                )
            days.append(day)
    return days


def _parse_day(name: str, segment: str) -> int:
    index = _DAY_INDEX.get(name.lower())
    if index is None:
        shown = repr(name) if name else "an empty day name"
        raise ValueError(
            f"{shown} in {segment!r} is not a day; use Mon, Tue, Wed, Thu, Fri, Sat, Sun"
        )
    return index


def _parse_clock(value: str, segment: str, *, closing: bool) -> int:
    match = _TIME_RE.fullmatch(value)
    if match is not None:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            return hour * 60 + minute
        if closing and hour == 24 and minute == 0:
            return _MINUTES_PER_DAY
    allowed = "00:00-24:00" if closing else "00:00-23:59"
    raise ValueError(f"{value!r} in {segment!r} is not a time; use HH:MM ({allowed})")


def _require_aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(UTC)


def _offset_at(timestamp: int, tz: tzinfo) -> timedelta | None:
    return datetime.fromtimestamp(timestamp, tz).utcoffset()


def _local_instant(day: date, minute: int, tz: tzinfo, *, latest: bool) -> datetime:
    """The UTC instant at which the local clock in `tz` shows `day` + `minute` minutes.

    Ambiguous: the first occurrence, or the second if `latest`. Nonexistent (in a gap): the
    instant the clocks jump over it.
    """
    naive = datetime.combine(day, time()) + timedelta(minutes=minute)
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if first == second:
        return first
    early, late = min(first, second), max(first, second)
    if early.astimezone(tz).replace(tzinfo=None) == naive:  # both instants show this time
        return late if latest else early
    # In a gap: `early` lies before the transition, `late` after. Find the transition second.
    low, high = int(early.timestamp()), math.ceil(late.timestamp())
    before = _offset_at(low, tz)
    while high - low > 1:
        middle = (low + high) // 2
        if _offset_at(middle, tz) == before:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


def _day_window(day: date, hours: BusinessHours, tz: tzinfo) -> tuple[datetime, datetime] | None:
    span = hours.intervals[day.weekday()]
    if span is None:
        return None
    opening = _local_instant(day, span[0], tz, latest=False)
    closing = _local_instant(day, span[1], tz, latest=True)
    return (opening, closing) if closing > opening else None


def _local_date(instant: datetime, tz: tzinfo) -> date:
    return instant.astimezone(tz).date()


class _DayStream:
    """Consecutive dates from `first`, ending with a clear error at the end of the calendar."""

    def __init__(self, first: date) -> None:
        self._next = first

    def __iter__(self) -> _DayStream:
        return self

    def __next__(self) -> date:
        day = self._next
        try:
            self._next = day + timedelta(days=1)
        except OverflowError:
            raise ValueError("business-hours calculation ran past the year 9999") from None
        return day


# A schedule with at least one open day opens at least once in any fortnight, apart from an
# interval swallowed whole by a daylight-saving gap; this bounds searches for the next opening.
_SEARCH_DAYS = 60


def is_open(at: datetime, hours: BusinessHours, tz: tzinfo) -> bool:
    """Whether the instant `at` falls inside the schedule (opening inclusive, closing not)."""
    instant = _require_aware("at", at)
    if hours.always_open:
        return True
    today = _local_date(instant, tz)
    for delta in (-1, 0, 1):
        window = _day_window(today + timedelta(days=delta), hours, tz)
        if window is not None and window[0] <= instant < window[1]:
            return True
    return False


def next_open(at: datetime, hours: BusinessHours, tz: tzinfo) -> datetime:
    """The first instant >= `at` inside the schedule: `at` itself if open already, else the
    next opening (expressed in `at`'s timezone)."""
    instant = _require_aware("at", at)
    if is_open(at, hours, tz):
        return at
    first = _local_date(instant, tz) - timedelta(days=1)
    for count, day in enumerate(_DayStream(first)):
        if count > _SEARCH_DAYS:
            break
        window = _day_window(day, hours, tz)
        if window is not None and window[0] > instant:
            return window[0].astimezone(at.tzinfo)
    raise ValueError(f"schedule {hours.text!r} never opens")  # pragma: no cover


def business_seconds(start: datetime, end: datetime, hours: BusinessHours, tz: tzinfo) -> float:
    """Seconds between the instants `start` and `end` that fall inside the schedule, with
    opening hours read in local time of `tz`. Real elapsed seconds, so a day on which the
    clocks change counts 23 or 25 hours when open all day. 0.0 if end <= start."""
    begin, finish = _require_aware("start", start), _require_aware("end", end)
    if finish <= begin:
        return 0.0
    if hours.always_open:
        return (finish - begin).total_seconds()
    last = _local_date(finish, tz) + timedelta(days=1)
    total = timedelta(0)
    cursor = begin  # windows may touch or overlap at midnight; never count a moment twice
    for day in _DayStream(_local_date(begin, tz) - timedelta(days=1)):
        if day > last:
            break
        window = _day_window(day, hours, tz)
        if window is None:
            continue
        low, high = max(window[0], cursor), min(window[1], finish)
        if high > low:
            total += high - low
            cursor = high
    return total.total_seconds()


def add_business_seconds(
    start: datetime, seconds: float, hours: BusinessHours, tz: tzinfo
) -> datetime:
    """The earliest instant at which `seconds` of business time have passed since `start`
    (an SLA due time), in `start`'s timezone. Inverse of `business_seconds`: for
    ``due = add_business_seconds(s, n, ...)``, ``business_seconds(s, due, ...) == n``
    (to the microsecond). Zero seconds returns `start` even outside business hours.
    """
    begin = _require_aware("start", start)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
    remaining = timedelta(seconds=seconds)
    if not remaining:
        return start
    if hours.always_open:
        return (begin + remaining).astimezone(start.tzinfo)
    cursor = begin
    for day in _DayStream(_local_date(begin, tz) - timedelta(days=1)):
        window = _day_window(day, hours, tz)
        if window is None:
            continue
        low, high = max(window[0], cursor), window[1]
        if high <= low:
            continue
        if remaining <= high - low:
            return (low + remaining).astimezone(start.tzinfo)
        remaining -= high - low
        cursor = high
    raise AssertionError("unreachable")  # pragma: no cover


def subtract_business_seconds(
    end: datetime, seconds: float, hours: BusinessHours, tz: tzinfo
) -> datetime:
    """The earliest instant from which exactly `seconds` of business time pass by `end`, in
    `end`'s timezone: whatever started before it has had *more* than `seconds` by `end`
    (``business_seconds(p, end, ...) > seconds`` iff ``p`` is earlier), which is how a
    report tells, with one comparison in SQL, which unanswered items are past their SLA.
    """
    finish = _require_aware("end", end)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"seconds must be a finite number > 0, got {seconds!r}")
    remaining = timedelta(seconds=seconds)
    if hours.always_open:
        return (finish - remaining).astimezone(end.tzinfo)
    cursor = finish
    day = _local_date(finish, tz) + timedelta(days=1)
    while True:
        window = _day_window(day, hours, tz)
        if window is not None:
            low, high = window[0], min(window[1], cursor)
            if high > low:
                # Strictly inside: at exactly an opening the same total is reached from the
                # previous closing onwards, and the earliest such instant is wanted.
                if remaining < high - low:
                    return (high - remaining).astimezone(end.tzinfo)
                remaining -= high - low
                cursor = low
        try:
            day -= timedelta(days=1)
        except OverflowError:
            raise ValueError("business-hours calculation ran before the year 1") from None


# --------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0 <= q <= 1) by linear interpolation between closest ranks, the same
    as NumPy's default method and PostgreSQL's percentile_cont. None for no values."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"percentile q must be between 0 and 1, got {q!r}")
    if any(math.isnan(value) for value in values):
        raise ValueError("percentile of values containing NaN")
    ordered = sorted(float(value) for value in values)
    if not ordered:
        return None
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    fraction = position - below
    low, high = ordered[below], ordered[above]
    # NumPy's _lerp: interpolate from the nearer end, which keeps results monotonic in q.
    if fraction >= 0.5:
        return high - (high - low) * (1.0 - fraction)
    return low + (high - low) * fraction


# --------------------------------------------------------------------------- ISO weeks

_WEEK_RE = re.compile(r"(\d{4})-W(\d{2})", re.IGNORECASE | re.ASCII)


def iso_week_bounds(week: str, tz: tzinfo) -> tuple[datetime, datetime]:
    """For "2026-W47": the UTC instants of local Monday 00:00 of that ISO week in `tz` and
    of the following Monday 00:00 (a half-open range; consecutive weeks tile exactly)."""
    match = _WEEK_RE.fullmatch(week.strip())
    if match is None:
        raise ValueError(f"{week!r} is not an ISO week; use the form 2026-W47")
    year, number = int(match.group(1)), int(match.group(2))
    try:
        monday = date.fromisocalendar(year, number, 1)
    except ValueError:
        raise ValueError(f"{week!r} is not an ISO week: {year} has no week {number}") from None
    following = monday + timedelta(days=7)
    return (
        _local_instant(monday, 0, tz, latest=False),
        _local_instant(following, 0, tz, latest=False),
    )


def iso_week_of(at: datetime, tz: tzinfo) -> str:
    """The ISO week ("2026-W47") containing the instant `at` in local time of `tz`; ISO years
    differ from calendar years near New Year (2027-01-01 is in "2026-W53")."""
    _require_aware("at", at)
    year, number, _ = at.astimezone(tz).isocalendar()
    return f"{year:04d}-W{number:02d}"
