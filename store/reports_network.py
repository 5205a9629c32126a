"""Network figures from interpretations (METRICS "Network figures"): who answered whom.

A tie is a distinct (replier, flagger) pair among the live human replies written in the
window; people are (platform, user id) and belong to the teams that list them (a person
may be in several, and one in none is a team of their own). Several windows are counted
in one statement, which returns a few rows per window and team:

- ("asked", window, team, None, n): ties whose flagger is in the team;
- ("answered", window, team, None, n): ties whose replier is in the team;
- ("pair", window, flagger's team, replier's team, n): ties between members of the two
  (the same team twice: its internal ties);
- ("spread", window, None, None, responders, Σ x, Σ rank·x): the Gini sums of cross-team
  replies per responder, x ascending, ranks from 1.

The replies are read and grouped into (replier, flagger) pairs once, over the span that
covers every window, each pair carrying a mark and a cross-team count per window (the
costly step, done once however many windows overlap: the period and its maturity window,
the twelve 28-day windows of a trend); each window's ties are then the pairs marked in it.
A team's ties are the sum of its members' ties, counted per person before the join, so the
join sees a row per person rather than per tie. Members are deduplicated first (a person
listed by the config and by a user group is one member).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import (
    CTE,
    Integer,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    select,
    true,
    union_all,
)
from sqlmodel import Session

from store.reports import (
    FLAGS,
    INTERPS,
    IT,
    MEMBERS,
    F,
    Scope,
    count_if,
    human_reply,
    span,
    within,
)


class TeamTies(NamedTuple):
    asked: dict[int, int]
    answered: dict[int, int]
    pairs: dict[tuple[int, int], int]  # (flagger's team, replier's team): ties
    spread: tuple[int, int, int]  # responders, cross-team replies, Σ rank·replies


def _ties(scopes: Sequence[Scope]) -> CTE:
    """(w, replier, flagger, cross-team replies) per window: the pairs grouped once over
    the span, then unfolded into the windows each pair has a reply in."""
    marks: list[Any] = []
    for w, s in enumerate(scopes):
        inside = within(IT.created_at, s.start, s.end)
        marks += [
            func.max(case((inside, 1), else_=0)).label(f"in{w}"),
            count_if(and_(inside, IT.cross_team.is_(true()))).label(f"x{w}"),
        ]
    pairs = (
        select(
            IT.platform.label("rp"),
            IT.author_id.label("rid"),
            F.platform.label("fp"),
            F.flagger_id.label("fid"),
            *marks,
        )
        .select_from(INTERPS.join(FLAGS, F.id == IT.flag_id))
        .where(
            IT.org_id == scopes[0].org_id,
            span(IT.created_at, scopes),
            human_reply(),
            ~and_(IT.author_id == F.flagger_id, IT.platform == F.platform),
        )
        .group_by(IT.platform, IT.author_id, F.platform, F.flagger_id)
        .cte("pairs")
    )
    p = pairs.c
    parts = [
        select(literal(w).label("w"), p.rp, p.rid, p.fp, p.fid, p[f"x{w}"].label("x")).where(
            p[f"in{w}"] == 1
        )
        for w in range(len(scopes))
    ]
    return (parts[0] if len(parts) == 1 else union_all(*parts)).cte("ties")


def _none() -> Any:
    return cast(null(), Integer)


def _people(org_id: int) -> CTE:
    m = MEMBERS.c
    return (
        select(m.team_id, m.platform, m.user_id).where(m.org_id == org_id).distinct().cte("people")
    )


def _per_person(ties: CTE, platform: str, user: str, name: str) -> CTE:
    """Ties per person at one end, per window."""
    p, u = ties.c[platform], ties.c[user]
    return (
        select(ties.c.w, p.label("p"), u.label("u"), func.count().label("n"))
        .group_by(ties.c.w, p, u)
        .cte(name)
    )


def _team_sums(tag: str, per: CTE, people: CTE) -> Select[Any]:
    on = and_(people.c.platform == per.c.p, people.c.user_id == per.c.u)
    return (
        select(
            literal(tag), per.c.w, people.c.team_id, _none(), func.sum(per.c.n), _none(), _none()
        )
        .select_from(per.join(people, on))
        .group_by(per.c.w, people.c.team_id)
    )


def _pairs(ties: CTE, people: CTE) -> Select[Any]:
    asker, answerer = people.alias("asker"), people.alias("answerer")
    return (
        select(
            literal("pair"),
            ties.c.w,
            asker.c.team_id,
            answerer.c.team_id,
            func.count(),
            _none(),
            _none(),
        )
        .select_from(ties)
        .join(asker, and_(asker.c.platform == ties.c.fp, asker.c.user_id == ties.c.fid))
        .join(answerer, and_(answerer.c.platform == ties.c.rp, answerer.c.user_id == ties.c.rid))
        .group_by(ties.c.w, asker.c.team_id, answerer.c.team_id)
    )


def _spread(ties: CTE) -> Select[Any]:
    per_responder = (
        select(ties.c.w, func.sum(ties.c.x).label("x"))
        .group_by(ties.c.w, ties.c.rp, ties.c.rid)
        .having(func.sum(ties.c.x) > 0)
        .subquery()
    )
    ranked = select(
        per_responder.c.w,
        per_responder.c.x,
        func.row_number()
        .over(partition_by=per_responder.c.w, order_by=per_responder.c.x)
        .label("rank"),
    ).subquery()
    return select(
        literal("spread"),
        ranked.c.w,
        _none(),
        _none(),
        func.count(),
        func.coalesce(func.sum(ranked.c.x), 0),
        func.coalesce(func.sum(ranked.c.rank * ranked.c.x), 0),
    ).group_by(ranked.c.w)


def team_ties(
    *, session: Session, scopes: Sequence[Scope], team_ids: Sequence[int]
) -> list[TeamTies]:
    """Each window's ties counted for the given (active) teams, in the order of `scopes`
    (all of one org; their team and topics are ignored: the network is the org's)."""
    if not scopes:
        return []
    ties = _ties(scopes)
    people = _people(scopes[0].org_id)
    stmt = union_all(
        _pairs(ties, people),
        _team_sums("asked", _per_person(ties, "fp", "fid", "askers"), people),
        _team_sums("answered", _per_person(ties, "rp", "rid", "answerers"), people),
        _spread(ties),
    )
    wanted = set(team_ids)  # members of inactive teams are left out here, not in SQL
    out = [TeamTies({}, {}, {}, (0, 0, 0)) for _ in scopes]
    for tag, w, a, b, n, total, weighted in session.execute(stmt).all():
        if tag == "spread":
            out[w] = out[w]._replace(spread=(int(n), int(total), int(weighted)))
        elif a not in wanted or (b is not None and b not in wanted):
            continue
        elif tag == "pair":
            out[w].pairs[(int(a), int(b))] = int(n)
        else:
            (out[w].asked if tag == "asked" else out[w].answered)[int(a)] = int(n)
    return out
