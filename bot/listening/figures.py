"""The listening figures (METRICS "Listening") as /roi, `crosstalk roi --json` and the org
digest show them: suggestion precision (suggestions turned into flags ÷ suggestions
answered; the unanswered ones counted apart), suggested share (flags from a suggestion ÷
flags), time to flag p50 and p90, and routing corrections ("Not for us" ÷ broadcasts).

A figure with nothing to divide by is None (`null` in the JSON, "—" in text): no suggestion
answered means no precision, never an invented one."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.core.cards import Card, RichText
from bot.core.timecalc import format_duration
from store.reports import Scope
from store.reports_listening import ListeningTotals, totals


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _r(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places) + 0.0


@dataclass(frozen=True)
class Listening:
    suggestions: int
    answered: int
    unanswered: int
    flagged: int
    flags: int
    suggested_flags: int
    broadcasts: int
    not_for_us: int
    time_to_flag_p50: float | None
    time_to_flag_p90: float | None

    @classmethod
    def of(cls, t: ListeningTotals) -> Listening:
        return cls(
            suggestions=t.suggestions,
            answered=t.flagged + t.dismissed,
            unanswered=t.open,
            flagged=t.flagged,
            flags=t.flags,
            suggested_flags=t.suggested_flags,
            broadcasts=t.broadcasts,
            not_for_us=t.not_for_us,
            time_to_flag_p50=t.time_to_flag_p50,
            time_to_flag_p90=t.time_to_flag_p90,
        )

    @property
    def precision(self) -> float | None:
        return _ratio(self.flagged, self.answered)

    @property
    def suggested_share(self) -> float | None:
        return _ratio(self.suggested_flags, self.flags)

    @property
    def routing_corrections(self) -> float | None:
        return _ratio(self.not_for_us, self.broadcasts)

    def to_json(self) -> dict[str, Any]:
        """The `listening` key of `crosstalk roi --json` (seconds to the millisecond,
        shares to 4 places, as the rest of the report)."""
        return {
            "suggestions": self.suggestions,
            "answered": self.answered,
            "unanswered": self.unanswered,
            "precision": _r(self.precision, 4),
            "suggested_share": _r(self.suggested_share, 4),
            "time_to_flag": {
                "p50": _r(self.time_to_flag_p50, 3),
                "p90": _r(self.time_to_flag_p90, 3),
            },
            "routing_corrections": _r(self.routing_corrections, 4),
        }


def listening(*, session: Session, scope: Scope) -> Listening:
    return Listening.of(totals(session=session, s=scope))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def lines(figures: dict[str, Any]) -> list[str]:
    """The figures as /roi text lines, from the report's JSON `listening` object."""
    ttf = figures["time_to_flag"]
    waiting = f", {figures['unanswered']} unanswered" if figures["unanswered"] else ""
    return [
        f"Suggestions {figures['suggestions']} · precision {_pct(figures['precision'])}"
        f" ({figures['answered']} answered{waiting})",
        f"Flags from suggestions {_pct(figures['suggested_share'])}"
        f" · time to flag p50 {format_duration(ttf['p50'])} / p90 {format_duration(ttf['p90'])}",
        f"Routing corrections (Not for us) {_pct(figures['routing_corrections'])}",
    ]


def digest_fact(
    session: Session, *, org_id: int, start: datetime, end: datetime
) -> tuple[str, RichText]:
    """The org digest's "Listening" line for the week [start, end)."""
    week = listening(session=session, scope=Scope(org_id, start, end, as_of=end))
    made = week.suggestions
    suggested = (
        f"{made} suggestion{'s' if made != 1 else ''}: {week.flagged} flagged,"
        f" {week.answered - week.flagged} not a flag, {week.unanswered} unanswered"
        f" (precision {_pct(week.precision)})"
        if made
        else "no suggestions this week"
    )
    text = (
        f"{suggested}\n"
        f"{week.suggested_flags} of {week.flags} flags from suggestions"
        f" · time to flag p50 {format_duration(week.time_to_flag_p50)}"
        f" / p90 {format_duration(week.time_to_flag_p90)}\n"
        f"Routing corrections: {week.not_for_us} of {week.broadcasts} broadcasts"
        f" ({_pct(week.routing_corrections)})"
    )
    return ("Listening", (text,))


def with_listening(
    card: Card, session: Session, *, org_id: int, start: datetime, end: datetime
) -> Card:
    """The org digest's card with its "Listening" fact added."""
    fact = digest_fact(session, org_id=org_id, start=start, end=end)
    return replace(card, facts=(*card.facts, fact))
