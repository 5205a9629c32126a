"""From the store's totals to METRICS figures: ratios, SLA cutoffs, network indices, the
maturity inputs and the business ROI. Each function takes one window (a `Scope`) and
leaves the composition of the report to bot.handlers.roi."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.core.timecalc import BusinessHours, subtract_business_seconds
from bot.handlers.roi.maturity import MIN_FLAGS, SILOED_AT, Maturity, MaturityInputs, assess
from bot.handlers.roi.model import Business
from config.schema import CrosstalkConfig
from store import reports_network as net
from store.reports import (
    Outcomes,
    Row,
    Scope,
    TeamInfo,
    flag_summaries,
    interpretation_count,
    outcome_totals,
    team_sla,
)
from store.reports_network import TeamTies
from store.reports_times import TIME_COLUMNS, Times, time_quantiles

T = TypeVar("T")
PRIVACY_FLOOR = 5  # METRICS: per-team network figures only for teams of 5 or more
REVENUE = ("retained", "upsell", "new_deal")
SAVINGS = ("cost_saved", "ticket_deflected")


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@cache
def _hours(text: str) -> BusinessHours:
    return BusinessHours.parse(text)


@dataclass(frozen=True)
class ReportContext:
    """One report's session and facts. Totals are remembered per window, so a window that
    serves twice (the period and the maturity window, two objectives on one quarter) is
    queried once; `prefetch_*` computes several windows' totals in one statement."""

    session: Session
    config: CrosstalkConfig
    org_id: int
    teams: tuple[TeamInfo, ...]  # every team of the org, active or not
    now: datetime
    _memo: dict[tuple[str, Scope], Any] = field(default_factory=dict, repr=False)

    def _remember(self, what: str, s: Scope, compute: Callable[[], T]) -> T:
        key = (what, s)
        if key not in self._memo:
            self._memo[key] = compute()
        return cast(T, self._memo[key])

    def _prefetch(
        self, what: str, scopes: Sequence[Scope], compute: Callable[[list[Scope]], list[Any]]
    ) -> None:
        todo = [s for s in dict.fromkeys(scopes) if (what, s) not in self._memo]
        for s, value in zip(todo, compute(todo) if todo else [], strict=True):
            self._memo[(what, s)] = value

    @property
    def active(self) -> tuple[TeamInfo, ...]:
        return tuple(t for t in self.teams if t.active)

    @property
    def active_ids(self) -> list[int]:
        return [t.id for t in self.active]

    @property
    def linked_topics(self) -> tuple[str, ...]:
        """Topics that link a flag to an objective (objectives without topics link none)."""
        return tuple(sorted({t for o in self.config.objectives for t in o.topics}))

    def scope(
        self,
        start: datetime,
        end: datetime,
        *,
        team_id: int | None = None,
        topics: tuple[str, ...] | None = None,
    ) -> Scope:
        return Scope(self.org_id, start, end, min(end, self.now), team_id, topics)

    def prefetch_summaries(self, scopes: Sequence[Scope]) -> None:
        self._prefetch("summary", scopes, self._summaries)

    def _summaries(self, scopes: list[Scope]) -> list[Row]:
        return flag_summaries(
            session=self.session,
            scopes=scopes,
            linked_topics=self.linked_topics,
            team_ids=self.active_ids,
        )

    def summary(self, s: Scope) -> Row:
        self.prefetch_summaries([s])
        return cast(Row, self._memo[("summary", s)])

    def prefetch_networks(self, scopes: Sequence[Scope]) -> None:
        """The ties of every window in one statement (one pass over the span they cover)."""

        def compute(todo: list[Scope]) -> list[TeamTies]:
            return net.team_ties(session=self.session, scopes=todo, team_ids=self.active_ids)

        self._prefetch("ties", scopes, compute)

    def ties(self, s: Scope) -> TeamTies:
        """The window's ties per team and team pair, with their counts (the silo map's
        edge weights); `network` is what the figures read of them."""
        self.prefetch_networks([s])
        return cast(TeamTies, self._memo[("ties", s)])

    def network(self, s: Scope) -> NetworkData:
        return self._remember("network", s, lambda: NetworkData.of(self.ties(s)))

    def pairs(self, s: Scope) -> frozenset[tuple[int, int]]:
        """Team pairs (lower id first) joined by a tie in the window."""
        return self.network(s).pairs

    def prefetch_sla(self, scopes: Sequence[Scope]) -> None:
        def compute(todo: list[Scope]) -> list[dict[int, Row]]:
            cutoffs = [self._cutoffs(s) for s in todo]
            return team_sla(session=self.session, scopes=todo, cutoffs=cutoffs)

        self._prefetch("sla", scopes, compute)

    def sla(self, s: Scope) -> dict[int, Row]:
        """SLA counts per team (store.reports.team_sla)."""
        self.prefetch_sla([s])
        return cast(dict[int, Row], self._memo[("sla", s)])

    def _cutoffs(self, s: Scope) -> tuple[dict[int, datetime], dict[int, datetime]]:
        """Due is judged at the scope's `as_of`: a broadcast still unanswered then is a miss
        once more than its team's SLA has passed (wall clock for the plain figure,
        business hours for C5)."""
        wall: dict[int, datetime] = {}
        business: dict[int, datetime] = {}
        for t in self.teams:
            if t.sla_seconds > 0:
                wall[t.id] = s.as_of - timedelta(seconds=t.sla_seconds)
                business[t.id] = subtract_business_seconds(
                    s.as_of, t.sla_seconds, _hours(t.business_hours), ZoneInfo(t.timezone)
                )
        return wall, business

    def prefetch_outcomes(self, scopes: Sequence[Scope]) -> None:
        self._prefetch(
            "outcomes", scopes, lambda todo: outcome_totals(session=self.session, scopes=todo)
        )

    def outcomes(self, s: Scope) -> Outcomes:
        self.prefetch_outcomes([s])
        return cast(Outcomes, self._memo[("outcomes", s)])

    def prefetch_times(self, wanted: Sequence[tuple[Scope, Sequence[str]]]) -> None:
        todo = [(s, tuple(c)) for s, c in wanted if (f"times:{','.join(c)}", s) not in self._memo]
        for (s, columns), found in zip(
            todo, time_quantiles(session=self.session, wanted=todo), strict=True
        ):
            self._memo[(f"times:{','.join(columns)}", s)] = found

    def times(self, s: Scope, columns: Sequence[str] = TIME_COLUMNS) -> Times:
        self.prefetch_times([(s, columns)])
        return cast(Times, self._memo[(f"times:{','.join(columns)}", s)])


