"""The /roi report as typed values, and its stable JSON (METRICS "Machine-readable output").

The JSON has exactly the documented keys; numbers are rounded there and only there
(seconds to the millisecond, shares to 4 places, money to the cent), which also makes
the output identical on SQLite and PostgreSQL, whose floating-point sums may differ in
the last bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.handlers.roi.maturity import Maturity
from bot.listening.figures import Listening

CRM_WARNING_BELOW = 0.2  # METRICS "CRM coverage": below 20 % the ROI carries a warning
ATTRIBUTION = "influenced"  # METRICS: business ROI is labelled "influenced", not "caused"


def _r(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places) + 0.0  # +0.0: no "-0.0"


def _secs(value: float | None) -> float | None:
    return _r(value, 3)


def _share(value: float | None) -> float | None:
    return _r(value, 4)


def _money(value: float | None) -> float | None:
    return _r(value, 2)


def _instant(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Durations:
    p50: float | None = None
    p90: float | None = None
    business_p50: float | None = None
    business_p90: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "p50": _secs(self.p50),
            "p90": _secs(self.p90),
            "business_p50": _secs(self.business_p50),
            "business_p90": _secs(self.business_p90),
        }


@dataclass(frozen=True)
class Sentiment:
    positive: float | None = None
    neutral: float | None = None
    negative: float | None = None
    net: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "positive": _share(self.positive),
            "neutral": _share(self.neutral),
            "negative": _share(self.negative),
            "net": _share(self.net),
        }


@dataclass(frozen=True)
class TeamFigures:
    """One team's row; the network figures are None under the privacy floor."""

    key: str
    flags: int
    ttfr_p50: float | None
    ttfr_p90: float | None
    sla_attainment: float | None
    ei: float | None
    siloed: bool | None
    reach: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "flags": self.flags,
            "ttfr": {"p50": _secs(self.ttfr_p50), "p90": _secs(self.ttfr_p90)},
            "sla_attainment": _share(self.sla_attainment),
            "ei": _share(self.ei),
            "siloed": self.siloed,
            "reach": _share(self.reach),
        }


@dataclass(frozen=True)
class Network:
    org_ei: float | None
    siloed_teams: tuple[str, ...]
    new_connections: tuple[tuple[str, str], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "org_ei": _share(self.org_ei),
            "siloed_teams": list(self.siloed_teams),
            "new_connections": [list(pair) for pair in self.new_connections],
        }


def maturity_json(m: Maturity) -> dict[str, Any]:
    names = ("listening", "engagement", "silo_breaking", "openness", "responsiveness")
    comps: dict[str, float | None] = dict.fromkeys((*names, "closed_loop"))
    if m.components is not None:
        comps = {k: _share(v) for k, v in m.components.as_dict().items()}
    return {
        "score": m.score,
        "stage": m.stage,
        "previous_score": m.previous_score,
        "reason": m.reason,
        "components": comps,
    }


@dataclass(frozen=True)
class Business:
    currency: str
    program_cost: float
    revenue: float
    savings: float
    roi: float | None  # a ratio: 2.58 is 258 %
    crm_coverage: float | None
    by_kind: dict[str, float] = field(default_factory=dict)
    other_currency_outcomes: int = 0  # outcomes in another currency, left out of the sums

    @property
    def crm_warning(self) -> bool:
        """Most flags are not linked to the CRM, so the ROI rests on a few of them."""
        return self.crm_coverage is not None and self.crm_coverage < CRM_WARNING_BELOW

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "program_cost": _money(self.program_cost),
            "revenue": _money(self.revenue),
            "savings": _money(self.savings),
            "roi": _share(self.roi),
            "crm_coverage": _share(self.crm_coverage),
            "by_kind": {k: _money(v) for k, v in sorted(self.by_kind.items())},
        }


_WHOLE_KPIS = ("flags", "maturity")
_KPI_PLACES = {"ttfr_p50": 3, "retained_value": 2, "value": 2}  # seconds, money; shares 4


@dataclass(frozen=True)
class ObjectiveProgress:
    key: str
    kpi: str
    actual: float | None
    target: float
    on_track: bool | None  # None when the KPI cannot be computed yet
    start: datetime  # the objective's month, quarter or year
    end: datetime
    elapsed: float  # share of that period gone by at the report's end

    def to_json(self) -> dict[str, Any]:
        actual: float | int | None = self.actual
        if actual is not None:
            if self.kpi in _WHOLE_KPIS:
                actual = round(actual)
            else:
                actual = _r(actual, _KPI_PLACES.get(self.kpi, 4))
        return {
            "key": self.key,
            "kpi": self.kpi,
            "actual": actual,
            "target": self.target,
            "on_track": self.on_track,
        }


@dataclass(frozen=True)
class RoiReport:
    org: str
    team: str | None
    start: datetime
    end: datetime
    flags: int
    answer_rate: float | None
    resolution_rate: float | None
    tta: Durations
    ttfr: Durations
    cross_team_ttfr: Durations
    ttr: Durations
    sla_attainment: float | None
    satisfaction: float | None
    csat: float | None
    sentiment: Sentiment
    teams: tuple[TeamFigures, ...]
    network: Network
    maturity: Maturity
    business: Business
    objectives: tuple[ObjectiveProgress, ...]
    listening: Listening | None = None  # METRICS "Listening"

    def to_json(self) -> dict[str, Any]:
        """The stable JSON object (a dict ready for json.dumps)."""
        return {
            "org": self.org,
            "team": self.team,
            "period": {"start": _instant(self.start), "end": _instant(self.end)},
            "flags": self.flags,
            "answer_rate": _share(self.answer_rate),
            "resolution_rate": _share(self.resolution_rate),
            "tta": self.tta.to_json(),
            "ttfr": self.ttfr.to_json(),
            "cross_team_ttfr": self.cross_team_ttfr.to_json(),
            "ttr": self.ttr.to_json(),
            "sla_attainment": _share(self.sla_attainment),
            "satisfaction": _share(self.satisfaction),
            "csat": _share(self.csat),
            "sentiment": self.sentiment.to_json(),
            "teams": [t.to_json() for t in self.teams],
            "network": self.network.to_json(),
            "maturity": maturity_json(self.maturity),
            "business": self.business.to_json(),
            "objectives": [o.to_json() for o in self.objectives],
            "listening": self.listening.to_json() if self.listening is not None else None,
        }
