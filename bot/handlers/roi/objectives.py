"""Objectives progress (METRICS "Objectives"; SPEC "Concepts": OGST): each configured KPI,
measured over the objective's own month, quarter or year up to the report's end, on the
flags that carry one of its topics (all flags when it names none).

On track: a figure that accumulates through the period (flags, value) must have reached
the target's elapsed share; a figure that is a level (a rate, CSAT, ROI, the maturity
score) must already meet the target, since half a quarter gone does not halve a rate; a
time (first-response p50) must be at most the target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.handlers.roi.figures import ReportContext, attainment, business, maturity, ratio
from bot.handlers.roi.model import ObjectiveProgress
from bot.handlers.roi.periods import Period
from config.schema import ObjectiveConfig
from store.reports import Scope, ratings

CUMULATIVE = ("flags", "retained_value", "value")
LOWER_IS_BETTER = ("ttfr_p50",)
_TICK = timedelta(microseconds=1)
TTFR = ("ttfr_seconds",)
SUMMARY_KPIS = ("flags", "answer_rate", "resolution_rate", "business_roi")
OUTCOME_KPIS = ("retained_value", "value", "business_roi")


def objective_period(kind: str, day: date, tz: ZoneInfo) -> Period:
    """The calendar month, quarter or year containing `day`."""
    if kind == "year":
        first, following = date(day.year, 1, 1), date(day.year + 1, 1, 1)
    else:
        months = 3 if kind == "quarter" else 1
        month = (day.month - 1) // months * months + 1
        first = date(day.year, month, 1)
        following = date(day.year + (month + months > 12), (month + months - 1) % 12 + 1, 1)
    return Period(first, (following - first).days, tz, f"{kind} of {first.isoformat()}")


def kpi_value(ctx: ReportContext, kpi: str, s: Scope, days: float) -> float | None:
    """The KPI over `s`, with no more queries than it needs."""
    if kpi == "ttfr_p50":
        return ctx.times(s, TTFR)["ttfr_seconds"][0]
    if kpi == "sla_attainment":
        return attainment(ctx.sla(s))
    if kpi == "csat":
        r = ratings(session=ctx.session, s=s)
        return ratio(r["satisfied"], r["count"])
    if kpi == "maturity":
        score = maturity(ctx, ctx.scope(s.start, s.end)).score
        return None if score is None else float(score)
    if kpi in ("retained_value", "value"):
        totals = ctx.outcomes(s)
        wanted = ctx.config.roi.currency
        kinds = ("retained",) if kpi == "retained_value" else tuple({k for k, *_ in totals})
        return sum(t for k, c, t, _ in totals if c == wanted and k in kinds)
    if kpi == "business_roi":
        return business(ctx, s, ctx.summary(s), days).roi
    counts = ctx.summary(s)
    if kpi == "flags":
        return float(counts["flags"])
    if kpi == "answer_rate":
        return ratio(counts["answered"], counts["flags"])
    if kpi == "resolution_rate":
        return ratio(counts["resolved"], counts["flags"])
    raise ValueError(f"unknown KPI {kpi!r}")  # the config schema allows no other


def on_track(kpi: str, actual: float | None, target: float, elapsed: float) -> bool | None:
    if actual is None:
        return None
    if kpi in LOWER_IS_BETTER:
        return actual <= target
    if kpi in CUMULATIVE:
        return actual >= target * elapsed
    return actual >= target


@dataclass(frozen=True)
class Window:
    """An objective's period, and the scope its KPI is measured on (up to `as_of`)."""

    period: Period
    elapsed: float  # share of the period gone by
    scope: Scope
    days: float  # days measured


def objective_window(
    ctx: ReportContext, objective: ObjectiveConfig, *, report_end: datetime, tz: ZoneInfo
) -> Window:
    """The period of the objective's kind that contains the report's last moment, up to
    the report's end (or now, if that is earlier)."""
    period = objective_period(objective.period, (report_end - _TICK).astimezone(tz).date(), tz)
    start, end = period.start, period.end
    as_of = max(start, min(end, report_end, ctx.now))
    s = ctx.scope(start, as_of, topics=tuple(objective.topics) or None)
    return Window(period, (as_of - start) / (end - start), s, (as_of - start) / timedelta(days=1))


def summary_scopes(windows: Sequence[tuple[str, Window]]) -> list[Scope]:
    return [w.scope for kpi, w in windows if kpi in SUMMARY_KPIS]


def prefetch(ctx: ReportContext, windows: Sequence[tuple[str, Window]]) -> None:
    """Compute the objectives' totals together with the report's (one statement each)."""
    ctx.prefetch_summaries(summary_scopes(windows))
    ctx.prefetch_outcomes([w.scope for kpi, w in windows if kpi in OUTCOME_KPIS])
    ctx.prefetch_sla([w.scope for kpi, w in windows if kpi == "sla_attainment"])
    ctx.prefetch_times([(w.scope, TTFR) for kpi, w in windows if kpi == "ttfr_p50"])


def progress(ctx: ReportContext, objective: ObjectiveConfig, w: Window) -> ObjectiveProgress:
    """Where `objective` stands at the end of its window."""
    actual = kpi_value(ctx, objective.kpi, w.scope, w.days)
    return ObjectiveProgress(
        key=objective.key,
        kpi=objective.kpi,
        actual=actual,
        target=objective.target,
        on_track=on_track(objective.kpi, actual, objective.target, w.elapsed),
        start=w.period.start,
        end=w.period.end,
        elapsed=w.elapsed,
    )
