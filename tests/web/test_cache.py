"""The dashboard's cache of past weeks: a window is kept only once it is over, and only for
its time to live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.web.cache import WeekCache

NOW = datetime(2026, 11, 16, 9, tzinfo=UTC)


def test_past_windows_are_kept_for_their_ttl_and_open_ones_never() -> None:
    cache = WeekCache(ttl=timedelta(minutes=10))
    cache.put(("w", 1), NOW - timedelta(days=1), NOW, 42)
    cache.put(("w", 2), NOW + timedelta(days=1), NOW, 7)  # not over yet
    assert cache.get(("w", 1), NOW + timedelta(minutes=9)) == (True, 42)
    assert cache.get(("w", 1), NOW + timedelta(minutes=11)) == (False, None)
    assert cache.get(("w", 1), NOW - timedelta(seconds=1)) == (False, None)  # clock went back
    assert cache.get(("w", 2), NOW) == (False, None)
    cache.put(("w", 3), NOW, NOW, None)  # a None (no score) is a value too
    assert cache.get(("w", 3), NOW) == (True, None)
