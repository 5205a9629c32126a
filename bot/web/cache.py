"""Figures of weeks that have ended, kept a while per process.

The Overview's trend is twelve 28-day maturity windows and the Teams page twelve weeks of
SLA counts and percentiles: the dearest queries of the dashboard, over weeks whose figures
barely move once they are over (an old flag resolved, a late first response, a reply
deleted). Each is kept for `ttl` (10 minutes) and then computed again; a window that has not
ended yet is never kept. Per process: replicas each keep their own.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

MAX_ENTRIES = 10_000


class WeekCache:
    def __init__(self, ttl: timedelta = timedelta(minutes=10)) -> None:
        self.ttl = ttl
        self._values: dict[tuple[Any, ...], tuple[datetime, Any]] = {}

    def get(self, key: tuple[Any, ...], now: datetime) -> tuple[bool, Any]:
        """(found, value) for a window's key; stale entries are not found."""
        found = self._values.get(key)
        if found is None or not (found[0] <= now <= found[0] + self.ttl):
            return False, None
        return True, found[1]

    def put(self, key: tuple[Any, ...], end: datetime, now: datetime, value: Any) -> None:
        """Keep `value` if its window (ending at `end`) is over."""
        if end > now:
            return
        if len(self._values) >= MAX_ENTRIES:
            self._values.clear()
        self._values[key] = (now, value)
