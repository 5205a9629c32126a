"""Training in the background (SPEC "Listening"): when a new model is due, that replicas
training at once store one version, that every process picks up the newest one, the
scheduled job inside the real server, and `crosstalk listen status`."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from bot.cli import main
from bot.core.clock import FakeClock
from bot.demo.standins.harness import Server
from bot.listening import training
from bot.listening.current import current
from bot.listening.model import Listener
from bot.scheduler import Scheduler
from store import labels
from store.db import Database, make_engine, upgrade
from store.models import Org
from store.models_listening import ListeningModel
from tests.listening import synthetic

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TEAMS = list(synthetic.TEAMS)
KEYWORDS = {"billing": ["invoice"]}


def add_labels(session: Session, org_id: int, n: int, *, seed: int, start: int = 0) -> None:
    for i, (text, flag, team) in enumerate(synthetic.rows(n, seed=seed), start=start):
        source = "manual" if flag else "not_a_flag"
        labels.add(
            session,
            org_id=org_id,
            ref=f"t:{i}",
            text=text,
            flag=flag,
            team=team,
            team_ok=True,
            source=source,
            at=AT,
        )


@pytest.fixture
def db(db_url: str) -> Iterator[tuple[Database, int]]:
    engine = make_engine(db_url)
    upgrade(engine)
    database = Database(engine)

    def create(session: Session) -> int:
        org = Org(name="Acme")
        session.add(org)
        session.flush()
        assert org.id is not None
        return org.id

    org_id = database.transaction(create)
    yield database, org_id
    database.close()


class Together(Executor):
    """Runs each fit on the caller's thread once `parties` callers are all there: two
    replicas that planned the same version before either stored it."""

    def __init__(self, parties: int) -> None:
        self.barrier = threading.Barrier(parties, timeout=60)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.barrier.wait()
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def test_nothing_to_train_without_labels_then_due_rules(db: tuple[Database, int]) -> None:
    database, org_id = db
    digest = training.config_digest(KEYWORDS, TEAMS)

    def plan(now: datetime, digest: str = digest, min_new: int = 20) -> training.Plan | None:
        return database.transaction(
            lambda s: training.plan(s, org_id=org_id, digest=digest, now=now, min_new=min_new)
        )

    assert plan(AT) is None  # cold: nothing to learn from
    database.transaction(lambda s: add_labels(s, org_id, 30, seed=1))
    first = plan(AT)
    assert first is not None and first.version == 1 and len(first.examples) == 30
    done = training.train_now(
        database,
        org_id=org_id,
        keywords=KEYWORDS,
        teams=TEAMS,
        now=AT,
        executor=ThreadPoolExecutor(1),
    )
    assert done is not None and done.stored and done.version == 1
    later = AT + training.MIN_INTERVAL
    assert plan(AT + timedelta(minutes=1), min_new=1) is None  # too soon after the last one
    assert plan(later) is None  # no new label
    database.transaction(lambda s: add_labels(s, org_id, 5, seed=2, start=100))
    assert plan(later) is None  # 5 new: fewer than MIN_NEW_LABELS
    assert plan(later, min_new=1) is not None  # at start, any new label is enough
    other = training.config_digest({"billing": ["invoice", "refund"]}, TEAMS)
    changed = plan(later, digest=other)
    assert changed is not None and changed.version == 2  # the keywords changed
    database.transaction(lambda s: add_labels(s, org_id, 20, seed=3, start=200))
    due = plan(later)
    assert due is not None and due.version == 2 and len(due.examples) == 55
    # An erased customer's words leave the model at the next check, whatever came since.
    assert plan(later, min_new=26) is None  # 25 new
    database.transaction(lambda s: labels.remove(s, org_id=org_id, refs=["t:0"]))
    assert plan(later, min_new=26) is not None


def test_two_replicas_training_together_store_one_version(db: tuple[Database, int]) -> None:
    database, org_id = db
    database.transaction(lambda s: add_labels(s, org_id, 60, seed=4))
    together = Together(2)
    results: list[training.Trained | None] = []

    def replica() -> None:
        results.append(
            training.train_now(
                database, org_id=org_id, keywords=KEYWORDS, teams=TEAMS, now=AT, executor=together
            )
        )

    threads = [threading.Thread(target=replica) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(r.stored for r in results if r is not None) == [False, True]
    assert {r.version for r in results if r is not None} == {1}
    rows = database.transaction(lambda s: s.execute(select(ListeningModel)).scalars().all())
    assert [(r.org_id, r.version, r.labels) for r in rows] == [(org_id, 1, 60)]
    summary = json.loads(rows[0].summary)
    assert summary["stats"]["labels"] == 60 and summary["last_label_id"] is not None


def test_every_process_scores_with_the_newest_model(db: tuple[Database, int]) -> None:
    database, org_id = db
    cold = database.transaction(lambda s: current(s, org_id, KEYWORDS))
    assert cold.stats.version == 0 and not cold.trained
    assert database.transaction(lambda s: current(s, org_id, KEYWORDS)) is cold  # cached
    database.transaction(lambda s: add_labels(s, org_id, 60, seed=5))
    training.train_now(
        database,
        org_id=org_id,
        keywords=KEYWORDS,
        teams=TEAMS,
        now=AT,
        executor=ThreadPoolExecutor(1),
    )
    first = database.transaction(lambda s: current(s, org_id, KEYWORDS))
    assert first.stats.version == 1 and first.trained
    assert database.transaction(lambda s: current(s, org_id, KEYWORDS)) is first
    database.transaction(lambda s: add_labels(s, org_id, 25, seed=6, start=100))
    later = AT + training.MIN_INTERVAL
    done = training.train_now(
        database,
        org_id=org_id,
        keywords=KEYWORDS,
        teams=TEAMS,
        now=later,
        executor=ThreadPoolExecutor(1),
    )
    assert done is not None and done.version == 2
    second = database.transaction(lambda s: current(s, org_id, KEYWORDS))
    assert second.stats.version == 2 and second.stats.labels == 85
    text = "Unacceptable. the courier lost my parcel"
    stored = database.transaction(
        lambda s: s.execute(select(ListeningModel.blob).where(ListeningModel.version == 2))
    )
    assert Listener.loads(bytes(stored.scalar_one())).score(text) == second.score(text)


async def test_the_scheduled_job_trains_in_a_child_process_and_status_says_so(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = FakeClock(AT)
    async with Server(db_url, clock=clock) as server:
        org_id = server.runtime.org.org_id
        await server.runtime.db.run(lambda s: add_labels(s, org_id, 60, seed=7))
        scheduler = Scheduler(server.runtime)
        trained = await scheduler.run("listening_model")  # the first check: at start
        assert isinstance(trained, training.Trained) and trained.stored
        assert await scheduler.run("listening_model") is None  # nothing new since
        model = await server.runtime.db.run(lambda s: current(s, org_id, {}), read_only=True)
        assert model.stats.version == 1
        assert server.http is not None
        async with server.http.get(f"{server.url}/metrics") as response:
            metrics = await response.text()
        info = [line for line in metrics.splitlines() if "crosstalk_listening_model_info{" in line]
        assert len(info) == 1 and 'version="1"' in info[0] and 'labels="60"' in info[0]

    monkeypatch.setenv("CROSSTALK_DATABASE_URL", db_url)
    assert main(["listen", "status"], clock=clock) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "Acme:"
    assert "model: version 1, trained 2026-11-20T09:00:00+00:00 on 60 labels" in out
    assert "labels: 60 (manual " in out and "not_a_flag " in out
    assert main(["listen", "status", "--json"], clock=clock) == 0
    (status,) = json.loads(capsys.readouterr().out)
    assert status["model"]["version"] == 1 and status["labels"] == 60
    assert set(status["labels_by_source"]) == {"manual", "not_a_flag"}
    assert status["model"]["precision"] is not None
