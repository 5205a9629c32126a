"""Shared fixtures: every store-touching test runs on SQLite, and on PostgreSQL too when
CROSSTALK_TEST_POSTGRES_URL is set (CI sets it; an unreachable server fails loudly); and no
test's requests are dated on the wall clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.demo.standins.serving import request_clock, start_clock
from store.db import make_engine

PG_ENV = "CROSSTALK_TEST_POSTGRES_URL"


def _pg_database(base_url: str) -> Iterator[str]:
    """A fresh database per test on the given server, dropped afterwards."""
    admin = make_engine(base_url)
    name = f"ct_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        pytest.fail(f"{PG_ENV} is set but PostgreSQL is unreachable: {exc}", pytrace=False)
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(autouse=True)
def requests_on_the_test_calendar() -> Iterator[None]:
    """Requests built outside a running Server (which dates them on its own clock) are
    dated at serving.START, whatever day the suite runs on."""
    token = request_clock.set(start_clock())
    yield
    request_clock.reset(token)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/crosstalk.db"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}")
    yield from _pg_database(base)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("db_url") == "postgres":
            item.add_marker(pytest.mark.postgres)


def pytest_sessionstart(session: pytest.Session) -> None:
    base = os.environ.get(PG_ENV)
    if not base:
        return
    engine = make_engine(base)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        pytest.exit(f"{PG_ENV}={base} is set but PostgreSQL is unreachable: {exc}", returncode=3)
    finally:
        engine.dispose()
