"""/roi figures (METRICS.md) on data inserted row by row, every number worked out by hand in
the comments, on SQLite and (with CROSSTALK_TEST_POSTGRES_URL) PostgreSQL.

Percentiles interpolate between closest ranks: for n sorted values, q sits at position
q·(n-1) (0-based) between the values below and above it.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core.timecalc import BusinessHours, business_seconds, percentile
from bot.demo.org import ORG_TOML
from bot.handlers.roi.maturity import Components, MaturityInputs, stage
from store.models import Member
from tests.conftest import PG_ENV, _pg_database
from tests.handlers.roi_data import Data, org_toml, team_toml, utc

H = 3600.0
D = 86400.0


@pytest.fixture
def make(db_url: str) -> Iterator[Any]:
    made: list[Data] = []

    def build(toml: str) -> Data:
        made.append(Data(db_url, toml))
        return made[-1]

    yield build
    for data in made:
        data.close()


def team_row(
    key: str,
    flags: int,
    p50: float | None,
    p90: float | None,
    sla: float | None,
    **network: Any,
) -> dict[str, Any]:
    row = {"key": key, "flags": flags, "ttfr": {"p50": p50, "p90": p90}, "sla_attainment": sla}
    return row | {"ei": None, "siloed": None, "reach": None} | network


def objective(key: str, kpi: str, actual: Any, target: float, on_track: Any) -> dict[str, Any]:
    return {"key": key, "kpi": kpi, "actual": actual, "target": target, "on_track": on_track}


# ----------------------------------------------------------------------------- no data

METRICS_KEYS = {
    "org": None,
    "team": None,
    "period": {"start", "end"},
    "flags": None,
    "answer_rate": None,
    "resolution_rate": None,
    "tta": {"p50", "p90", "business_p50", "business_p90"},
    "ttfr": {"p50", "p90", "business_p50", "business_p90"},
    "cross_team_ttfr": {"p50", "p90", "business_p50", "business_p90"},
    "ttr": {"p50", "p90", "business_p50", "business_p90"},
    "sla_attainment": None,
    "satisfaction": None,
    "csat": None,
    "sentiment": {"positive", "neutral", "negative", "net"},
    "teams": None,
    "network": {"org_ei", "siloed_teams", "new_connections"},
    "maturity": {"score", "stage", "previous_score", "reason", "components"},
    "business": {
        "currency",
        "program_cost",
        "revenue",
        "savings",
        "roi",
        "crm_coverage",
        "by_kind",
    },
    "objectives": None,
    "listening": {
        "suggestions",
        "answered",
        "unanswered",
        "precision",
        "suggested_share",
        "time_to_flag",
        "routing_corrections",
    },
}
TEAM_KEYS = {"key", "flags", "ttfr", "sla_attainment", "ei", "siloed", "reach"}
COMPONENTS = ["listening", "engagement", "silo_breaking", "openness", "responsiveness"]
COMPONENTS += ["closed_loop"]
OBJECTIVE = """
[[objectives]]
key = "retention"
objective = "Keep the customers who complain"
kpi = "retained_value"
target = 50000
period = "quarter"
topics = ["billing"]
"""


def test_no_data_gives_nulls_and_zeros_with_exactly_the_stable_keys(make: Any) -> None:
    data = make(ORG_TOML + OBJECTIVE)
    out = data.json(utc(2026, 11, 21, 14))
    assert set(out) == set(METRICS_KEYS)
    for key, inner in METRICS_KEYS.items():
        if inner is not None:
            assert set(out[key]) == inner, key
    # London: Oct 23 begins at 23:00 UTC the day before (BST), Nov 22 at 00:00 (GMT).
    assert out["period"] == {"start": "2026-10-22T23:00:00Z", "end": "2026-11-22T00:00:00Z"}
    assert (out["org"], out["team"], out["flags"]) == ("Acme", None, 0)
    nothing = {"p50": None, "p90": None, "business_p50": None, "business_p90": None}
    for key in ("tta", "ttfr", "cross_team_ttfr", "ttr"):
        assert out[key] == nothing
    for key in ("answer_rate", "resolution_rate", "sla_attainment", "satisfaction", "csat"):
        assert out[key] is None
    assert set(out["sentiment"].values()) == {None}
    assert [t["key"] for t in out["teams"]] == [
        "success",
        "billing",
        "product",
        "engineering",
        "legal",
    ]
    for team in out["teams"]:
        assert set(team) == TEAM_KEYS
        assert team["flags"] == 0 and team["ttfr"] == {"p50": None, "p90": None}
        assert team["sla_attainment"] is team["ei"] is team["reach"] is team["siloed"] is None
    assert out["network"] == {"org_ei": None, "siloed_teams": [], "new_connections": []}
    assert out["maturity"] == {
        "score": None,
        "stage": None,
        "previous_score": None,
        "reason": "not enough data yet: 0 flags",
        "components": dict.fromkeys(COMPONENTS),
    }
    # No tool cost configured and no time spent: nothing to divide by.
    assert out["business"] == {
        "currency": "USD",
        "program_cost": 0.0,
        "revenue": 0.0,
        "savings": 0.0,
        "roi": None,
        "crm_coverage": None,
        "by_kind": {},
    }
    # 0 retained of 50,000 with 52 of Q4's 92 days gone (Oct 1 .. Nov 21 14:00 London).
    assert out["objectives"] == [objective("retention", "retained_value", 0.0, 50000.0, False)]


# ----------------------------------------------------------------------------- one team

ONE_TEAM = org_toml([team_toml("support", ["UA1", "UA2"], sla="2h")])


def test_a_single_team(make: Any) -> None:
    data = make(ONE_TEAM)
    day = utc(2026, 11, 2, 10)
    # Three flags by UA1, each answered by UA2 (same team: internal, so never "answered"
    # in the cross-team sense). TTFR 10 min, 30 min, 2 h; business 600, 1800, 3600.
    rows = [(600.0, 600.0, 300.0, "positive", 5), (1800.0, 1800.0, 900.0, "neutral", 4)]
    rows += [(7200.0, 3600.0, 5400.0, "negative", 2)]
    for i, (ttfr, business, tta, sentiment, score) in enumerate(rows):
        at = day + timedelta(days=i)
        flag = data.flag(at, "UA1", sentiment=sentiment, resolved_after=D if i == 0 else None)
        b = data.broadcast(flag, "support", at, ttfr=ttfr, ttfr_business=business, tta=tta)
        data.reply(flag, b, "UA2", at + timedelta(seconds=ttfr))
        data.rating(flag, score, at + timedelta(days=1))
    out = data.json(utc(2026, 11, 21, 14))
    assert (out["flags"], out["answer_rate"], out["resolution_rate"]) == (3, 0.0, 0.3333)
    # TTFR 600, 1800, 7200: p50 = 1800; p90 at 1.8 = 1800 + 0.8·5400 = 6120 (METRICS).
    # Business 600, 1800, 3600: p90 = 1800 + 0.8·1800 = 3240.
    assert out["ttfr"] == {
        "p50": 1800.0,
        "p90": 6120.0,
        "business_p50": 1800.0,
        "business_p90": 3240.0,
    }
    # TTA 300, 900, 5400: p90 = 900 + 0.8·4500 = 4500. No cross-team reply at all.
    assert out["tta"] == {
        "p50": 900.0,
        "p90": 4500.0,
        "business_p50": 900.0,
        "business_p90": 4500.0,
    }
    assert out["cross_team_ttfr"]["p50"] is None
    assert out["ttr"] == {"p50": D, "p90": D, "business_p50": D, "business_p90": D}
    # SLA 2 h: 600 and 1800 met, 7200 == SLA is met too.
    assert out["sla_attainment"] == 1.0
    # Ratings 5, 4, 2: mean 11/3; CSAT 2/3. Sentiment one of each: net 0.
    assert (out["satisfaction"], out["csat"]) == (3.6667, 0.6667)
    assert out["sentiment"] == {
        "positive": 0.3333,
        "neutral": 0.3333,
        "negative": 0.3333,
        "net": 0.0,
    }
    # One team of two: reach needs a second team; its E-I (one internal tie: -1) is under
    # the privacy floor, hidden from its row and from the siloed list, but it is the org's.
    assert out["teams"] == [
        {
            "key": "support",
            "flags": 3,
            "ttfr": {"p50": 1800.0, "p90": 6120.0},
            "sla_attainment": 1.0,
            "ei": None,
            "siloed": None,
            "reach": None,
        }
    ]
    assert out["network"] == {"org_ei": -1.0, "siloed_teams": [], "new_connections": []}
    assert out["maturity"]["reason"] == "not enough data yet: 3 flags"
    # Cost: (3 flags · 3 min + 3 interpretations · 10 min) / 60 · 75 = 48.75; no value.
    assert out["business"]["program_cost"] == 48.75
    assert (out["business"]["roi"], out["business"]["crm_coverage"]) == (-1.0, 0.0)
    assert data.report(utc(2026, 11, 21, 14)).business.crm_warning


# ----------------------------------------------------------------------------- SLA misses

SLA_ORG = org_toml(
    [team_toml("ops", ["UO1", "UO2", "UO3", "UO4", "UO5"]), team_toml("sales", ["US1"])]
)


def test_unanswered_past_the_sla_are_misses_judged_at_the_period_end(make: Any) -> None:
    data = make(SLA_ORG)
    now = utc(2026, 11, 20, 12)  # the 7d period runs to tonight; judged now

    def post(at: datetime, **times: Any) -> None:
        data.broadcast(data.flag(at, "US1"), "ops", at, **times)

    post(utc(2026, 11, 19, 9), ttfr=3600.0)  # TTFR == SLA: met
    post(utc(2026, 11, 19, 10), ttfr=3601.0)  # one second over: missed
    post(now - timedelta(seconds=3600))  # unanswered for exactly the SLA: not due yet
    post(now - timedelta(seconds=3601))  # unanswered, one second past: a miss
    post(now - timedelta(minutes=10))  # unanswered, not due
    post(utc(2026, 11, 19, 23, 30))  # unanswered 12.5 h by now: a miss
    data.broadcast(
        data.flag(utc(2026, 11, 16), "US1"), "ops", utc(2026, 11, 16), status="not_for_us"
    )
    data.broadcast(data.flag(utc(2026, 11, 16), "US1"), "ops", None)  # not posted yet
    out = data.json(now, "7d")
    # Due: the two answered + the two unanswered past the SLA = 4; met 1.
    assert out["sla_attainment"] == 0.25
    ops = out["teams"][0]
    # "Not for us" leaves ops' figures; the unposted broadcast is ops' but never due.
    assert (ops["key"], ops["flags"], ops["sla_attainment"]) == ("ops", 7, 0.25)
    assert ops["ttfr"] == {"p50": 3600.5, "p90": 3600.9}
    assert out["flags"] == 8
    # For Nov 19 alone, the end is Nov 20 00:00: the 23:30 broadcast had waited 30 min
    # then, not yet due, though it is late by now. Due 2, met 1.
    assert data.json(now, "2026-11-19..2026-11-19")["sla_attainment"] == 0.5


# ----------------------------------------------------------------------------- business hours

WEEKEND_ORG = org_toml(
    [
        team_toml("support", ["UP1", "UP2", "UP3", "UP4", "UP5"], sla="4h"),
        team_toml("sales", ["US1"], sla="4h"),
    ],
    tz="Europe/London",
    hours="Mon-Fri 09:00-17:30",
)


def test_business_hours_across_a_weekend(make: Any) -> None:
    data = make(WEEKEND_ORG)
    london, hours = ZoneInfo("Europe/London"), BusinessHours.parse("Mon-Fri 09:00-17:30")
    now = utc(2026, 11, 23, 10)  # Monday 10:00 in London (GMT)
    friday = utc(2026, 11, 20)

    def post(hour: int, minute: int = 0, second: int = 0, **times: Any) -> int:
        at = friday + timedelta(hours=hour, minutes=minute, seconds=second)
        flag = data.flag(at, "US1")
        return data.broadcast(flag, "support", at, **times)

    # Friday 16:00, unanswered: 1.5 h of Friday + 1 h of Monday = 2.5 h < 4 h: not yet due
    # in business hours, though 66 wall-clock hours have passed.
    post(16)
    # Friday 12:00, unanswered: 5.5 h + 1 h = 6.5 h: due, a miss either way.
    post(12)
    # Friday 14:30, unanswered: 3 h + 1 h = exactly 4 h: not past; 14:29:59 is 1 s past.
    post(14, 30)
    post(14, 29, 59)
    # Friday 17:00, answered cross-team Monday 09:30: 64.5 h on the wall clock,
    # 0.5 h + 0.5 h = 1 h of business time.
    posted, answered = friday + timedelta(hours=17), utc(2026, 11, 23, 9, 30)
    assert business_seconds(posted, answered, hours, london) == H
    wall = (answered - posted).total_seconds()
    assert wall == 232200.0
    post(17, ttfr=wall, ttfr_business=H, cross=wall, cross_business=H)
    for day in range(15):  # quiet flags, so that the maturity components are published
        data.flag(utc(2026, 11, 17, 9) + timedelta(hours=day), "US1")
    out = data.json(now, "7d")
    # Wall clock: all five are due (the 64.5 h answer too) and none met.
    assert out["sla_attainment"] == 0.0
    assert out["ttfr"] == {"p50": wall, "p90": wall, "business_p50": H, "business_p90": H}
    # C5 (cross-team, business hours): due = 12:00, 14:29:59 and the answered one; met 1.
    assert out["maturity"]["components"]["responsiveness"] == 0.3333


# ----------------------------------------------------------------------------- twenty flags

TWENTY_ORG = org_toml(
    [
        team_toml("alpha", ["UA1", "UA2", "UA3", "UA4", "UA5"]),
        team_toml("beta", ["UB1", "UB2", "UB3", "UB4", "UB5"]),
        team_toml("gamma", ["UG1", "UG2"]),
        team_toml("delta", ["UD1"]),
    ],
    extra=OBJECTIVE.replace("50000", "3000").replace("retention", "billing-retention"),
)
WINDOW = "2026-10-01..2026-10-28"  # 28 days; ends Oct 29 00:00 UTC
END = utc(2026, 10, 29)
LATER = utc(2026, 11, 15, 12)
# flag number: (replier, TTFR, cross-team?) -- one reply per flag.
REPLIES = {
    1: ("UB2", 1800.0, True),
    2: ("UB2", 3600.0, True),
    3: ("UB3", 3601.0, True),
    4: ("UD1", 600.0, True),
    5: ("UD1", 7200.0, True),
    6: ("UA2", 600.0, False),
    9: ("UA2", 60.0, True),
    10: ("UA2", 3000.0, True),
    11: ("UA3", 10000.0, True),
    12: ("UA4", 3599.0, True),
    13: ("UA5", 120.0, True),
    14: ("UB2", 900.0, False),
    17: ("UG2", 1200.0, False),
    18: ("UG2", 60.0, False),
}


def twenty(data: Data, flags: int = 20) -> None:
    """Flags 1-8 by UA1 (alpha) go to beta, 9-16 by UB1 (beta) to alpha, 17-20 by UG1
    (gamma) to gamma. 1-16 are on Oct 1-16; 17 on Oct 25; 18, 19 and 20 are posted 1 h 1 s,
    30 min and exactly 1 h before the end. 1-10 negative, 11-15 neutral, 16-20 positive;
    16-20 from private channels. 1-8 resolved after 1..8 days. CRM refs on 1-3, topic
    "billing" on 1, 4 and 5. Twenty flags in the 28 days before, by UA1, untouched.
    UA1 and UB2 are also listed by a user group: still one member each."""
    for person, team in (("UA1", "alpha"), ("UB2", "beta")):
        team_id = data.ids.team_ids[team]
        listed = {"platform": "slack", "user_id": person, "source": "usergroup"}
        data.session.add(Member(org_id=data.ids.org_id, team_id=team_id, **listed))
    for i in range(20):
        data.flag(utc(2026, 9, 3, 10) + timedelta(days=i), "UA1", public=False)
    for n in range(1, flags + 1):
        flagger, team = (
            ("UA1", "beta") if n <= 8 else ("UB1", "alpha") if n <= 16 else ("UG1", "gamma")
        )
        posted = utc(2026, 10, n, 10, 1) if n <= 16 else utc(2026, 10, 25, 10, 1)
        posted = {18: END - timedelta(seconds=3601), 19: END - timedelta(minutes=30)}.get(n, posted)
        posted = END - timedelta(seconds=3600) if n == 20 else posted
        flag = data.flag(
            posted - timedelta(minutes=1),
            flagger,
            public=n <= 15,
            sentiment="negative" if n <= 10 else "neutral" if n <= 15 else "positive",
            crm=f"ACME-{n}" if n <= 3 else None,
            topics=["billing"] if n in (1, 4, 5) else [],
            resolved_after=n * D if n <= 8 else None,
        )
        author, ttfr, cross = REPLIES.get(n, (None, None, False))
        b = data.broadcast(flag, team, posted, ttfr=ttfr, cross=ttfr if cross else None)
        if author is not None and ttfr is not None:
            data.reply(flag, b, author, posted + timedelta(seconds=ttfr))
        if n == 4:
            data.outcome(flag, "retained", 1000.0, utc(2026, 10, 10))
        if n == 9:  # an outcome closes the loop without a resolve
            data.outcome(flag, "cost_saved", 200.0, utc(2026, 10, 12))
        if n <= 3:
            data.rating(flag, (5, 4, 1)[n - 1], posted + timedelta(days=1))


def test_twenty_flags_every_figure(make: Any) -> None:
    data = make(TWENTY_ORG)
    twenty(data)
    out = data.json(LATER, WINDOW)
    assert out["period"] == {"start": "2026-10-01T00:00:00Z", "end": "2026-10-29T00:00:00Z"}
    # 10 flags with a cross-team reply (1-5, 9-13); 8 resolved.
    assert (out["flags"], out["answer_rate"], out["resolution_rate"]) == (20, 0.5, 0.4)
    # TTFR, 14 values: 60 60 120 600 600 900 1200 1800 3000 3599 3600 3601 7200 10000.
    # p50 at 6.5: 1200 + 0.5·600 = 1500; p90 at 11.7: 3601 + 0.7·3599 = 6120.3.
    assert out["ttfr"] == {
        "p50": 1500.0,
        "p90": 6120.3,
        "business_p50": 1500.0,
        "business_p90": 6120.3,
    }
    # Cross-team, 10 values: 60 120 600 1800 3000 3599 3600 3601 7200 10000.
    # p50 at 4.5: 3000 + 0.5·599 = 3299.5; p90 at 8.1: 7200 + 0.1·2800 = 7480.
    cross = {"p50": 3299.5, "p90": 7480.0, "business_p50": 3299.5, "business_p90": 7480.0}
    assert out["cross_team_ttfr"] == cross
    # TTR 1..8 days: p50 at 3.5 = 4.5 d; p90 at 6.3 = 7.3 d.
    assert out["ttr"] == {
        "p50": 4.5 * D,
        "p90": 7.3 * D,
        "business_p50": 4.5 * D,
        "business_p90": 7.3 * D,
    }
    assert out["tta"]["p50"] is None
    # SLA 1 h. Answered 14: met all but 3601, 7200, 10000 = 11. Unanswered 7, 8, 15, 16
    # are long past the SLA; 19 (30 min) and 20 (exactly 1 h) are not due. 11/18.
    assert out["sla_attainment"] == 0.6111
    assert (out["satisfaction"], out["csat"]) == (3.3333, 0.6667)  # 5, 4, 1
    assert out["sentiment"] == {"positive": 0.25, "neutral": 0.25, "negative": 0.5, "net": -0.25}
    # Ties (replier, flagger): B2-A1, B3-A1, D1-A1, A2-A1, A2-B1, A3-B1, A4-B1, A5-B1,
    # B2-B1, G2-G1. alpha: 7 external, 1 internal: E-I 6/8. beta: 6 and 1: 5/7.
    # gamma: 1 internal: -1, siloed (hidden: 2 members). delta: 1 external: +1 (hidden).
    # Reach: alpha's flags answered by beta and delta: 2/3; beta's by alpha: 1/3.
    # alpha (flags 9-16) TTFR 60 120 900 3000 3599 10000: p50 1950, p90 3599 + 0.5·6401;
    # SLA met 9, 10, 12, 13, 14 of due 9-16: 5/8. beta (1-8) 600 600 1800 3600 3601 7200:
    # p50 2700, p90 3601 + 0.5·3599; met 1, 2, 4, 6 of 8. gamma 60, 1200: p50 630,
    # p90 60 + 0.9·1140; due 17, 18, both met.
    assert out["teams"] == [
        team_row("alpha", 8, 1950.0, 6799.5, 0.625, ei=0.75, siloed=False, reach=0.6667),
        team_row("beta", 8, 2700.0, 5400.5, 0.5, ei=0.7143, siloed=False, reach=0.3333),
        team_row("gamma", 4, 630.0, 1086.0, 1.0),
        team_row("delta", 0, None, None, None),
    ]
    # Org E-I weighted by size: (5·6/8 + 5·5/7 + 2·(-1) + 1·1) / 13 = 177/364 = 0.48626.
    # Nobody replied in the 28 days before: alpha-beta is new (pairs with gamma or delta
    # are under the privacy floor, as is gamma's silo).
    assert out["network"] == {
        "org_ei": 0.4863,
        "siloed_teams": [],
        "new_connections": [["alpha", "beta"]],
    }
    # C1 listening: alpha, beta, gamma of 4 teams flagged = 0.75.
    # C2 engagement: ½·10/20 + ½·mean reach (2/3 + 1/3 + 0 + 0)/4 = 0.25 + 0.125 = 0.375.
    # C3 silo-breaking: ½·(177/364 + 1)/2 + ½·(1 - 1/4) = 541/1456 + 0.375 = 0.746566.
    # C4 openness: ½·15/20 + ½·(1 - Gini). Cross-team replies per responder: B2 2, B3 1,
    #   D1 2, A2 2, A3 1, A4 1, A5 1; sorted 1 1 1 1 2 2 2, Σx = 10, Σi·x = 46;
    #   Gini = 2·46/(7·10) - 8/7 = 6/35; C4 = 0.375 + 29/70 = 0.789286.
    # C5 responsiveness: cross-team met 1, 2, 4, 9, 10, 12, 13 = 7; due 10 answered + 6, 7,
    #   8, 14, 15, 16, 17, 18 unanswered past 1 h = 18: 7/18.
    # C6 closed loop: older than 7 days (before Oct 22): 1-16; closed: 1-8 resolved and 9
    #   with an outcome = 9/16. Linked: CRM 1-3, objective topic 1, 4, 5 = 5/20.
    #   ½·0.5625 + ½·0.25 = 0.40625.
    # Score: 100·(0.15·0.75 + 0.2·0.375 + 0.2·0.746566 + 0.1·0.789286 + 0.15·7/18
    #   + 0.2·0.40625) = 100·0.555325 = 55.5 -> 56. Stage: Presence (C1 >= 0.3); the
    #   score would allow Formalized but Engagement needs C2 >= 0.5.
    # Before: 20 flags by alpha only, nothing else: C1 0.25, C3 ½·0 + ½·1 = 0.5, the rest
    #   0: 100·(0.15·0.25 + 0.2·0.5) = 13.75 -> 14.
    assert out["maturity"] == {
        "score": 56,
        "stage": "Presence",
        "previous_score": 14,
        "reason": None,
        "components": {
            "listening": 0.75,
            "engagement": 0.375,
            "silo_breaking": 0.7466,
            "openness": 0.7893,
            "responsiveness": 0.3889,
            "closed_loop": 0.4062,  # 0.40625, rounded half to even
        },
    }
    # 20 flags · 3 min + 14 interpretations · 10 min = 200 min at 75/h = 250.
    # (1000 retained + 200 saved - 250) / 250 = 3.8. CRM refs on 3 of 20.
    assert out["business"] == {
        "currency": "USD",
        "program_cost": 250.0,
        "revenue": 1000.0,
        "savings": 200.0,
        "roi": 3.8,
        "crm_coverage": 0.15,
        "by_kind": {"cost_saved": 200.0, "retained": 1000.0},
    }
    assert data.report(LATER, WINDOW).business.crm_warning  # under 20 %
    # Q4 to Oct 29: 28 of 92 days; 1000 >= 3000·28/92 = 913.
    assert out["objectives"] == [
        objective("billing-retention", "retained_value", 1000.0, 3000.0, True)
    ]


def test_nineteen_flags_publish_no_score_but_the_previous_one(make: Any) -> None:
    data = make(TWENTY_ORG)
    twenty(data, flags=19)
    maturity = data.json(LATER, WINDOW)["maturity"]
    assert maturity["reason"] == "not enough data yet: 19 flags"
    assert (maturity["score"], maturity["stage"], maturity["previous_score"]) == (None, None, 14)
    assert set(maturity["components"].values()) == {None}


def test_one_team_s_view_of_the_twenty(make: Any) -> None:
    data = make(TWENTY_ORG)
    twenty(data)
    out = data.json(LATER, WINDOW, team="alpha")
    # Flags 9-16 were broadcast to alpha; 9-13 have a cross-team reply.
    assert (out["team"], out["flags"], out["answer_rate"]) == ("alpha", 8, 0.625)
    assert out["ttfr"]["p50"] == 1950.0 and out["sla_attainment"] == 0.625
    assert [t["key"] for t in out["teams"]] == ["alpha"]
    assert out["maturity"]["score"] == 56  # the org's
    # 8 flags · 3 + 6 interpretations in alpha's threads · 10 = 84 min = 105; the 200
    # saved on flag 9: (200 - 105) / 105.
    assert out["business"]["program_cost"] == 105.0
    assert out["business"]["roi"] == round(95 / 105, 4)
    with pytest.raises(ValueError, match="'omega' is not a team"):
        data.report(LATER, WINDOW, team="omega")


def test_the_default_period_scores_the_last_28_days(make: Any) -> None:
    data = make(TWENTY_ORG)
    twenty(data)
    # Asked on Oct 28 with no period: the 30 days are Sep 29 .. Oct 28, but the score is
    # over Oct 1 .. Oct 28 (the 28 days), the window above, and the one before. Judged a
    # second before the end, flag 18 has waited exactly its SLA: not due, so C5 is 7/17
    # and the score 100·0.558757, still 56.
    out = data.json(END - timedelta(seconds=1))
    assert out["period"]["start"] == "2026-09-29T00:00:00Z"
    assert (out["maturity"]["score"], out["maturity"]["previous_score"]) == (56, 14)


# ----------------------------------------------------------------------------- stages


def _inputs(**changes: Any) -> MaturityInputs:
    base: dict[str, Any] = dict(
        flags=20, teams=2, flagging_teams=2, broadcast=20, broadcast_answered=20,
        reach={1: 1.0, 2: 1.0}, org_ei=1.0, siloed=0, public=20, gini=0.0, c5_met=10,
        c5_due=10, older=20, older_closed=20, linked=20, all_have_sla=True,
    )  # fmt: skip
    return MaturityInputs(**(base | changes))


def test_each_stage_needs_its_score_its_gate_and_the_stages_below() -> None:
    c = Components(1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    assert stage(100, c, _inputs()) == "Converged"
    assert stage(84, c, _inputs()) == "Strategic"
    assert stage(100, c, _inputs(reach={1: 1.0, 2: 0.4})) == "Strategic"
    assert stage(100, c, _inputs(linked=11)) == "Strategic"  # linked 0.55 < 0.6
    assert stage(100, c, _inputs(siloed=1)) == "Formalized"
    assert stage(100, c, _inputs(linked=5)) == "Formalized"  # linked 0.25 < 0.3
    assert stage(100, c, _inputs(all_have_sla=False)) == "Engagement"
    assert stage(100, Components(1, 1, 1, 1, 0.59, 1), _inputs()) == "Engagement"
    assert stage(100, Components(1, 0.49, 1, 1, 1, 1), _inputs()) == "Presence"
    assert stage(100, Components(0.29, 1, 1, 1, 1, 1), _inputs()) == "Planning"
    assert stage(19, c, _inputs()) == "Planning"
    assert stage(20, Components(0.3, 0, 0, 0, 0, 0), _inputs()) == "Presence"


# ----------------------------------------------------------------------------- business ROI

ROI_ORG = org_toml(
    [team_toml("billing", ["UB1", "UB2"]), team_toml("success", ["US1"])],
    extra="""
