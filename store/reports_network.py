"""Network figures from interpretations (METRICS "Network figures"): who answered whom.

A tie is a distinct (replier, flagger) pair among the live human replies written in the
window; people are (platform, user id) and belong to the teams that list them (a person
may be in several, and one in none is a team of their own). The ties are found and
counted team by team in one statement, which returns a few rows per team:

- ("asked", team, None, n): ties whose flagger is in the team;
- ("answered", team, None, n): ties whose replier is in the team;
- ("pair", flagger's team, replier's team, n): ties between members of the two (the same
  team twice: its internal ties);
- ("spread", None, None, responders, Σ x, Σ rank·x): the Gini sums of cross-team
  replies per responder, x ascending, ranks from 1.

Each tie is numbered and counted with count(DISTINCT ...), so a person listed twice in a
team (by the config and by a user group) is still one member; members are joined through
their user-id index, which both stores use well.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import (
    CTE,
    Integer,
    Select,
    and_,
    cast,
    func,
    literal,
    null,
    select,
    true,
    union_all,
)
from sqlmodel import Session

from store.reports import FLAGS, INTERPS, IT, MEMBERS, F, Scope, count_if, human_reply, within


class TeamTies(NamedTuple):
    asked: dict[int, int]
    answered: dict[int, int]
    pairs: dict[tuple[int, int], int]  # (flagger's team, replier's team): ties
    spread: tuple[int, int, int]  # responders, cross-team replies, Σ rank·replies


def _ties(s: Scope) -> CTE:
    return (
        select(
            func.row_number().over().label("tie"),
            IT.platform.label("rp"),
            IT.author_id.label("rid"),
            F.platform.label("fp"),
            F.flagger_id.label("fid"),
            count_if(IT.cross_team.is_(true())).label("x"),
        )
        .select_from(INTERPS.join(FLAGS, F.id == IT.flag_id))
        .where(
            IT.org_id == s.org_id,
            within(IT.created_at, s.start, s.end),
            human_reply(),
            ~and_(IT.author_id == F.flagger_id, IT.platform == F.platform),
        )
        .group_by(IT.platform, IT.author_id, F.platform, F.flagger_id)
        .cte("ties")
    )


def _none() -> Any:
    return cast(null(), Integer)


def _end(ties: CTE, name: str, org_id: int, platform: str, user: str) -> tuple[Any, Any]:
    """The members at one end of each tie, and the join condition."""
    m = MEMBERS.alias(name)
    on = and_(m.c.user_id == ties.c[user], m.c.platform == ties.c[platform], m.c.org_id == org_id)
    return m, on


def _spread(ties: CTE) -> Select[Any]:
    per_responder = (
        select(func.sum(ties.c.x).label("x"))
        .group_by(ties.c.rp, ties.c.rid)
        .having(func.sum(ties.c.x) > 0)
        .subquery()
    )
    ranked = select(
        per_responder.c.x, func.row_number().over(order_by=per_responder.c.x).label("rank")
    ).subquery()
    return select(
        literal("spread"),
        _none(),
        _none(),
        func.count(),
        func.coalesce(func.sum(ranked.c.x), 0),
        func.coalesce(func.sum(ranked.c.rank * ranked.c.x), 0),
    ).select_from(ranked)


def team_ties(session: Session, s: Scope, team_ids: Sequence[int]) -> TeamTies:
    """The window's ties counted for the given (active) teams."""
    ties = _ties(s)
    ties_of = func.count(ties.c.tie.distinct())
    asker, asked_by = _end(ties, "asker", s.org_id, "fp", "fid")
    answerer, answered_by = _end(ties, "answerer", s.org_id, "rp", "rid")
    pairs = (
        select(literal("pair"), asker.c.team_id, answerer.c.team_id, ties_of, _none(), _none())
        .select_from(ties)
        .join(asker, asked_by)
        .join(answerer, answered_by)
        .group_by(asker.c.team_id, answerer.c.team_id)
    )
    asked = (
        select(literal("asked"), asker.c.team_id, _none(), ties_of, _none(), _none())
        .select_from(ties)
        .join(asker, asked_by)
        .group_by(asker.c.team_id)
    )
    answered = (
        select(literal("answered"), answerer.c.team_id, _none(), ties_of, _none(), _none())
        .select_from(ties)
        .join(answerer, answered_by)
        .group_by(answerer.c.team_id)
    )
    wanted = set(team_ids)  # members of inactive teams are left out here, not in SQL
    out = TeamTies({}, {}, {}, (0, 0, 0))
    for tag, a, b, n, total, weighted in session.execute(
        union_all(pairs, asked, answered, _spread(ties))
    ).all():
        if tag == "spread":
            out = out._replace(spread=(int(n), int(total), int(weighted)))
        elif a not in wanted or (b is not None and b not in wanted):
            continue
        elif tag == "pair":
            out.pairs[(int(a), int(b))] = int(n)
        else:
            (out.asked if tag == "asked" else out.answered)[int(a)] = int(n)
    return out
