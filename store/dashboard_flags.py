"""The dashboard's flags list and flag page (SPEC "Dashboard"): every query org-scoped.

The list reads the flags of one window through `ix_flags_org_flagged` (newest first, a page
at a time) and counts them in the same filters; the teams of a page's flags come in one
more statement. Text search is a case-insensitive substring of the excerpt, the customer or
the CRM ref, over the window's rows only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlmodel import Session, col
from sqlmodel import select as model_select

from store.models import Broadcast, Flag, FlagTopic, Interpretation, Outcome, Rating
from store.reports import BROADCASTS, FLAGS, B, F

STATUSES = ("open", "acknowledged", "resolved", "dismissed")
SENTIMENTS = ("positive", "neutral", "negative")


@dataclass(frozen=True)
class FlagFilter:
    org_id: int
    start: datetime
    end: datetime
    team_id: int | None = None
    status: str | None = None
    sentiment: str | None = None
    text: str | None = None


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _where(f: FlagFilter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [
        F.org_id == f.org_id,
        F.flagged_at >= f.start,
        F.flagged_at < f.end,
    ]
    if f.team_id is not None:
        conds.append(
            exists().where(B.flag_id == F.id, B.team_id == f.team_id, B.status == "active")
        )
    if f.status:
        conds.append(F.status == f.status)
    if f.sentiment:
        conds.append(F.sentiment == f.sentiment)
    if f.text:
        pattern = _like(f.text)
        conds.append(
            or_(
                func.lower(F.excerpt).like(pattern, escape="\\"),
                func.lower(func.coalesce(F.customer, "")).like(pattern, escape="\\"),
                func.lower(func.coalesce(F.crm_ref, "")).like(pattern, escape="\\"),
            )
        )
    return conds


LIST_COLUMNS = (
    F.id,
    F.flagged_at,
    F.platform,
    F.excerpt,
    F.customer,
    F.crm_ref,
    F.sentiment,
    F.status,
    F.flagger_id,
)
LIST_KEYS = tuple(c.name for c in LIST_COLUMNS)


def count_flags(*, session: Session, f: FlagFilter) -> int:
    return int(session.execute(select(func.count()).where(*_where(f))).scalar_one())


def list_flags(*, session: Session, f: FlagFilter, offset: int, limit: int) -> list[dict[str, Any]]:
    """One page of the filtered flags, newest first, with the keys of the teams reached."""
    stmt = (
        select(*LIST_COLUMNS)
        .where(*_where(f))
        .order_by(F.flagged_at.desc(), F.id.desc())
        .offset(offset)
        .limit(limit)
    )
    rows = [dict(zip(LIST_KEYS, r, strict=True)) for r in session.execute(stmt).all()]
    teams = flag_team_ids(session=session, flag_ids=[r["id"] for r in rows])
    for r in rows:
        r["team_ids"] = teams.get(r["id"], [])
    return rows


def iter_flags(*, session: Session, f: FlagFilter, batch: int = 2000) -> Iterator[dict[str, Any]]:
    """Every filtered flag, newest first, read a batch at a time by keyset (the CSV)."""
    after: tuple[datetime, int] | None = None
    while True:
        conds = _where(f)
        if after is not None:
            at, fid = after
            conds.append(or_(F.flagged_at < at, and_(F.flagged_at == at, F.id < fid)))
        stmt = (
            select(*LIST_COLUMNS)
            .where(*conds)
            .order_by(F.flagged_at.desc(), F.id.desc())
            .limit(batch)
        )
        rows = [dict(zip(LIST_KEYS, r, strict=True)) for r in session.execute(stmt).all()]
        if not rows:
            return
        teams = flag_team_ids(session=session, flag_ids=[r["id"] for r in rows])
        for r in rows:
            r["team_ids"] = teams.get(r["id"], [])
            yield r
        after = (rows[-1]["flagged_at"], rows[-1]["id"])


def flag_team_ids(*, session: Session, flag_ids: Sequence[int]) -> dict[int, list[int]]:
    """The teams each flag was broadcast to (still on it: not sent back)."""
    if not flag_ids:
        return {}
    stmt = (
        select(B.flag_id, B.team_id)
        .select_from(BROADCASTS.join(FLAGS, F.id == B.flag_id))
        .where(B.flag_id.in_(flag_ids), B.status == "active")
        .order_by(B.flag_id, B.id)
    )
    out: dict[int, list[int]] = {}
    for flag_id, team_id in session.execute(stmt).all():
        out.setdefault(int(flag_id), []).append(int(team_id))
    return out


@dataclass(frozen=True)
class FlagPage:
    flag: Flag
    broadcasts: list[Broadcast]
    interpretations: list[Interpretation]
    outcomes: list[Outcome]
    ratings: list[Rating]
    topics: list[str]


def flag_page(*, session: Session, org_id: int, flag_id: int) -> FlagPage | None:
    """Everything a flag's page shows; None when the flag is not this org's."""
    flag = session.get(Flag, flag_id)
    if flag is None or flag.org_id != org_id:
        return None

    def rows(model: Any, *order: Any) -> list[Any]:
        stmt = model_select(model).where(model.flag_id == flag_id).order_by(*order)
        return list(session.exec(stmt))

    return FlagPage(
        flag=flag,
        broadcasts=rows(Broadcast, col(Broadcast.id)),
        interpretations=[
            i
            for i in rows(Interpretation, col(Interpretation.created_at), col(Interpretation.id))
            if i.deleted_at is None
        ],
        outcomes=rows(Outcome, col(Outcome.created_at), col(Outcome.id)),
        ratings=rows(Rating, col(Rating.at)),
        topics=[t.topic for t in rows(FlagTopic, col(FlagTopic.id))],
    )