[roi]
hourly_rate = 60
gross_margin = 0.5
monthly_tool_cost = 300
minutes_per_flag = 3
minutes_per_interpretation = 10
""",
)


def test_business_roi_with_outcomes_of_several_kinds(make: Any) -> None:
    data = make(ROI_ORG)
    flags = [
        data.flag(utc(2026, 10, 5 + i), "US1", crm="ACME" if i == 0 else None) for i in range(4)
    ]
    b = data.broadcast(flags[0], "billing", utc(2026, 10, 5))
    for i in range(3):
        data.reply(flags[0], b, "UB1", utc(2026, 10, 6, i))
    data.reply(flags[0], b, "UB2", utc(2026, 10, 6, 5), deleted=True)  # not counted
    data.reply(flags[0], b, "UB2", utc(2026, 11, 6))  # after the period
    amounts = [("retained", 1000.0), ("upsell", 500.0), ("new_deal", 200.0), ("cost_saved", 100.0)]
    amounts += [("ticket_deflected", 50.0), ("other", 30.0), ("product_fix", 0.0)]
    for kind, amount in amounts:
        data.outcome(flags[1], kind, amount, utc(2026, 10, 20))
    data.outcome(flags[2], "retained", 999.0, utc(2026, 10, 20), currency="EUR")  # not addable
    data.outcome(flags[2], "retained", 5000.0, utc(2026, 11, 2))  # after the period
    report = data.report(LATER, "2026-10-01..2026-10-30")
    # Cost: 300 · 30/30 + (4 flags · 3 + 3 interpretations · 10) min / 60 · 60 = 342.
    # Revenue 1000 + 500 + 200 = 1700, at 50 % margin 850; savings 100 + 50 = 150.
    # ROI (850 + 150 - 342) / 342 = 658/342 = 1.92398.
    assert report.to_json()["business"] == {
        "currency": "USD",
        "program_cost": 342.0,
        "revenue": 1700.0,
        "savings": 150.0,
        "roi": 1.924,
        "crm_coverage": 0.25,
        "by_kind": {
            "cost_saved": 100.0, "new_deal": 200.0, "other": 30.0, "product_fix": 0.0,
            "retained": 1000.0, "ticket_deflected": 50.0, "upsell": 500.0,
        },
    }  # fmt: skip
    assert not report.business.crm_warning and report.business.other_currency_outcomes == 1


# ----------------------------------------------------------------------------- objectives

OBJECTIVES = """
[[objectives]]
key = "retention"
objective = "Keep the customers who complain"
kpi = "retained_value"
target = 4000
period = "quarter"
topics = ["billing"]

