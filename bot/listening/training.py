"""Training in the background (SPEC "Listening": the model learns from feedback off the
event loop, and is kept in the database so that replicas share one).

The scheduler calls `check` every minute (and at start). It trains when the org has labels
and no model yet, when `MIN_NEW_LABELS` labels came since the last model (at start: any
new label), when labels it learned from were taken back or erased, or when the teams or
their routing keywords changed; never sooner than `MIN_INTERVAL` after the last model.
The fit runs in a child process (so its Python loops do not take the event loop's
interpreter lock while Slack waits for an ack), the database reads and the write on a
worker thread. Two replicas may train the same version at once:
the store keeps the first (`UNIQUE (org_id, version)`), the other drops its result."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import multiprocessing
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.listening.model import Example, Listener, ModelStats
from store import labels, listening_models
from store.db import Database

log = logging.getLogger("crosstalk.listening")

MIN_NEW_LABELS = 20
MIN_INTERVAL = timedelta(minutes=5)
KEEP_VERSIONS = 3
CHECK_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Plan:
    version: int
    examples: list[Example]
    last_label_id: int | None
    digest: str


@dataclass(frozen=True)
class Trained:
    version: int
    stats: ModelStats
    stored: bool  # False: another replica stored this version first


def config_digest(keywords: Mapping[str, Sequence[str]], teams: Sequence[str]) -> str:
    """What the model was trained for (teams and their keywords), to retrain on a change."""
    text = json.dumps({"teams": list(teams), "keywords": {k: list(v) for k, v in keywords.items()}})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def plan(
    session: Session,
    *,
    org_id: int,
    digest: str,
    now: datetime,
    min_new: int = MIN_NEW_LABELS,
    force: bool = False,
) -> Plan | None:
    """What to train now, or None: a read-only look at the labels and the newest model."""
    row = listening_models.latest(session, org_id=org_id)
    last_id = labels.last_id(session, org_id=org_id)
    if row is None:
        if last_id is None and not force:
            return None  # no feedback yet: the cold model needs no training
    elif not force:
        if now - row.created_at < MIN_INTERVAL:
            return None
        since = row.summary.get("last_label_id")
        new = labels.count(session, org_id=org_id, since_id=since)
        # Labels taken back or erased (a customer's words deleted) leave the model too.
        fewer = labels.count(session, org_id=org_id) - new < row.labels
        if new < min_new and not fewer and row.summary.get("config") == digest:
            return None
    version = 1 if row is None else row.version + 1
    return Plan(version, labels.examples(session, org_id=org_id), last_id, digest)


def fit(
    examples: Sequence[Example],
    keywords: Mapping[str, Sequence[str]],
    teams: Sequence[str],
    version: int,
) -> tuple[bytes, ModelStats]:
    """The child process's work: the same `Listener.train` that `listen evaluate` runs."""
    listener = Listener.train(examples, keywords=keywords, teams=teams, version=version)
    return listener.dumps(), listener.stats


def store(
    session: Session, *, org_id: int, plan: Plan, blob: bytes, stats: ModelStats, at: datetime
) -> bool:
    summary: dict[str, Any] = {
        "last_label_id": plan.last_label_id,
        "config": plan.digest,
        "stats": asdict(stats),
    }
    stored = listening_models.save(
        session,
        org_id=org_id,
        version=plan.version,
        labels=stats.labels,
        blob=blob,
        threshold=stats.threshold,
        precision=stats.precision,
        recall=stats.recall,
        summary=summary,
        at=at,
    )
    if stored:
        listening_models.prune(session, org_id=org_id, keep=KEEP_VERSIONS)
    return stored


def train_now(
    db: Database,
    *,
    org_id: int,
    keywords: Mapping[str, Sequence[str]],
    teams: Sequence[str],
    now: datetime,
    min_new: int = MIN_NEW_LABELS,
    force: bool = False,
    executor: Executor | None = None,
) -> Trained | None:
    """Plan, fit and store on the calling thread (a worker thread or the CLI; never the
    event loop); the fit in `executor`, by default a child process of its own."""
    digest = config_digest(keywords, teams)
    found = db.transaction(
        lambda s: plan(s, org_id=org_id, digest=digest, now=now, min_new=min_new, force=force)
    )
    if found is None:
        return None
    own = executor is None
    pool = executor or ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    try:
        blob, stats = pool.submit(fit, found.examples, keywords, teams, found.version).result()
    finally:
        if own:
            pool.shutdown()
    stored = db.transaction(
        lambda s: store(s, org_id=org_id, plan=found, blob=blob, stats=stats, at=now)
    )
    if stored:
        log.info(
            "listening model %d trained on %d labels (precision %s, recall %s, threshold %.3f)",
            found.version,
            stats.labels,
            stats.precision,
            stats.recall,
            stats.threshold,
        )
    else:
        log.info("listening model %d was stored by another replica first", found.version)
    return Trained(found.version, stats, stored)


_STARTED: set[tuple[int, int]] = set()  # (id of the Database, org id) checked since start


async def check(
    db: Database,
    *,
    org_id: int,
    keywords: Mapping[str, Sequence[str]],
    teams: Sequence[str],
    now: datetime,
    executor: Executor | None = None,
) -> Trained | None:
    """The scheduled job's body: train if due, off the event loop. The first check of a
    process (at start) trains on any label new since the last model."""
    first = (id(db), org_id) not in _STARTED
    _STARTED.add((id(db), org_id))
    min_new = 1 if first else MIN_NEW_LABELS
    return await asyncio.to_thread(
        train_now,
        db,
        org_id=org_id,
        keywords=keywords,
        teams=teams,
        now=now,
        min_new=min_new,
        executor=executor,
    )
