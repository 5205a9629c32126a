"""Trained listening models, one row per org and version: the newest is the one every
replica scores with. A version is stored at most once (`UNIQUE (org_id, version)`); the
insert skips a duplicate in the statement itself (`ON CONFLICT DO NOTHING`), so a replica
that trained the same version as another drops its result without aborting its
transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from store.models_listening import ListeningModel


@dataclass(frozen=True)
class ModelRow:
    """A stored model without its blob (what status and the version check read)."""

    version: int
    labels: int
    created_at: datetime
    threshold: float
    precision: float | None
    recall: float | None
    summary: dict[str, Any]


def save(
    session: Session,
    *,
    org_id: int,
    version: int,
    labels: int,
    blob: bytes,
    threshold: float,
    precision: float | None,
    recall: float | None,
    summary: dict[str, Any],
    at: datetime,
) -> bool:
    """Store a new version in the caller's transaction; False when it exists already."""
    table = ListeningModel.__table__  # type: ignore[attr-defined]
    values = {
        "org_id": org_id,
        "version": version,
        "labels": labels,
        "created_at": at,
        "blob": blob,
        "threshold": threshold,
        "precision": precision,
        "recall": recall,
        "summary": json.dumps(summary, sort_keys=True),
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(**values).on_conflict_do_nothing().returning(table.c.id)
    return session.execute(stmt).first() is not None


def latest_version(session: Session, *, org_id: int) -> int | None:
    """The newest version's number."""
    stmt = select(func.max(col(ListeningModel.version))).where(col(ListeningModel.org_id) == org_id)
    found = session.execute(stmt).scalar_one()
    return int(found) if found is not None else None


def latest_stamp(session: Session, *, org_id: int) -> tuple[int, int] | None:
    """(version, row id) of the newest model: one index lookup, the cheap check before a
    reload (the row id tells a model apart from an older one of the same version number in
    a database that was emptied since)."""
    stmt = (
        select(col(ListeningModel.version), col(ListeningModel.id))
        .where(col(ListeningModel.org_id) == org_id)
        .order_by(col(ListeningModel.version).desc())
        .limit(1)
    )
    row = session.execute(stmt).first()
    return (int(row[0]), int(row[1])) if row is not None else None


def blob(session: Session, *, org_id: int, version: int) -> bytes | None:
    stmt = select(col(ListeningModel.blob)).where(
        col(ListeningModel.org_id) == org_id, col(ListeningModel.version) == version
    )
    found = session.execute(stmt).scalar_one_or_none()
    return bytes(found) if found is not None else None


def latest(session: Session, *, org_id: int) -> ModelRow | None:
    stmt = (
        select(
            col(ListeningModel.version),
            col(ListeningModel.labels),
            col(ListeningModel.created_at),
            col(ListeningModel.threshold),
            col(ListeningModel.precision),
            col(ListeningModel.recall),
            col(ListeningModel.summary),
        )
        .where(col(ListeningModel.org_id) == org_id)
        .order_by(col(ListeningModel.version).desc())
        .limit(1)
    )
    row = session.execute(stmt).first()
    if row is None:
        return None
    version, labels, created_at, threshold, precision, recall, summary = row
    return ModelRow(
        int(version), int(labels), created_at, threshold, precision, recall, json.loads(summary)
    )


def prune(session: Session, *, org_id: int, keep: int) -> int:
    """Delete all but the newest `keep` versions (their blobs are the bulk); how many went."""
    newest = latest_version(session, org_id=org_id)
    if newest is None:
        return 0
    stmt = ListeningModel.__table__.delete().where(  # type: ignore[attr-defined]
        ListeningModel.__table__.c.org_id == org_id,  # type: ignore[attr-defined]
        ListeningModel.__table__.c.version <= newest - keep,  # type: ignore[attr-defined]
    )
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]