[[objectives]]
key = "volume"
objective = "Listen"
kpi = "flags"
target = 100
period = "month"

[[objectives]]
key = "speed"
objective = "Answer fast"
kpi = "ttfr_p50"
target = 3600

[[objectives]]
key = "answers"
objective = "Answer billing"
kpi = "answer_rate"
target = 0.8
topics = ["billing"]

[[objectives]]
key = "value"
objective = "Show value"
kpi = "value"
target = 800
period = "month"

[[objectives]]
key = "mature"
objective = "Grow up"
kpi = "maturity"
target = 50
"""


def test_objectives_on_and_off_track(make: Any) -> None:
    data = make(
        org_toml(
            [team_toml("billing", ["UB1", "UB2"]), team_toml("success", ["US1", "US2"])], OBJECTIVES
        )
    )
    a = data.flag(utc(2026, 10, 5), "US1", topics=["billing"])
    b = data.flag(utc(2026, 11, 3), "US1", topics=["billing"])
    c = data.flag(utc(2026, 11, 4), "US1")
    d = data.flag(utc(2026, 9, 20), "US1", topics=["billing"])  # Q3: not this quarter
    ba = data.broadcast(a, "billing", utc(2026, 10, 5), ttfr=1800.0, cross=1800.0)
    data.reply(a, ba, "UB2", utc(2026, 10, 5, 0, 30))  # cross-team
    bb = data.broadcast(b, "billing", utc(2026, 11, 3), ttfr=600.0)
    data.reply(b, bb, "US2", utc(2026, 11, 3, 0, 10))  # the flagger's own team
    data.broadcast(c, "success", utc(2026, 11, 4), ttfr=7200.0)
    data.outcome(a, "retained", 2500.0, utc(2026, 10, 20))
    data.outcome(b, "retained", 100.0, utc(2026, 11, 5))
    data.outcome(c, "upsell", 300.0, utc(2026, 11, 6))
    data.outcome(d, "retained", 9999.0, utc(2026, 9, 25))
    now = utc(2026, 11, 16)  # half of Q4 (46 of 92 days) and of November (15 of 30)
    report = data.report(now)
    assert [(o.elapsed, o.start, o.end) for o in report.objectives][:2] == [
        (0.5, utc(2026, 10, 1), utc(2027, 1, 1)),
        (0.5, utc(2026, 11, 1), utc(2026, 12, 1)),
    ]
    assert report.to_json()["objectives"] == [
        # billing retained in Q4: 2500 + 100 = 2600 >= 4000 · 0.5.
        objective("retention", "retained_value", 2600.0, 4000.0, True),
        # 2 flags in November < 100 · 0.5.
        objective("volume", "flags", 2, 100.0, False),
        # TTFR 600, 1800, 7200 in Q4: p50 1800 <= 3600 (lower is better).
        objective("speed", "ttfr_p50", 1800.0, 3600.0, True),
        # Billing flags a and b, a answered by another team: 0.5 < 0.8 (a rate is not
        # scaled by the elapsed share).
        objective("answers", "answer_rate", 0.5, 0.8, False),
        # November outcomes 100 + 300 = 400 >= 800 · 0.5 (exactly on track).
        objective("value", "value", 400.0, 800.0, True),
        # 3 flags in Q4: no score, so no verdict.
        objective("mature", "maturity", None, 50.0, None),
    ]  # fmt: skip


# ----------------------------------------------------------------------------- both stores

MIXED_ORG = org_toml(
    [
        team_toml("north", [f"UN{i}" for i in range(6)]),
        team_toml("south", [f"US{i}" for i in range(5)], sla="2h"),
        team_toml("east", [f"UE{i}" for i in range(5)], sla="30m"),
        team_toml("west", ["UW0", "UW1", "UN0"], sla="4h", hours="Mon-Fri 09:00-17:00"),
    ],
    extra=OBJECTIVE.replace("50000", "900"),
    tz="Europe/London",
    hours="Mon-Fri 08:00-18:00",
)


def mixed(data: Data, seed: int = 7) -> list[float]:
    """Sixty flags with random but repeatable times, replies and outcomes; returns the
    TTFRs of the live broadcasts of October's flags."""
    rnd = random.Random(seed)
    people = [m for t in data.config.teams for m in t.members] + ["UOUTSIDER"]
    ttfrs: list[float] = []
    for n in range(60):
        at = utc(2026, 9, 20) + timedelta(minutes=rnd.randrange(0, 60 * 24 * 45))
        flagger = rnd.choice(people)
        flag = data.flag(
            at,
            flagger,
            public=rnd.random() < 0.7,
            sentiment=rnd.choice(["positive", "neutral", "negative"]),
            crm="X" if rnd.random() < 0.3 else None,
            topics=["billing"] if rnd.random() < 0.4 else [],
            resolved_after=rnd.choice([None, rnd.uniform(60, 9 * D)]),
        )
        for team in rnd.sample(["north", "south", "east", "west"], rnd.randint(1, 2)):
            ttfr = rnd.choice([None, round(rnd.uniform(1, 3 * D), 3)])
            status = "not_for_us" if rnd.random() < 0.1 else "active"
            tta = rnd.choice([None, 60.0 * n])
            business = None if ttfr is None else ttfr / 3
            b = data.broadcast(
                flag,
                team,
                at,
                ttfr=ttfr,
                ttfr_business=business,
                cross=ttfr,
                tta=tta,
                status=status,
            )
            if (
                ttfr is not None
                and status == "active"
                and utc(2026, 9, 30, 23) <= at < utc(2026, 11, 1)
            ):
                ttfrs.append(ttfr)
            if ttfr is not None:
                data.reply(
                    flag,
                    b,
                    rnd.choice([p for p in people if p != flagger]),
                    at + timedelta(seconds=ttfr),
                )
        if rnd.random() < 0.3:
            data.outcome(
                flag, rnd.choice(["retained", "upsell", "cost_saved"]), rnd.randint(1, 900), at
            )
        if rnd.random() < 0.3:
            data.rating(flag, rnd.randint(1, 5), at)
    return ttfrs


