"""How fast the real server answers POST /slack/events, next to a bare Bolt app.

    .venv/bin/python -m bench.slack_events [-n 2000] [-c 8 32] [--database-url URL]

For each concurrency level: a FakeSlack process seeded with the sample org and a few
thousand customer messages, the real Crosstalk server (tests.fakes.harness.Server, its
worker running as in production) on a fresh database, and a bare slack_bolt AsyncApp
whose listeners only acknowledge, each in its own process. The same stream of signed
events goes to both, after a warm-up; the aims are those of the issue "Core loop on
Slack": p99 within 1.5x of bare Bolt, throughput at least 0.7x. The time the worker then
takes to finish the backlog (flags, cards, interpretations) is reported on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench import procs
from bench.stream import Stream, Thread, customer_messages, resign
from bot.demo.standins.slack_requests import SignedRequest
from store.db import make_engine

P99_AIM = 1.5
THROUGHPUT_AIM = 0.7


@dataclass
class Run:
    target: str
    concurrency: int
    latencies: list[float]
    seconds: float
    errors: int
    cpu: float
    gc_pause: float

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds


# ---------------------------------------------------------------------------- processes


class Child:
    """A spawned process from bench.procs and the pipe it answers on."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child_conn = ctx.Pipe()
        self.process = ctx.Process(target=target, args=(child_conn, *args), daemon=True)
        self.process.start()
        deadline = time.monotonic() + 60
        while not self.conn.poll(0.2):
            if not self.process.is_alive() or time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError(f"{target.__name__} did not start ({self.process.exitcode})")
        self.hello = self.conn.recv()

    def call(self, command: str, arg: Any = None) -> Any:
        self.conn.send((command, arg))
        return self.conn.recv()

    def stop(self) -> None:
        if self.process.is_alive():
            with suppress(EOFError, OSError):
                self.call("stop")
        self.process.join(15)
        if self.process.is_alive():
            self.process.kill()


@contextmanager
def children(*specs: tuple[Callable[..., None], tuple[Any, ...]]) -> Iterator[list[Child]]:
    started: list[Child] = []
    try:
        for target, args in specs:
            started.append(Child(target, *args))
        yield started
    finally:
        for child in reversed(started):
            child.stop()


@contextmanager
def database(url: str | None, tmp: str) -> Iterator[str]:
    """A SQLite file in `tmp`, or a fresh database on the PostgreSQL server at `url`."""
    if url is None:
        yield f"sqlite:///{tmp}/crosstalk-{uuid.uuid4().hex[:8]}.db"
        return
    admin = make_engine(url)
    name = f"ct_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# ---------------------------------------------------------------------------- load


async def blast(
    session: aiohttp.ClientSession, url: str, requests: list[SignedRequest], concurrency: int
) -> tuple[list[float], float, int]:
    """Send `requests` with `concurrency` in flight; latencies (s), elapsed (s), errors."""
    latencies: list[float] = []
    errors = 0
    queue = iter(requests)

    async def sender() -> None:
        nonlocal errors
        for req in queue:
            start = time.perf_counter()
            async with session.post(url, data=req.body, headers=req.headers) as resp:
                await resp.read()
                if resp.status != 200:
                    errors += 1
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return latencies, time.perf_counter() - start, errors


async def measure(
    target: str,
    server: Child,
    concurrency: int,
    warmup: list[SignedRequest],
    stream: Callable[[], list[SignedRequest]],
    after_warmup: Callable[[], None] = lambda: None,
) -> Run:
    url = f"{server.hello}/slack/events"
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await blast(session, url, warmup, concurrency)
        await asyncio.to_thread(after_warmup)
        requests = await asyncio.to_thread(stream)
        cpu, _ = await asyncio.to_thread(server.call, "usage")
        latencies, seconds, errors = await blast(session, url, requests, concurrency)
        cpu_after, gc_pause = await asyncio.to_thread(server.call, "usage")
    return Run(target, concurrency, latencies, seconds, errors, cpu_after - cpu, gc_pause)


def run_level(args: argparse.Namespace, concurrency: int, round_: int, tmp: str) -> dict[str, Any]:
    seed = args.seed * 1000 + concurrency * 10 + round_
    customers = customer_messages(args.requests + args.warmup, seed=seed)
    stream = Stream(customers, seed=seed)
    warmup = stream.mix(args.warmup, [])
    measured: list[SignedRequest] = []
    report: dict[str, Any] = {}

    with (
        database(args.database_url, tmp) as db_url,
        children((procs.serve_slack, (customers,))) as (slack,),
        children(
            (procs.serve_crosstalk, (db_url, slack.hello, args.worker)), (procs.serve_bare, ())
        ) as (crosstalk, bare),
    ):
        threads: list[Thread] = []

        def settle_warmup() -> None:
            report["warmup_drain"] = crosstalk.call("drain", args.drain_timeout)
            threads.extend(crosstalk.call("threads"))
            report["before"] = crosstalk.call("counts")
            report["slack_calls_before"] = slack.call("calls")

        def build() -> list[SignedRequest]:
            measured.extend(stream.mix(args.requests, threads))
            return measured

        ours = asyncio.run(
            measure("crosstalk", crosstalk, concurrency, warmup, build, settle_warmup)
        )
        report["end_of_stream"] = crosstalk.call("counts")
        report["drain"] = crosstalk.call("drain", args.drain_timeout)
        report["after"] = crosstalk.call("counts")
        report["threads"] = len(threads)
        report["slack_calls"] = slack.call("calls")
        theirs = asyncio.run(
            measure("bare bolt", bare, concurrency, resign(warmup), lambda: resign(measured))
        )
    report["runs"] = (ours, theirs)
    return report


