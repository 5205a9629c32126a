"""Engines, sessions and migrations for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).parent / "migrations"
T = TypeVar("T")


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here (the driver we install)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


class Database:
    """The engine, and the threads every query runs on, so that no query holds the event
    loop (where Slack's acks and Teams' turns are answered).

    `run(fn)` calls `fn(session)` in one transaction on a worker thread: committed when it
    returns, rolled back when it raises. SQLite gets one writer thread (it takes one writer
    at a time anyway, and a queue in our process is cheaper than its busy-wait lock) and
    two reader threads for reports; PostgreSQL a pool as large as the connection pool.
    Measured in bench/load.py against an async engine's cost per statement (see
    bench/README.md)."""

    def __init__(self, engine: Engine, *, threads: int | None = None) -> None:
        self.engine = engine
        sqlite = engine.dialect.name == "sqlite"
        size = threads or (1 if sqlite else 8)
        self._writes = ThreadPoolExecutor(max_workers=size, thread_name_prefix="crosstalk-db")
        self._reads = (
            ThreadPoolExecutor(max_workers=2, thread_name_prefix="crosstalk-db-read")
            if sqlite
            else self._writes
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def run(self, fn: Callable[[Session], T], *, read_only: bool = False) -> T:
        pool = self._reads if read_only else self._writes
        return await asyncio.get_running_loop().run_in_executor(pool, self.transaction, fn)

    def transaction(self, fn: Callable[[Session], T]) -> T:
        """The same transaction on the calling thread (the CLI, which has no loop to keep)."""
        with session_scope(self.engine) as session:
            return fn(session)

    def close(self) -> None:
        self._writes.shutdown(wait=True)
        self._reads.shutdown(wait=True)
        self.engine.dispose()


def _alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(_alembic_config(engine), revision)


def head_revision() -> str | None:
    script = ScriptDirectory.from_config(_alembic_config_noengine())
    return script.get_current_head()


def _alembic_config_noengine() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()