def test_percentiles_match_the_python_reference(make: Any) -> None:
    data = make(MIXED_ORG)
    ttfrs = mixed(data)
    report = data.report(LATER, "2026-10-01..2026-10-31")
    assert len(ttfrs) > 10
    assert report.ttfr.p50 == pytest.approx(percentile(ttfrs, 0.5), abs=1e-9)
    assert report.ttfr.p90 == pytest.approx(percentile(ttfrs, 0.9), abs=1e-9)
    assert report.ttfr.business_p90 == pytest.approx(
        percentile([t / 3 for t in ttfrs], 0.9), abs=1e-9
    )


@pytest.fixture
def pg_url() -> Iterator[str]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"comparing with PostgreSQL needs {PG_ENV}")
    yield from _pg_database(base)


@pytest.mark.postgres
def test_sqlite_and_postgresql_give_identical_json(tmp_path: Path, pg_url: str) -> None:
    stores = [Data(f"sqlite:///{tmp_path}/roi.db", MIXED_ORG), Data(pg_url, MIXED_ORG)]
    try:
        for data in stores:
            mixed(data)
            twenty_like = data.flag(utc(2026, 10, 2), "UN1")  # same ids on both
            assert twenty_like == 61
        asks: list[tuple[str | None, str | None]] = [(None, None), ("2026-10-01..2026-10-31", None)]
        asks += [("quarter", "south"), ("90d", "west"), ("7d", None)]
        compared = 0
        for period, team in asks:
            sqlite, postgres = (d.json(LATER, period, team) for d in stores)
            assert sqlite == postgres, (period, team)
            compared += sqlite["flags"]
        assert compared > 50  # the comparison compared something
    finally:
        for data in stores:
            data.close()


def test_no_figure_is_nan_or_negative_zero(make: Any) -> None:
    data = make(MIXED_ORG)
    mixed(data, seed=11)
    text = repr(data.json(LATER, "90d"))
    assert not re.search(r"\bnan\b|\binf\b|-0\.0\b", text)
