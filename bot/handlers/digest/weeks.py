"""When a weekly digest is due, and which week it covers, in a team's own timezone.

A digest time is a local weekday and clock time ("mon 09:00"). It is turned into a UTC
instant one week at a time from the local calendar, never by adding 168 hours to an
instant, so a team in Europe/London gets its digest at 09:00 on the Monday after the clocks
change (08:00 UTC in summer, 09:00 UTC in winter).

A local time the clocks skip (a "sun 01:30" digest in a spring-forward gap) is read with the
offset in force before the jump, so it lands as long after the jump as it was meant to be
after midnight; a local time that occurs twice takes its first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPEC = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)\s+([01]\d|2[0-3]):([0-5]\d)$")
ONE_WEEK = timedelta(days=7)


@dataclass(frozen=True)
class WeeklyTime:
    weekday: int  # 0 = Monday
    at: time

    @classmethod
    def parse(cls, text: str) -> WeeklyTime:
        match = _SPEC.match(text.strip().lower())
        if match is None:
            raise ValueError(f"{text!r} is not a weekly time; use a form like 'mon 09:00'")
        day, hour, minute = match.groups()
        return cls(_DAYS.index(day), time(int(hour), int(minute)))

    def __str__(self) -> str:
        return f"{_DAYS[self.weekday]} {self.at:%H:%M}"


def local_instant(day: date, at: time, tz: tzinfo) -> datetime:
    """The UTC instant at which the local clock in `tz` shows `day` `at` (fold 0: see the
    module docstring for skipped and repeated times)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _monday_of(instant: datetime, tz: tzinfo) -> date:
    local = instant.astimezone(tz).date()
    return local - timedelta(days=local.weekday())


def send_time(when: WeeklyTime, monday: date, tz: tzinfo) -> datetime:
    """The digest instant in the local week that starts on `monday`."""
    return local_instant(monday + timedelta(days=when.weekday), when.at, tz)


def last_send(when: WeeklyTime, tz: tzinfo, now: datetime) -> datetime:
    """The latest digest instant at or before `now`."""
    monday = _monday_of(now, tz)
    candidate = send_time(when, monday, tz)
    return candidate if candidate <= now else send_time(when, monday - ONE_WEEK, tz)


def next_send(when: WeeklyTime, tz: tzinfo, after: datetime) -> datetime:
    """The first digest instant strictly after `after`."""
    monday = _monday_of(after, tz)
    candidate = send_time(when, monday, tz)
    return candidate if candidate > after else send_time(when, monday + ONE_WEEK, tz)


def week_before(instant: datetime, tz: tzinfo) -> str:
    """The ISO week that ended last before `instant` (local calendar of `tz`): the week a
    digest sent at `instant` covers, and the default of `crosstalk digest`. Across New Year
    this is "2026-W53" for a digest sent on Monday 2027-01-04. Counted on the local calendar,
    not as 168 hours back, which would land in the wrong week from a "mon 00:30" digest
    just after the clocks went forward."""
    year, week, _ = (instant.astimezone(tz).date() - ONE_WEEK).isocalendar()
    return f"{year:04d}-W{week:02d}"
