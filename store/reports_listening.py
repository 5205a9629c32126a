"""The aggregates behind the listening figures (METRICS "Listening"), in the database:

- suggestions made in the window, by what became of them (flagged, dismissed, open);
- the window's flags, and those that came from a suggestion (`via = "suggestion"`);
- time to flag, p50 and p90: flag time minus the flagged message's own timestamp, over the
  flags whose platform told that timestamp;
- the broadcasts of the window's flags, and those marked "Not for us".

With a team, the flag and broadcast figures are those of the flags broadcast to it (and its
own broadcasts); suggestions are the org's (a suggestion has no team until it is a flag).
And what /metrics shows of listening: messages scored and suggested, labels by source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, case, func, select
from sqlmodel import Session, SQLModel

from store import labels
from store.reports import BROADCASTS, FLAGS, Scope, count_if, routed_to, within
from store.reports_percentile import percentiles

_T = SQLModel.metadata.tables
SUGGESTIONS: Table = _T["suggestions"]
COUNTERS: Table = _T["listening_counters"]
F, B, S = FLAGS.c, BROADCASTS.c, SUGGESTIONS.c


@dataclass(frozen=True)
class ListeningTotals:
    suggestions: int
    flagged: int  # suggestions turned into flags
    dismissed: int  # "Not a flag"
    open: int  # not answered yet
    flags: int
    suggested_flags: int  # flags that came from a suggestion
    time_to_flag_p50: float | None
    time_to_flag_p90: float | None
    broadcasts: int
    not_for_us: int


def _seconds_between(later: Any, earlier: Any, dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    # SQLite keeps UTC instants as text; julianday() reads them, to well under a millisecond.
    return func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0, 3)


def _flags_of(s: Scope) -> ColumnElement[bool]:
    conds = [F.org_id == s.org_id, within(F.flagged_at, s.start, s.end)]
    if s.team_id is not None:
        conds.append(routed_to(F.id, s.team_id))
    return and_(*conds)


def totals(*, session: Session, s: Scope) -> ListeningTotals:
    """The window's listening counts and time-to-flag percentiles (a few aggregates)."""
    made = session.execute(
        select(
            func.count(),
            count_if(S.state == "flagged"),
            count_if(S.state == "dismissed"),
            count_if(S.state == "open"),
        ).where(S.org_id == s.org_id, within(S.created_at, s.start, s.end))
    ).one()
    flags = session.execute(
        select(func.count(), count_if(F.via == "suggestion")).where(_flags_of(s))
    ).one()
    mine = [B.team_id == s.team_id] if s.team_id is not None else []
    sent = session.execute(
        select(func.count(), count_if(B.not_for_us_at.is_not(None)))
        .select_from(BROADCASTS.join(FLAGS, F.id == B.flag_id))
        .where(F.org_id == s.org_id, within(F.flagged_at, s.start, s.end), *mine)
    ).one()
    seconds = _seconds_between(F.flagged_at, F.message_at, session.get_bind().dialect.name)
    source = select(case((seconds < 0, 0.0), else_=seconds).label("ttf")).where(
        _flags_of(s), F.message_at.is_not(None)
    )
    found = percentiles(session=session, source=source, columns=["ttf"])
    p50, p90 = found.get(None, {}).get("ttf", (None, None))
    return ListeningTotals(
        suggestions=int(made[0]),
        flagged=int(made[1]),
        dismissed=int(made[2]),
        open=int(made[3]),
        flags=int(flags[0]),
        suggested_flags=int(flags[1]),
        time_to_flag_p50=p50,
        time_to_flag_p90=p90,
        broadcasts=int(sent[0]),
        not_for_us=int(sent[1]),
    )


@dataclass(frozen=True)
class ListeningCounts:
    """What /metrics shows: messages scored and suggested (all time), labels by source."""

    scored: int
    suggested: int
    labels: dict[str, int]


def counts(*, session: Session, org_id: int) -> ListeningCounts:
    scored, suggested = session.execute(
        select(
            func.coalesce(func.sum(COUNTERS.c.scored), 0),
            func.coalesce(func.sum(COUNTERS.c.suggested), 0),
        ).where(COUNTERS.c.org_id == org_id)
    ).one()
    return ListeningCounts(int(scored), int(suggested), labels.by_source(session, org_id=org_id))