# ---------------------------------------------------------------------------- report


def describe(run: Run) -> str:
    return (
        f"{run.target:<10} {run.requests:>6} {run.concurrency:>5} "
        f"{run.quantile(0.5) * 1000:>8.2f} {run.quantile(0.99) * 1000:>8.2f} "
        f"{run.throughput:>8.0f} {run.cpu / run.requests * 1000:>8.2f} "
        f"{run.gc_pause * 1000:>8.1f} {run.errors:>6}"
    )


def ratio(ours: Run, theirs: Run) -> tuple[float, float]:
    """(p99 crosstalk/bare, throughput crosstalk/bare)"""
    return ours.quantile(0.99) / theirs.quantile(0.99), ours.throughput / theirs.throughput


def verdict(ours: Run, theirs: Run) -> str:
    return judge(*ratio(ours, theirs))


def judge(p99: float, rate: float) -> str:
    def ok(good: bool) -> str:
        return "ok" if good else "MISSED"

    return (
        f"p99 crosstalk/bare {p99:.2f}x (aim <= {P99_AIM}x: {ok(p99 <= P99_AIM)}); "
        f"throughput crosstalk/bare {rate:.2f}x (aim >= {THROUGHPUT_AIM}x: "
        f"{ok(rate >= THROUGHPUT_AIM)})"
    )


def backlog(report: dict[str, Any]) -> str:
    before, after, drain = report["before"], report["after"], report["drain"]
    made = {k: after[k] - before[k] for k in after}
    during = {k: report["end_of_stream"][k] - before[k] for k in after}
    left = f", {drain['pending']} rows still pending" if drain["pending"] else ""
    return (
        f"during the stream the worker handled {during['inbox_done']} of {during['inbox']} "
        f"stored events and {during['outbox_done']} outbox rows; "
        f"backlog drained {drain['seconds']:.2f}s after the last ack{left}: "
        f"{made['inbox']} events stored, {made['flags']} flags, {made['cards_posted']} cards "
        f"posted, {made['interpretations']} interpretations, {made['outbox_done']} outbox rows "
        f"done, {report['slack_calls'] - report['slack_calls_before']} Slack API calls "
        f"({after['outbox_retried']} retried, {after['inbox_not_done']} events not done; "
        f"{report['threads']} broadcast threads from the warm-up)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--requests", type=int, default=2000)
    parser.add_argument("-c", "--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--database-url", help="PostgreSQL server (default: a SQLite file)")
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--rounds", type=int, default=1, help="repeat each level on fresh servers (noisy hosts)"
    )
    parser.add_argument(
        "--no-worker",
        dest="worker",
        action="store_false",
        help="leave the stored events unhandled, to time the request path alone",
    )
    args = parser.parse_args(argv)

    db = make_url(args.database_url).drivername if args.database_url else "sqlite"
    print(
        f"POST /slack/events on {db}: {args.requests} requests after {args.warmup} warm-up; "
        "mix 50% top-level messages, 20% thread replies, 20% :mega: reactions, "
        "10% replies in broadcast threads"
    )
    print(
        f"{'target':<10} {'reqs':>6} {'conc':>5} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'req/s':>8} {'cpu ms':>8} {'gc ms':>8} {'errors':>6}"
    )
    with tempfile.TemporaryDirectory(prefix="crosstalk-bench-") as tmp:
        for concurrency in args.concurrency:
            ratios: list[tuple[float, float]] = []
            for round_ in range(args.rounds):
                report = run_level(args, concurrency, round_, tmp)
                ours, theirs = report["runs"]
                print(describe(ours))
                print(describe(theirs))
                print(f"  {verdict(ours, theirs)}")
                print(f"  {backlog(report)}")
                ratios.append(ratio(ours, theirs))
                sys.stdout.flush()
            if args.rounds > 1:
                p99 = statistics.median(r[0] for r in ratios)
                rate = statistics.median(r[1] for r in ratios)
                print(
                    f"  median of {args.rounds} rounds at {concurrency} in flight: "
                    f"{judge(p99, rate)}"
                )
    print(
        "latency at the client; cpu ms = the server process's CPU per request during the "
        "stream (Crosstalk's includes its worker); gc ms = its longest garbage-collector pause"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
