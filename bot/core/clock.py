"""Time, injected: handlers take a `Clock` so tests can drive time without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


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


def from_epoch(value: str | float) -> datetime:
    """A platform timestamp (Slack `ts` like "1763800000.000100") as an aware UTC datetime."""
    return datetime.fromtimestamp(float(value), UTC)
