"""The dashboard's week-by-week figures are /roi's figures over those weeks: each trend
point is the maturity `/roi` gives for the 28 days to that week's end, each team's weekly
p50/p90 and SLA attainment what `/roi` gives for that week."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session

from bot.core.clock import FakeClock
from bot.handlers.roi.periods import parse_period
from bot.web import figures
from bot.web.cache import WeekCache
from tests.handlers.roi_data import Data, org_toml, team_toml, utc

NOW = utc(2026, 11, 18, 12)  # a Wednesday
TOML = org_toml([team_toml("ops", ["UA", "UB"], "1h"), team_toml("dev", ["UC", "UD"], "4h")])


@pytest.fixture
def data(db_url: str) -> Iterator[Data]:
    d = Data(db_url, TOML)
    start = NOW - timedelta(days=60)
    for i in range(90):  # three flags in every 16 hours, answered at varied speeds
        at = start + timedelta(hours=16 * i // 3, minutes=i)
        flagger, team, author = ("UA", "dev", "UC") if i % 2 else ("UC", "ops", "UB")
        f = d.flag(at, flagger, resolved_after=3600.0 if i % 3 == 0 else None)
        ttfr = 600.0 * (1 + i % 7) if i % 5 else None
        b = d.broadcast(f, team, at, ttfr=ttfr, cross=ttfr)
        if ttfr is not None:
            d.reply(f, b, author, at + timedelta(seconds=ttfr))
    d.session.commit()
    yield d
    d.close()


def _range(start: datetime, end: datetime) -> str:
    """The /roi period of the local (UTC) days in [start, end)."""
    return f"{start.date()}..{(end - timedelta(days=1)).date()}"


def _r(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)


def test_weekly_figures_are_roi_over_each_week(data: Data) -> None:
    clock = FakeClock(NOW)
    period = parse_period("30d", timezone="UTC", clock=clock)
    with Session(data.engine) as s:
        trend = figures.maturity_trend(
            s, org=data.org, clock=clock, period=period, cache=WeekCache()
        )
        labels, teams = figures.team_weeks(
            s, org=data.org, clock=clock, period=period, cache=WeekCache()
        )
    ws = figures.weeks(period, NOW)
    assert [w.label for w in ws] == labels == [label for label, _ in trend]
    assert labels[-1] == "W47" and len(labels) == 12
    scored = 0
    for w, (_, score) in zip(ws[:-1], trend[:-1], strict=True):  # the last week is under way
        r = data.json(NOW, _range(w.end - timedelta(days=28), w.end))
        assert score == r["maturity"]["score"], w.label
        scored += score is not None
    assert scored >= 4
    checked = 0
    for i, w in enumerate(ws[:-1]):
        r = data.json(NOW, _range(w.start, w.end))
        rows = {t["key"]: t for t in r["teams"]}
        for t in teams:
            assert _r(t.p50[i], 3) == rows[t.key]["ttfr"]["p50"]
            assert _r(t.p90[i], 3) == rows[t.key]["ttfr"]["p90"]
            assert _r(t.attainment[i], 4) == rows[t.key]["sla_attainment"]
            checked += t.p50[i] is not None
    assert checked >= 8
    whole = {t["key"]: t for t in data.json(NOW, "30d")["teams"]}
    for t in teams:
        assert t.flags == whole[t.key]["flags"]
        assert round(t.period_p50 or 0, 3) == (whole[t.key]["ttfr"]["p50"] or 0)


def test_past_weeks_come_from_the_cache_until_it_expires(data: Data) -> None:
    clock = FakeClock(NOW)
    period = parse_period("30d", timezone="UTC", clock=clock)
    cache = WeekCache(ttl=timedelta(minutes=10))

    def trend() -> list[tuple[str, int | None]]:
        with Session(data.engine) as s:
            return figures.maturity_trend(s, org=data.org, clock=clock, period=period, cache=cache)

    before = trend()
    for k in range(40):  # a late burst of unanswered flags, three weeks back
        data.flag(NOW - timedelta(days=20, minutes=k), "UA")
    data.session.commit()
    now = trend()
    assert now[:-1] == before[:-1]  # past weeks as they were a moment ago
    assert now[-1] != before[-1]  # the week under way is always worked out
    clock.advance(timedelta(minutes=11))
    assert trend()[:-1] != before[:-1]
