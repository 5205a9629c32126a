"""Response and resolution times over report windows (METRICS "Time figures"): p50 and p90
of the times stored on each broadcast (TTA, TTFR, cross-team TTFR, wall-clock and business
hours) and on each flag (TTR).

Several windows share one statement: each window's values are its own column, the value
where the row is in the window and NULL elsewhere, and percentiles leave NULLs out, so
the rows are read (and joined) once for all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, select
from sqlmodel import Session

from store.reports import B, F, Scope, broadcast_rows, flag_in
from store.reports_percentile import Quantiles, percentiles

TIME_COLUMNS = (
    "tta_seconds",
    "tta_business_seconds",
    "ttfr_seconds",
    "ttfr_business_seconds",
    "cross_ttfr_seconds",
    "cross_ttfr_business_seconds",
)
TTR_COLUMNS = ("ttr_seconds", "ttr_business_seconds")
Times = dict[str, Quantiles]


def time_quantiles(
    *, session: Session, wanted: Sequence[tuple[Scope, Sequence[str]]]
) -> list[Times]:
    """For each (scope, columns): p50 and p90 of those broadcast times over the scope's
    live broadcasts ((None, None) without values)."""
    if not wanted:
        return []
    scopes = [s for s, _ in wanted]
    masked = [
        (f"w{w}_{name}", case((flag_in(s, team=B.team_id), B[name])))
        for w, (s, names) in enumerate(wanted)
        for name in names
    ]
    source = broadcast_rows(scopes, *(value.label(label) for label, value in masked))
    found = percentiles(session=session, source=source, columns=[label for label, _ in masked])
    values = found.get(None, {})
    return [
        {name: values.get(f"w{w}_{name}", (None, None)) for name in names}
        for w, (_, names) in enumerate(wanted)
    ]


def ttr_quantiles(*, session: Session, s: Scope) -> Times:
    """p50 and p90 of the time to resolution, one value per flag however many teams it
    reached."""
    base = select(*(F[c] for c in TTR_COLUMNS)).where(F.org_id == s.org_id, flag_in(s))
    found = percentiles(session=session, source=base, columns=TTR_COLUMNS)
    return found.get(None, dict.fromkeys(TTR_COLUMNS, (None, None)))


def team_ttfr(*, session: Session, s: Scope) -> dict[int, Quantiles]:
    """p50 and p90 of the first response, per team the scope's flags were broadcast to."""
    base: Any = broadcast_rows([s], B.team_id, B.ttfr_seconds).where(flag_in(s, team=B.team_id))
    rows = percentiles(session=session, source=base, columns=("ttfr_seconds",), group="team_id")
    return {int(k): v["ttfr_seconds"] for k, v in rows.items()}
