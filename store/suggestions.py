"""Suggestions of listening, and the per-day counters that are all a message not suggested
leaves behind (SPEC "Listening": privacy). Every query is scoped to one org."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from store.models_listening import ListeningCounter, Suggestion


def _insert(session: Session):  # type: ignore[no-untyped-def]
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def count(*, session: Session, org_id: int, day: date, scored: int = 1, suggested: int = 0) -> None:
    """Add to the day's counters (one upsert: replicas counting at once never collide)."""
    stmt = (
        _insert(session)(ListeningCounter)
        .values(org_id=org_id, day=day, scored=scored, suggested=suggested)
        .on_conflict_do_update(
            index_elements=["org_id", "day"],
            set_={
                "scored": col(ListeningCounter.scored) + scored,
                "suggested": col(ListeningCounter.suggested) + suggested,
            },
        )
    )
    session.execute(stmt)


def add(*, session: Session, suggestion: Suggestion) -> int | None:
    """Insert the suggestion unless this message has one already (a platform's retry, a
    second replica): the new id, or None. One statement, so a race cannot make two."""
    values = suggestion.model_dump(exclude={"id"})
    stmt = (
        _insert(session)(Suggestion)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["org_id", "platform", "channel_id", "message_id"])
        .returning(col(Suggestion.id))
    )
    new_id = session.execute(stmt).scalar()
    assert new_id is None or isinstance(new_id, int)
    return new_id


def get(*, session: Session, org_id: int, suggestion_id: int) -> Suggestion | None:
    stmt = select(Suggestion).where(
        col(Suggestion.org_id) == org_id, col(Suggestion.id) == suggestion_id
    )
    return session.exec(stmt).first()


def answer(
    *,
    session: Session,
    org_id: int,
    suggestion_id: int,
    state: str,
    by: str,
    at: datetime,
    flag_id: int | None = None,
    teams: str | None = None,
) -> bool:
    """Record the first answer to an open suggestion; False when it was answered already
    (a second press, another replica): the first answer stands."""
    values: dict[str, object] = {"state": state, "answered_by": by, "answered_at": at}
    if flag_id is not None:
        values["flag_id"] = flag_id
    if teams is not None:
        values["teams"] = teams
    stmt = (
        update(Suggestion)
        .where(
            col(Suggestion.org_id) == org_id,
            col(Suggestion.id) == suggestion_id,
            col(Suggestion.state) == "open",
        )
        .values(**values)
    )
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def posted(
    *, session: Session, org_id: int, suggestion_id: int, message_id: str, permalink: str | None
) -> None:
    """Where the suggestion's card was posted, and the message's link once it is known."""
    values: dict[str, object] = {"card_message_id": message_id}
    if permalink is not None:
        values["permalink"] = permalink
    stmt = (
        update(Suggestion)
        .where(col(Suggestion.org_id) == org_id, col(Suggestion.id) == suggestion_id)
        .values(**values)
    )
    session.execute(stmt)


def counters(*, session: Session, org_id: int) -> list[ListeningCounter]:
    stmt = (
        select(ListeningCounter)
        .where(col(ListeningCounter.org_id) == org_id)
        .order_by(col(ListeningCounter.day))
    )
    return list(session.exec(stmt).all())
