"""Scheduled jobs, named in one place (as Dispatch keeps its `scheduled.py`), each calling a
handler: the weekly digests, the SLA nudges, and pruning handled inbound events.

APScheduler 3 runs them inside `crosstalk serve` (`--no-scheduler` for replicas that should
not), with its jobs stored in the Crosstalk database (table `scheduler_jobs`), so a restart
picks up where the last run left off. APScheduler 3 does not coordinate two schedulers
sharing a job store: every replica may run a job at the same moment. That is by design —
a job only works out what is due and queues it in the outbox under a unique key, so the
database lets exactly one send through, whoever looked first.

Each job is a frequent "due check" rather than one cron trigger per team: what is due is a
pure function of the clock and the database (see digest.due_digests), so daylight-saving
changes, a config edit and a restart need no job rewritten in the store, and tests drive it
with a fake clock through `Scheduler.run(name)` without waiting for real time. A job's
queries run in one transaction on the database's threads (`Database.run`), off the event
loop; it wakes the outbox once that transaction is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from bot.handlers import nudge
from bot.handlers.digest import plan as digest
from bot.listening import training as listening
from bot.listening.routing import rule_keywords
from bot.runtime import Runtime
from store.db import make_engine
from store.queue import prune_inbox

log = logging.getLogger("crosstalk.scheduler")
TABLE = "scheduler_jobs"
CHECK_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class NamedJob:
    name: str
    every: timedelta
    run: Callable[[Runtime], Awaitable[object]]


async def _weekly_digests(runtime: Runtime) -> object:
    org, now = runtime.org, runtime.clock.now()
    items = digest.due_digests(org, now)
    result = await runtime.db.run(
        lambda session: digest.enqueue(session=session, org=org, items=items, now=now)
    )
    digest.announce(org, result)
    return result


async def _sla_nudges(runtime: Runtime) -> object:
    org, now = runtime.org, runtime.clock.now()
    queued = await runtime.db.run(
        lambda session: nudge.queue_due(session=session, org=org, now=now)
    )
    nudge.announce(org, queued)
    return queued


async def _prune_inbox(runtime: Runtime) -> object:
    """Handled inbound events go after `[retention] inbox_days` (default 7)."""
    before = runtime.clock.now() - timedelta(days=runtime.config.retention.inbox_days)
    pruned = await runtime.db.run(lambda session: prune_inbox(session=session, before=before))
    if pruned:
        log.info("deleted %d handled inbound events older than %s", pruned, before.date())
    return pruned


async def _listening_model(runtime: Runtime) -> object:
    """Retrain the org's listening model when enough new feedback came (at start: any),
    in a child process; the new version is shared with every replica through the store."""
    config = runtime.config
    return await listening.check(
        runtime.db,
        org_id=runtime.org.org_id,
        keywords=rule_keywords(config),
        teams=[team.key for team in config.teams],
        now=runtime.clock.now(),
    )


JOBS: tuple[NamedJob, ...] = (
    NamedJob("weekly_digests", CHECK_EVERY, _weekly_digests),
    NamedJob("sla_nudges", CHECK_EVERY, _sla_nudges),
    NamedJob("prune_inbox", timedelta(hours=1), _prune_inbox),
    NamedJob("listening_model", listening.CHECK_EVERY, _listening_model),
)

# Jobs in a persistent store are saved as an importable function and picklable arguments,
# so the stored job names the org and the job, and finds this process's scheduler here.
_ACTIVE: dict[str, list[Scheduler]] = {}


async def run_stored_job(org_name: str, name: str) -> None:
    """What the job store calls: run `name` on the newest scheduler of `org_name` here."""
    schedulers = _ACTIVE.get(org_name)
    if not schedulers:
        log.warning("job %s fired for %s, which this process no longer serves", name, org_name)
        return
    try:
        await schedulers[-1].run(name)
    except Exception:  # logged and kept for /healthz by Scheduler.run; the next run retries
        return


class Scheduler:
    def __init__(self, runtime: Runtime, *, jobs: tuple[NamedJob, ...] = JOBS) -> None:
        self.runtime = runtime
        self.jobs = {job.name: job for job in jobs}
        self.last_run: dict[str, datetime] = {}
        self.last_error: dict[str, str] = {}
        self._scheduler: Any = None
        self._catch_up: asyncio.Task[None] | None = None
        self._org = runtime.config.org.name

    async def run(self, name: str) -> object:
        """Run one named job now (also what the scheduler calls); errors are logged and kept
        for /healthz, and the next run tries again."""
        job = self.jobs[name]
        try:
            result = await job.run(self.runtime)
        except Exception as exc:
            log.exception("scheduled job %s failed", name)
            self.last_error[name] = repr(exc)
            raise
        self.last_run[name] = self.runtime.clock.now()
        self.last_error.pop(name, None)
        return result

    def start(self) -> None:
        store = SQLAlchemyJobStore(
            engine=make_engine(self.runtime.settings.database_url), tablename=TABLE
        )
        _create_table(store)
        # APScheduler logs two lines per job run, every minute; the jobs log what they queue.
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
        scheduler = AsyncIOScheduler(
            timezone=UTC,
            jobstores={"default": store},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        scheduler.start()
        _ACTIVE.setdefault(self._org, []).append(self)
        for job in self.jobs.values():
            scheduler.add_job(
                run_stored_job,
                IntervalTrigger(seconds=job.every.total_seconds(), timezone=UTC),
                args=(self._org, job.name),
                id=f"{self._org}:{job.name}",
                name=job.name,
                replace_existing=True,
            )
        self._scheduler = scheduler
        self._catch_up = asyncio.get_running_loop().create_task(self._run_all())
        log.info("scheduler started: %s", ", ".join(self.jobs))

    async def _run_all(self) -> None:
        """Every job once at start, in this process: a restarted server catches up on what
        fell due while it was down. (Through the shared job store, whichever replica's
        scheduler woke first would take the stored run, and this one might wait a full
        interval.)"""
        for name in self.jobs:
            with contextlib.suppress(Exception):  # logged and kept for /healthz by run()
                await self.run(name)

    def stop(self) -> None:
        if self._catch_up is not None:
            self._catch_up.cancel()
            self._catch_up = None
        if self in _ACTIVE.get(self._org, []):
            _ACTIVE[self._org].remove(self)
            if not _ACTIVE[self._org]:
                del _ACTIVE[self._org]
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None

    def status(self) -> dict[str, Any]:
        return {
            "running": self._scheduler is not None,
            "last_run": {k: v.isoformat() for k, v in self.last_run.items()},
            "errors": dict(self.last_error),
        }


def _create_table(store: SQLAlchemyJobStore) -> None:
    """Create the job table before APScheduler does: two replicas starting together would
    both see it missing and one CREATE would fail; the loser finds it there and goes on."""
    try:
        store.jobs_t.create(store.engine, checkfirst=True)
    except SQLAlchemyError:
        if not inspect(store.engine).has_table(TABLE):
            raise
