"""The social-business maturity score and stage (METRICS "Social-business maturity score"):
pure arithmetic over the window's totals, so every component can be checked by hand.

A component whose denominator is empty (no broadcast flag, no due SLA, no tie, no flag
older than 7 days) counts 0: the score rewards what the data shows, never what it lacks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

from config.schema import MaturityWeights

MIN_FLAGS = 20
SILOED_AT = -0.67  # METRICS "Network figures": siloed when E-I <= -0.67


@dataclass(frozen=True)
class MaturityInputs:
    """Totals over one window (the whole org)."""

    flags: int
    teams: int  # active teams
    flagging_teams: int  # active teams that flagged at least once
    broadcast: int  # flags shown to at least one team
    broadcast_answered: int  # ... with a cross-team human reply
    reach: Mapping[int, float | None]  # per active team; None when the org has one team
    org_ei: float | None
    siloed: int  # active teams with E-I <= -0.67, whatever their size
    public: int  # flags from public channels
    gini: float | None  # of cross-team replies per responder
    c5_met: int
    c5_due: int
    older: int  # flags older than 7 days at the window's end
    older_closed: int  # ... with an outcome or resolved
    linked: int  # flags with a CRM ref or a topic of an objective
    all_have_sla: bool


@dataclass(frozen=True)
class Components:
    listening: float
    engagement: float
    silo_breaking: float
    openness: float
    responsiveness: float
    closed_loop: float

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Maturity:
    flags: int
    score: int | None
    stage: str | None
    reason: str | None
    components: Components | None
    previous_score: int | None = None


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def components(x: MaturityInputs) -> Components:
    reaches = [r for r in x.reach.values() if r is not None]
    mean_reach = sum(reaches) / len(reaches) if reaches else 0.0
    ei_half = 0.0 if x.org_ei is None else (x.org_ei + 1) / 2
    spread_half = 0.0 if x.gini is None else 1 - x.gini
    return Components(
        listening=_share(x.flagging_teams, x.teams),
        engagement=(_share(x.broadcast_answered, x.broadcast) + mean_reach) / 2,
        silo_breaking=(ei_half + (1 - _share(x.siloed, x.teams))) / 2,
        openness=(_share(x.public, x.flags) + spread_half) / 2,
        responsiveness=_share(x.c5_met, x.c5_due),
        closed_loop=(_share(x.older_closed, x.older) + _share(x.linked, x.flags)) / 2,
    )


def weighted_score(c: Components, weights: MaturityWeights) -> int:
    total = sum(float(getattr(weights, name)) * value for name, value in c.as_dict().items())
    # Half up, after trimming float noise: 0.575 is 57.5 points, a 58, not 57.
    return math.floor(round(100 * total, 9) + 0.5)


def stage(score: int, c: Components, x: MaturityInputs) -> str:
    """Altimeter's six stages: each needs its score, its gate, and every stage below."""
    linked = _share(x.linked, x.flags)
    reaches = list(x.reach.values())
    gates = (
        ("Presence", 20, c.listening >= 0.3),
        ("Engagement", 40, c.engagement >= 0.5),
        ("Formalized", 55, x.all_have_sla and c.responsiveness >= 0.6),
        ("Strategic", 70, linked >= 0.3 and x.siloed == 0),
        (
            "Converged",
            85,
            linked >= 0.6 and bool(reaches) and all(r is not None and r >= 0.5 for r in reaches),
        ),
    )
    reached = "Planning"
    for name, floor, gate in gates:
        if score < floor or not gate:
            break
        reached = name
    return reached


def assess(x: MaturityInputs, weights: MaturityWeights) -> Maturity:
    """The score, or the reason there is none yet (under 20 flags)."""
    if x.flags < MIN_FLAGS:
        reason = f"not enough data yet: {x.flags} flag{'' if x.flags == 1 else 's'}"
        return Maturity(flags=x.flags, score=None, stage=None, reason=reason, components=None)
    c = components(x)
    score = weighted_score(c, weights)
    return Maturity(flags=x.flags, score=score, stage=stage(score, c, x), reason=None, components=c)
