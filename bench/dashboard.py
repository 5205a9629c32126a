"""How long each dashboard page takes at 100k flags, over real HTTP.

    .venv/bin/python -m bench.dashboard [--flags 100000] [--interpretations 300000]
                                        [--runs 7] [--postgres URL] [--fresh]

Fills a store the way bench/roi.py does (100k flags over a year, 1-2 broadcasts each, 300k
interpretations, outcomes, ratings, topics, 20 teams; bulk-inserted), gives the flags
searchable words, then serves the real app on 127.0.0.1, signs in by a one-time link and
times every page (p50 and p99 of `--runs` requests each, after one warm-up request), one line
per page. The aim of issue 10: every page under 300 ms. The last line is one JSON object.

Without `--postgres` a SQLite file in a temporary directory is used. With it, the database
`dashboard_bench` on that server is created (or reused, filled only if empty; `--fresh`
drops it first).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.roi import NOW, TEAMS, fill, generate, org_toml
from bot.app import create_app
from bot.core.clock import FakeClock
from bot.core.refs import Platform, UserRef
from bot.handlers.roi.report import roi_report
from bot.runtime import build_runtime
from bot.web.links import new_link
from config.load import parse_config
from config.settings import Settings
from store.db import make_engine

AIM = 0.3
MANAGERS = '\n[roi]\nmanagers = ["U00M0"]\n\n[api]\ntokens = ["bench"]\n'
PUBLIC = "http://bench.test"
WORDS = (
    "invoice", "refund", "charged", "export", "broken", "crash", "slow", "login", "password",
    "billing", "contract", "renewal", "cancel", "pricing", "feature", "dashboard", "api",
)  # fmt: skip
PAGES = (
    "/dashboard",
    "/dashboard?period=90d",
    "/dashboard?period=30d&team=team01",
    "/dashboard/teams",
    "/dashboard/teams?period=90d",
    "/dashboard/silos",
    "/dashboard/silos?period=90d",
    "/dashboard/flags",
    "/dashboard/flags?period=90d&page=20",
    "/dashboard/flags?period=90d&team=team03&status=open&sentiment=negative",
    "/dashboard/flags?period=365d&q=refund",
    "/dashboard/flags/99000",
    "/dashboard/export/roi.csv",
    "/dashboard/export/flags.csv?period=7d",
    "/api/roi?period=30d",
)


def with_words(tables: dict[str, tuple[Sequence[str], list[tuple[Any, ...]]]]) -> None:
    """Excerpts of a few words each, so text search has something to look through."""
    rnd = random.Random(7)
    columns, rows = tables["flags"]
    at = list(columns).index("excerpt")
    for i, row in enumerate(rows):
        words = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(6, 18)))
        rows[i] = (*row[:at], f"Customer says: {words}.", *row[at + 1 :])


def postgres_url(server: str, fresh: bool) -> str:
    admin = make_engine(server)
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if fresh:
                conn.execute(text('DROP DATABASE IF EXISTS "dashboard_bench" WITH (FORCE)'))
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = 'dashboard_bench'")
            ).first()
            if found is None:
                conn.execute(text('CREATE DATABASE "dashboard_bench"'))
    finally:
        admin.dispose()
    return make_url(server).set(database="dashboard_bench").render_as_string(hide_password=False)


async def time_pages(url: str, runs: int) -> dict[str, dict[str, float]]:
    settings = Settings.model_validate(
        {"CROSSTALK_DATABASE_URL": url, "CROSSTALK_PUBLIC_URL": PUBLIC}
    )
    config = parse_config(org_toml(TEAMS) + MANAGERS)
    clock = FakeClock(NOW)
    runtime = build_runtime(settings, config, engine=make_engine(url), clock=clock)
    app = create_app(runtime, run_worker=False)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    user = UserRef(Platform.SLACK, "U00M0")
    link = await runtime.db.run(
        lambda s: new_link(s, org_id=runtime.org.org_id, user=user, clock=clock, public_url=PUBLIC)
    )
    out: dict[str, dict[str, float]] = {}
    try:
        async with aiohttp.ClientSession() as http:
            token = link.split("token=", 1)[1]
            async with http.post(
                base + "/dashboard/login",
                data={"token": token},
                headers={"Origin": base},
                allow_redirects=False,
            ) as resp:
                assert resp.status == 303, await resp.text()
                cookie = resp.cookies["crosstalk_session"].value
            headers = {"Cookie": f"crosstalk_session={cookie}", "Authorization": "Bearer bench"}
            baseline = []
            for n in range(runs + 1):
                began = time.perf_counter()
                await runtime.db.run(
                    lambda s: roi_report(engine=runtime.engine, org=runtime.org, clock=clock),
                    read_only=True,
                )
                if n:
                    baseline.append(time.perf_counter() - began)
            p50 = statistics.median(baseline)
            out["baseline: the /roi report alone"] = {"p50_ms": round(p50 * 1000, 1)}
            print(f"{'baseline: the /roi report alone (no HTTP)':72s} p50 {p50 * 1000:7.1f} ms")
            for path in PAGES:
                times = []
                for n in range(runs + 1):
                    began = time.perf_counter()
                    async with http.get(base + path, headers=headers) as resp:
                        body = await resp.read()
                        assert resp.status == 200, (path, resp.status, body[:300])
                    if n:  # the first request warms the caches of the store
                        times.append(time.perf_counter() - began)
                times.sort()
                p50 = statistics.median(times)
                p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
                out[path] = {"p50_ms": round(p50 * 1000, 1), "p99_ms": round(p99 * 1000, 1)}
                mark = "ok" if p99 < AIM else "SLOW"
                print(
                    f"{path:72s} p50 {p50 * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms  "
                    f"{len(body) // 1024:5d} KiB  {mark}",
                    flush=True,
                )
    finally:
        await runner.cleanup()
        runtime.db.close()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.dashboard", description=__doc__.split("\n")[0])
    parser.add_argument("--flags", type=int, default=100_000)
    parser.add_argument("--interpretations", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgres", help="a PostgreSQL server URL (db dashboard_bench)")
    parser.add_argument("--fresh", action="store_true", help="drop dashboard_bench first")
    parser.add_argument("--sqlite", help="a SQLite file to fill (if empty) and reuse")
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="crosstalk-dashboard-bench-")
    url = f"sqlite:///{args.sqlite or tmp + '/d.db'}"
    if args.postgres:
        url = postgres_url(args.postgres, args.fresh)
    import bench.roi as roi

    def generate_with_words(*a: Any) -> Any:
        tables = generate(*a)
        with_words(tables)
        return tables

    roi.generate = generate_with_words  # type: ignore[assignment]
    engine = make_engine(url)
    fill(engine, org_toml(TEAMS), args.flags, args.interpretations)
    engine.dispose()
    store = "postgresql" if args.postgres else "sqlite"
    print(f"{store}: {args.flags} flags; {args.runs} timed requests per page", flush=True)
    pages = asyncio.run(time_pages(url, args.runs))
    worst = max(p.get("p99_ms", 0.0) for p in pages.values())
    print(json.dumps({"store": store, "flags": args.flags, "worst_p99_ms": worst, "pages": pages}))
    return 0 if worst < AIM * 1000 else 1


if __name__ == "__main__":
    sys.exit(main())
