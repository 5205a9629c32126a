"""Feedback labels (SPEC "Listening"): what people did with a message, kept per org as the
training data of its model.

A label's `ref` names the action it came from (`flag:{flag_id}:{team}`,
`notforus:{broadcast_id}`, `answered:{broadcast_id}`, `suggestion:{id}`…) and is unique per
org, so the same action replayed (a redelivered event, a retried job) stores one label.
The insert ignores a duplicate in the statement itself (`ON CONFLICT DO NOTHING`, on SQLite
and PostgreSQL alike), so it never aborts the caller's transaction."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import ReturningInsert
from sqlmodel import Session, col

from store.models_listening import ListeningLabel

if TYPE_CHECKING:
    from bot.listening.model import Example

SOURCES = ("manual", "suggestion", "not_a_flag", "not_for_us", "answered")


def flag_ref(flag_id: int, team: str) -> str:
    """A manual flag's positive label for one of its final teams."""
    return f"flag:{flag_id}:{team}"


def flag_only_ref(flag_id: int) -> str:
    """A flag's positive label without teams (it went to the default teams only)."""
    return f"flag:{flag_id}"


def not_for_us_ref(broadcast_id: int) -> str:
    return f"notforus:{broadcast_id}"


def answered_ref(broadcast_id: int) -> str:
    return f"answered:{broadcast_id}"


def _insert(session: Session, values: dict[str, Any]) -> ReturningInsert[tuple[int]]:
    table = ListeningLabel.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        return (
            postgresql.insert(table).values(**values).on_conflict_do_nothing().returning(table.c.id)
        )
    return sqlite.insert(table).values(**values).on_conflict_do_nothing().returning(table.c.id)


def add(
    session: Session,
    *,
    org_id: int,
    ref: str,
    text: str,
    flag: bool | None,
    team: str | None,
    team_ok: bool,
    source: str,
    at: datetime,
) -> bool:
    """Store one label in the caller's transaction; False when `ref` was stored before."""
    values = {
        "org_id": org_id,
        "ref": ref,
        "text": text,
        "flag": flag,
        "team": team,
        "team_ok": team_ok,
        "source": source,
        "created_at": at,
    }
    return session.execute(_insert(session, values)).first() is not None


def remove(session: Session, *, org_id: int, refs: Collection[str]) -> int:
    """Take labels back (a flag's team that said "Not for us" is no longer one of its
    final teams); how many went."""
    if not refs:
        return 0
    stmt = delete(ListeningLabel).where(
        col(ListeningLabel.org_id) == org_id, col(ListeningLabel.ref).in_(refs)
    )
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def examples(session: Session, *, org_id: int) -> list[Example]:
    """Every label of the org, oldest first, as the model's training examples."""
    from bot.listening.model import Example  # the model's package loads only when it learns

    stmt = (
        select(
            col(ListeningLabel.text),
            col(ListeningLabel.flag),
            col(ListeningLabel.team),
            col(ListeningLabel.team_ok),
        )
        .where(col(ListeningLabel.org_id) == org_id)
        .order_by(col(ListeningLabel.id))
    )
    return [
        Example(text, flag, team, bool(team_ok))
        for text, flag, team, team_ok in session.execute(stmt).all()
    ]


def count(session: Session, *, org_id: int, since_id: int | None = None) -> int:
    """The org's labels (those after `since_id` when given: new since a model was trained)."""
    stmt = (
        select(func.count()).select_from(ListeningLabel).where(col(ListeningLabel.org_id) == org_id)
    )
    if since_id is not None:
        stmt = stmt.where(col(ListeningLabel.id) > since_id)
    return int(session.execute(stmt).scalar_one())


def last_id(session: Session, *, org_id: int) -> int | None:
    """The newest label's id (what `count(since_id=…)` is later asked from)."""
    stmt = select(func.max(col(ListeningLabel.id))).where(col(ListeningLabel.org_id) == org_id)
    found = session.execute(stmt).scalar_one()
    return int(found) if found is not None else None


def by_source(session: Session, *, org_id: int) -> dict[str, int]:
    stmt = (
        select(col(ListeningLabel.source), func.count())
        .where(col(ListeningLabel.org_id) == org_id)
        .group_by(col(ListeningLabel.source))
    )
    return {source: int(n) for source, n in session.execute(stmt).all()}


def erase(
    session: Session,
    *,
    org_id: int,
    flag_ids: Collection[int],
    broadcast_ids: Collection[int],
    texts: Collection[str],
) -> int:
    """Labels that carry an erased customer's words: those made from the flags and their
    broadcasts, and any other holding the same text (a suggestion of the same message)."""
    named = [col(ListeningLabel.ref).like(f"flag:{f}:%") for f in flag_ids]
    named += [
        col(ListeningLabel.ref).in_(
            [r for b in broadcast_ids for r in (not_for_us_ref(b), answered_ref(b))]
        ),
        col(ListeningLabel.text).in_([t for t in texts if t]),
    ]
    stmt = delete(ListeningLabel).where(col(ListeningLabel.org_id) == org_id, or_(*named))
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]
