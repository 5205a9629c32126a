"""The periods a manager can ask /roi about (SPEC "/roi"), as half-open [start, end) UTC
instants whose boundaries are local midnights in the org's timezone: "30d" means thirty
calendar days as the org lives them, daylight-saving changes included, and consecutive
periods tile exactly, so no flag is counted twice or lost between a period and the one
before it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.clock import Clock
from bot.handlers.roi.view import USAGE

DEFAULT = "30d"
MATURITY_DAYS = 28  # METRICS "maturity score": the last 28 days unless a period is given
MAX_DAYS = 1096  # three years: a longer report is a data export, not a chat answer
_DAYS = re.compile(r"(\d{1,4})d", re.IGNORECASE | re.ASCII)
_QUARTER = re.compile(r"(\d{4})-q([1-4])", re.IGNORECASE | re.ASCII)
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", re.ASCII)
_YEARS = range(1970, 3000)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The instant a local day begins (a midnight skipped by a clock change maps to the
    instant the clocks jump, so the day still begins exactly where the one before ends)."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Period:
    """`days` local calendar days from `first_day`; `explicit` when the manager named it
    (the maturity score then uses it instead of its own last 28 days)."""

    first_day: date
    days: int
    tz: ZoneInfo
    label: str
    explicit: bool = True

    @property
    def start(self) -> datetime:
        return local_midnight(self.first_day, self.tz)

    @property
    def end(self) -> datetime:
        return local_midnight(self.first_day + timedelta(days=self.days), self.tz)

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=self.days - 1)

    def previous(self) -> Period:
        """The period of equal length that ends where this one starts."""
        first = self.first_day - timedelta(days=self.days)
        return Period(first, self.days, self.tz, f"before {self.label}", self.explicit)

    def last(self, days: int) -> Period:
        """The `days` local days that end where this period ends."""
        first = self.first_day + timedelta(days=self.days - days)
        return Period(first, days, self.tz, f"last {days}d", self.explicit)


def _bad(text: str, why: str = "is not a period") -> ValueError:
    return ValueError(f"{text!r} {why}.\n{USAGE}")


def _quarter(year: int, number: int, tz: ZoneInfo, label: str) -> Period:
    first = date(year, 3 * number - 2, 1)
    following = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return Period(first, (following - first).days, tz, label)


def _date(text: str, whole: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _bad(whole, f"has an impossible date ({text})") from None


def parse_period(text: str | None, *, timezone: str, clock: Clock) -> Period:
    """`7d`, `30d` (the default), `90d` (any 1-1096 days ending today), `quarter` (this
    calendar quarter), `2026-Q3`, or `2026-10-01..2026-10-31` (both days included).
    None means the default; anything else, an empty text too, raises ValueError whose
    message ends with the usage line."""
    tz = ZoneInfo(timezone)
    today = clock.now().astimezone(tz).date()
    raw = (text or "").strip()
    if text is not None and not raw:
        raise ValueError(f"The period is empty: give one, or leave it out for {DEFAULT}.\n{USAGE}")
    value = raw or DEFAULT
    if match := _DAYS.fullmatch(value):
        days = int(match.group(1))
        if days < 1:
            raise _bad(raw, "is too short: a period is at least 1 day")
        if days > MAX_DAYS:
            raise _bad(raw, f"is too long: at most {MAX_DAYS} days")
        first = today - timedelta(days=days - 1)
        return Period(first, days, tz, f"{days}d", explicit=bool(raw))
    if value.lower() == "quarter":
        return _quarter(today.year, (today.month - 1) // 3 + 1, tz, "quarter")
    if match := _QUARTER.fullmatch(value):
        year = int(match.group(1))
        if year not in _YEARS:
            raise _bad(raw, "is out of range")
        return _quarter(year, int(match.group(2)), tz, value.upper())
    if match := _RANGE.fullmatch(value):
        first, last = _date(match.group(1), raw), _date(match.group(2), raw)
        if first.year not in _YEARS or last.year not in _YEARS:
            raise _bad(raw, "is out of range")
        if last < first:
            raise _bad(raw, "ends before it starts")
        days = (last - first).days + 1
        if days > MAX_DAYS:
            raise _bad(raw, f"is too long: at most {MAX_DAYS} days")
        return Period(first, days, tz, value)
    raise _bad(raw)