def attainment(rows: Mapping[int, Row], kind: str = "sla") -> float | None:
    return ratio(
        sum(r[f"{kind}_met"] for r in rows.values()), sum(r[f"{kind}_due"] for r in rows.values())
    )


@dataclass(frozen=True)
class NetworkData:
    """A window's ties seen team by team (membership decides: a tie is a team's when
    either end is a member, internal when both are)."""

    ties: dict[int, tuple[int, int]]  # team id: (internal, external)
    reach: dict[int, int]  # team id: other teams whose members replied to its members
    pairs: frozenset[tuple[int, int]]  # teams (lower id first) joined by a tie
    spread: tuple[int, int, int]  # responders, cross-team replies, Σ rank·replies

    @classmethod
    def of(cls, t: TeamTies) -> NetworkData:
        ties = {}
        for team in t.asked.keys() | t.answered.keys():
            internal = t.pairs.get((team, team), 0)
            # A tie with both ends in the team is among those it asked and answered.
            external = t.asked.get(team, 0) + t.answered.get(team, 0) - 2 * internal
            ties[team] = (internal, external)
        reached: Counter[int] = Counter(a for a, b in t.pairs if a != b)
        return cls(
            ties=ties,
            reach=dict(reached),
            pairs=frozenset((min(a, b), max(a, b)) for a, b in t.pairs if a != b),
            spread=t.spread,
        )

    def ei(self, team_id: int) -> float | None:
        internal, external = self.ties.get(team_id, (0, 0))
        return ratio(external - internal, external + internal)

    def reach_of(self, team_id: int, teams: int) -> float | None:
        return ratio(self.reach.get(team_id, 0), teams - 1) if teams > 1 else None

    @property
    def gini(self) -> float | None:
        """Of cross-team replies per responder: 2·Σ i·x_i / (n·Σ x) - (n + 1)/n, ranks i
        from 1 over ascending counts."""
        n, total, weighted = self.spread
        if not total:
            return None
        return 2 * weighted / (n * total) - (n + 1) / n


