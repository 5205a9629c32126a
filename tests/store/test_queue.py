"""The leased queues on their own, on SQLite and PostgreSQL: a lease keeps a row to one
worker until it runs out; a worker that lost its lease changes nothing; a key is queued
once, and only if the transaction that queued it commits."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from store.db import make_engine, session_scope, upgrade
from store.models import InboxEvent, Org, OutboxMessage
from store.queue import (
    InboxRow,
    add_inbox_many,
    claim,
    enqueue_outbox,
    finish,
    next_due,
    retry_later,
)

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade(engine)
    with session_scope(engine) as session:
        session.add(Org(name="Acme"))
    yield engine
    engine.dispose()


def org_id(engine: Engine) -> int:
    with Session(engine) as session:
        found = session.exec(select(Org.id)).one()
        assert found is not None
        return found


def queue(engine: Engine, *keys: str, at: datetime = T0) -> None:
    oid = org_id(engine)
    with session_scope(engine) as session:
        for key in keys:
            assert enqueue_outbox(
                session, org_id=oid, dedupe_key=key, kind="notice", platform="slack", now=at
            )


def take(engine: Engine, owner: str, now: datetime, limit: int = 20) -> list[OutboxMessage]:
    with session_scope(engine) as session:
        return claim(session, OutboxMessage, owner=owner, now=now, lease=LEASE, limit=limit)


def row(engine: Engine, key: str) -> OutboxMessage:
    with Session(engine) as session:
        return session.exec(select(OutboxMessage).where(OutboxMessage.dedupe_key == key)).one()


def test_a_claim_leases_rows_to_one_owner(engine: Engine) -> None:
    queue(engine, "a", "b", "c")
    mine = take(engine, "w1", T0, limit=2)
    assert [r.dedupe_key for r in mine] == ["a", "b"]
    assert all(r.lease_owner == "w1" and r.attempts == 1 for r in mine)
    assert all(r.lease_until == T0 + LEASE for r in mine)
    # Another worker at the same moment gets only what is left, then nothing.
    assert [r.dedupe_key for r in take(engine, "w2", T0)] == ["c"]
    assert take(engine, "w2", T0 + LEASE - timedelta(seconds=1)) == []


def test_rows_not_yet_due_or_settled_are_not_claimed(engine: Engine) -> None:
    queue(engine, "later", at=T0 + timedelta(minutes=5))
    queue(engine, "now")
    (now,) = take(engine, "w1", T0)
    with session_scope(engine) as session:
        assert finish(session, now, owner="w1", now=T0, status="done", result_id="C1|1.0")
    assert take(engine, "w1", T0 + timedelta(minutes=4)) == []
    assert [r.dedupe_key for r in take(engine, "w1", T0 + timedelta(minutes=5))] == ["later"]
    assert row(engine, "now").result_id == "C1|1.0"


def test_an_expired_lease_is_reclaimed_and_the_old_owner_changes_nothing(engine: Engine) -> None:
    queue(engine, "a")
    (first,) = take(engine, "w1", T0)
    # w1 stalls past its lease; w2 takes the row over.
    (second,) = take(engine, "w2", T0 + LEASE + timedelta(seconds=1))
    assert second.id == first.id and second.lease_owner == "w2" and second.attempts == 2
    with session_scope(engine) as session:
        assert not finish(session, first, owner="w1", now=T0 + LEASE, status="done")
        assert not retry_later(
            session, first, owner="w1", at=T0, error="late", ambiguous=True, dead=True
        )
    late = row(engine, "a")
    assert (late.status, late.lease_owner, late.ambiguous, late.last_error) == (
        "pending",
        "w2",
        False,
        None,
    )
    with session_scope(engine) as session:
        assert finish(session, second, owner="w2", now=T0 + LEASE, status="done")
    assert row(engine, "a").status == "done" and row(engine, "a").lease_owner is None


def test_retry_later_hands_the_row_back_for_its_time(engine: Engine) -> None:
    queue(engine, "a")
    (a,) = take(engine, "w1", T0)
    at = T0 + timedelta(seconds=30)
    with session_scope(engine) as session:
        assert retry_later(session, a, owner="w1", at=at, error="x" * 900, ambiguous=True)
    back = row(engine, "a")
    assert back.status == "pending" and back.lease_owner is None and back.ambiguous
    assert back.next_attempt_at == at and len(back.last_error or "") == 500
    with Session(engine) as session:
        assert next_due(session, OutboxMessage, now=T0) == at
    assert take(engine, "w2", at - timedelta(microseconds=1)) == []
    (again,) = take(engine, "w2", at)
    assert again.attempts == 2
    with session_scope(engine) as session:
        assert retry_later(session, again, owner="w2", at=at, error="gone", dead=True)
        assert next_due(session, OutboxMessage, now=at) is None
    assert row(engine, "a").status == "dead"


def test_next_due_ignores_rows_leased_elsewhere(engine: Engine) -> None:
    queue(engine, "a", "b", at=T0)
    take(engine, "w1", T0, limit=1)
    with Session(engine) as session:
        assert next_due(session, OutboxMessage, now=T0) == T0  # b
    take(engine, "w1", T0, limit=1)
    with Session(engine) as session:
        assert next_due(session, OutboxMessage, now=T0) is None


def test_enqueue_deduplicates_by_key_inside_the_transaction(engine: Engine) -> None:
    oid = org_id(engine)
    args = {"org_id": oid, "kind": "notice", "platform": "slack", "now": T0}
    with session_scope(engine) as session:
        assert enqueue_outbox(session, dedupe_key="k", **args)  # type: ignore[arg-type]
        assert not enqueue_outbox(session, dedupe_key="k", **args)  # type: ignore[arg-type]
    with session_scope(engine) as session:
        assert not enqueue_outbox(session, dedupe_key="k", **args)  # type: ignore[arg-type]
    # Rolled back with the state it belonged to, even as the transaction's first write.
    with Session(engine) as session:
        assert enqueue_outbox(session, dedupe_key="gone", **args)  # type: ignore[arg-type]
        session.rollback()
    with Session(engine) as session:
        keys = session.exec(select(OutboxMessage.dedupe_key)).all()
    assert keys == ["k"]


def test_concurrent_enqueues_of_one_key_leave_one_row(engine: Engine) -> None:
    """The second transaction waits for the first and then adds nothing (a real race
    between two connections, as between two replicas)."""
    oid = org_id(engine)
    args = {"org_id": oid, "kind": "notice", "platform": "slack", "now": T0}
    results: list[bool] = []
    first = Session(engine)
    assert enqueue_outbox(first, dedupe_key="race", **args)  # type: ignore[arg-type]

    def second() -> None:
        with session_scope(engine) as session:
            results.append(enqueue_outbox(session, dedupe_key="race", **args))  # type: ignore[arg-type]

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(timeout=0.3)
    assert thread.is_alive(), "the second insert should wait for the first transaction"
    first.commit()
    first.close()
    thread.join(timeout=10)
    assert results == [False]
    with Session(engine) as session:
        count = session.exec(select(func.count()).select_from(OutboxMessage)).one()
    assert count == 1


def test_add_inbox_is_a_no_op_for_a_redelivery(engine: Engine) -> None:
    oid = org_id(engine)
    with session_scope(engine) as session:
        event = InboxRow(org_id=oid, dedupe_key="slack:Ev1", kind="reaction", payload="{}", now=T0)
        first, again = add_inbox_many(session, [event, event])
    assert isinstance(first, int) and again is None
    with session_scope(engine) as session:
        rows = claim(session, InboxEvent, owner="w1", now=T0, lease=LEASE)
        assert [r.dedupe_key for r in rows] == ["slack:Ev1"]
        assert claim(session, InboxEvent, owner="w2", now=T0, lease=LEASE) == []
