"""Time, injected: handlers take a `Clock` so tests can drive time without sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock:
    """Time that starts at `start` and runs at the real pace: a process started by a test
    (`crosstalk serve` with `CROSSTALK_CLOCK_START`) lives on the test's calendar, on any date."""

    def __init__(self, start: datetime, monotonic: Callable[[], float] = time.monotonic) -> None:
        if start.tzinfo is None:
            raise ValueError("OffsetClock needs a timezone-aware start")
        self._start = start
        self._monotonic = monotonic
        self._origin = monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._monotonic() - self._origin)


def clock_from(start: datetime | None) -> Clock:
    """The process clock: the system's, or one set to start at `start`."""
    return SystemClock() if start is None else OffsetClock(start.astimezone(UTC))


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, at: datetime) -> None:
        self._now = at


_YEAR_2200 = 7_258_118_400.0


def from_epoch(value: str | float) -> datetime:
    """A platform timestamp (Slack `ts` like "1763800000.000100") as an aware UTC datetime."""
    seconds = float(value)
    if not 0 <= seconds < _YEAR_2200:  # also NaN; the C library fails past its own range
        raise ValueError(f"{value!r} is not a time of this era")
    return datetime.fromtimestamp(seconds, UTC)