NO_NETWORK = NetworkData({}, {}, frozenset(), (0, 0, 0))


def siloed(ei: float | None) -> bool | None:
    return None if ei is None else ei <= SILOED_AT


def org_ei(data: NetworkData, teams: tuple[TeamInfo, ...]) -> float | None:
    """Team E-I weighted by team size, over the teams that have ties."""
    weighted = [(t.size, data.ei(t.id)) for t in teams if t.size]
    pairs = [(size, ei) for size, ei in weighted if ei is not None]
    total = sum(size for size, _ in pairs)
    return sum(size * ei for size, ei in pairs) / total if total else None


def shown(team: TeamInfo) -> bool:
    """Whether a team's own network figures may be shown (the privacy floor)."""
    return team.size >= PRIVACY_FLOOR


def maturity_inputs(
    ctx: ReportContext, summary: Row, sla: Mapping[int, Row], data: NetworkData
) -> MaturityInputs:
    active = ctx.active
    return MaturityInputs(
        flags=summary["flags"],
        teams=len(active),
        flagging_teams=summary["flagging_teams"],
        broadcast=summary["broadcast"],
        broadcast_answered=summary["answered"],  # a reply is in a broadcast's thread
        reach={t.id: data.reach_of(t.id, len(active)) for t in active},
        org_ei=org_ei(data, active),
        siloed=sum(1 for t in active if siloed(data.ei(t.id))),
        public=summary["public"],
        gini=data.gini,
        c5_met=sum(r["c5_met"] for r in sla.values()),
        c5_due=sum(r["c5_due"] for r in sla.values()),
        older=summary["older"],
        older_closed=summary["older_closed"],
        linked=summary["linked"],
        all_have_sla=all(t.sla_seconds > 0 for t in active),
    )


def maturity(ctx: ReportContext, s: Scope) -> Maturity:
    """The org's maturity over `s` (a window without team or topics)."""
    summary = ctx.summary(s)
    weights = ctx.config.maturity.weights
    if summary["flags"] < MIN_FLAGS:  # no score is published: nothing more to look up
        return assess(maturity_inputs(ctx, summary, {}, NO_NETWORK), weights)
    return assess(maturity_inputs(ctx, summary, ctx.sla(s), ctx.network(s)), weights)


def business(ctx: ReportContext, s: Scope, summary: Row, days: float) -> Business:
    """METRICS "Business ROI" over the scope: value influenced against program cost."""
    roi_cfg = ctx.config.roi
    by_kind: dict[str, float] = {}
    elsewhere = 0  # amounts in another currency cannot be added to these
    for kind, currency, total, count in ctx.outcomes(s):
        if currency == roi_cfg.currency:
            by_kind[kind] = total
        else:
            elsewhere += count
    interps = interpretation_count(session=ctx.session, s=s)
    minutes = summary["flags"] * roi_cfg.minutes_per_flag
    minutes += interps * roi_cfg.minutes_per_interpretation
    cost = roi_cfg.monthly_tool_cost * days / 30 + minutes / 60 * roi_cfg.hourly_rate
    revenue = sum(by_kind.get(k, 0.0) for k in REVENUE)
    savings = sum(by_kind.get(k, 0.0) for k in SAVINGS)
    gain = revenue * roi_cfg.gross_margin + savings
    return Business(
        currency=roi_cfg.currency,
        program_cost=cost,
        revenue=revenue,
        savings=savings,
        roi=ratio(gain - cost, cost),
        crm_coverage=ratio(summary["crm"], summary["flags"]),
        by_kind=by_kind,
        other_currency_outcomes=elsewhere,
    )
