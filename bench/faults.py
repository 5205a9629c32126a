"""Fault run: acknowledged flags through a flaky Slack, a kill -9 and an outage.

    .venv/bin/python -m bench.faults [--flags 500] [--outage 180] [--postgres URL | --sqlite]

Two `crosstalk serve --no-scheduler` replicas on one database (a scratch PostgreSQL
database, or one SQLite file) and one Slack Web API stand-in (FakeSlack on a thread of
this process) that fails about 30 % of chat.postMessage / conversations.history /
conversations.info calls (429 with Retry-After 1, 500, and 500 after the call took
effect). Signed `reaction_added` flags on distinct customer messages alternate between
the replicas: a steady stream during which one replica is killed (-9) and restarted on
its port; then an outage in which every chat.postMessage, conversations.history and
auth.test fails, with flags still arriving (a trickle and a burst); then the faults are
cleared and the run waits (bounded) until every acknowledged flag has its cards and
notice and nothing is pending. Counted from the database and the stand-in's own messages:
flags lost (acknowledged, but no flag row or a card missing) and doubled (a broadcast
with more than one card, a flag with more than one notice). The last line is one JSON
object; the aim is lost 0, doubled 0.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import json
import random
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from bench.load import (
    CARD_CHANNELS,
    PERMALINK,
    ROOT,
    TOKEN,
    LoadSlack,
    Planned,
    Serve,
    SlackThread,
    Step,
    _plan,
    build_step,
    database,
    fire,
    quantile,
    seed_of,
    warm_up,
)
from bot.demo.standins.slack.web_model import Fault

T = TypeVar("T")

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
FLAKY = frozenset({"chat.postMessage", "conversations.history", "conversations.info"})
OUTAGE = frozenset({"chat.postMessage", "conversations.history", "auth.test"})
# the 30 % mix, equally likely: (status, after_effect)
MIX = ((429, False), (500, False), (500, True))
WARMUP_FLAGS = 6


# ---------------------------------------------------------------------------- stand-in


class FaultSlack(LoadSlack):
    """LoadSlack that fails a share of the flaky methods at random (seeded), and every
    call of the outage methods while `outage` is set. Faults queued with `fail_next`
    come first. Only this bench's thread-of-the-stand-in reads the RNG."""

    def __init__(self) -> None:
        super().__init__()
        # New ts on the wall clock (the default clock is frozen, so every post would get
        # the newest seeded ts plus 1 us, minutes in the past: a retry's marker search,
        # which looks from its row's creation on, would then miss a lost post).
        self.set_now(time.time)
        self.fault_rate = 0.0
        self.outage = False
        self.rng = random.Random(0)
        self.injected: Counter[str] = Counter()

    def clear_faults(self) -> None:
        super().clear_faults()
        self.fault_rate = 0.0
        self.outage = False

    def _take_fault(self, method: str) -> Fault | None:
        queued = super()._take_fault(method)
        if queued is not None:
            return queued
        if self.outage and method in OUTAGE:
            self.injected[f"{method} 500 (outage)"] += 1
            return Fault(500, None, 1, 1, False)
        if method in FLAKY and self.fault_rate > 0 and self.rng.random() < self.fault_rate:
            status, after = self.rng.choice(MIX)
            self.injected[f"{method} {status}{' after effect' if after else ''}"] += 1
            return Fault(status, None, 1, 1, after)
        return None


class FaultThread(SlackThread):
    """The stand-in on its thread (bench.load.SlackThread), as a FaultSlack, with a way to
    read its state on its own loop."""

    def __init__(self, seed: dict[str, list[tuple[str, str, str]]], rng_seed: int) -> None:
        super().__init__(seed)
        self.slack = FaultSlack()
        self.slack.rng = random.Random(rng_seed)

    def on_loop(self, fn: Callable[[], T], timeout: float = 30.0) -> T:
        assert self._loop is not None
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                done.set_result(fn())
            except BaseException as exc:  # handed to the caller
                done.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return done.result(timeout)

    def bot_messages(self) -> list[tuple[str, dict[str, Any]]]:
        """Every message the bot posted, as it is now: (channel, JSON copy)."""
        slack = self.slack

        def read() -> list[tuple[str, dict[str, Any]]]:
            return [
                (channel, json.loads(json.dumps(m)))
                for channel, messages in slack._messages.items()
                for m in messages.values()
                if m.get("bot_id") == slack.bot_id
            ]

        return self.on_loop(read)


# ---------------------------------------------------------------------------- plan


@dataclass
class Segment:
    name: str
    lo: int  # target indices [lo, hi)
    hi: int
    rate: float  # flags/s
    started: float = 0.0
    ended: float = 0.0
    event_ids: dict[int, str] = field(default_factory=dict)  # target index -> event_id
    redelivered: int = 0


async def send_segment(
    session: aiohttp.ClientSession,
    urls: list[str],
    step: Step,
    seg: Segment,
    request_timeout: float,
    redeliver: bool,
) -> None:
    """Sign the segment's flags now (so their timestamps follow the schedule) and fire
    them on it, alternately to each replica; returns once every request has ended."""
    live, urls = urls, list(urls)  # as they are now (a restarted one may get a new port)
    seg.started = time.time()
    plan = _plan(step.targets[: seg.hi], seg.lo, seg.rate, 0, step.roots, int(time.time()))
    seg.event_ids = {p.flag: json.loads(p.body)["event_id"] for p in plan if p.flag is not None}
    await asyncio.gather(
        *(
            fire(
                session,
                f"{url}/slack/events",
                plan[i :: len(urls)],
                step,
                measured=True,
                request_timeout=request_timeout,
            )
            for i, url in enumerate(urls)
        )
    )
    if redeliver:
        # As Slack does with an event that got no 200: delivered again (the same signed
        # body, X-Slack-Retry-Num 1), here once and to the other replica.
        for i, url in enumerate(live):
            again = [
                Planned(
                    0.01 * k,
                    p.body,
                    {**p.headers, "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"},
                    p.flag,
                )
                for k, p in enumerate(
                    q for q in plan[(i + 1) % len(live) :: len(live)] if q.flag not in step.acks
                )
            ]
            seg.redelivered += len(again)
            if again:
                await fire(
                    session,
                    f"{url}/slack/events",
                    again,
                    step,
                    measured=True,
                    request_timeout=request_timeout,
                )
    seg.ended = time.time()


# ---------------------------------------------------------------------------- observe


class Observer:
    """What the database and the stand-in hold about the measured flags."""

    def __init__(self, db_url: str, thread: FaultThread, step: Step, first: int) -> None:
        url = make_url(db_url)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        self.engine: Engine = create_engine(url)
        self.thread = thread
        self.step = step
        self.first = first
        self.by_key = {(t.channel, t.ts): i for i, t in enumerate(step.targets)}

    def close(self) -> None:
        self.engine.dispose()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params))

    def flag_rows(self) -> dict[int, int]:
        """target index -> flag id"""
        out: dict[int, int] = {}
        for fid, channel, ts in self.rows("SELECT id, channel_id, message_id FROM flags"):
            idx = self.by_key.get((channel, ts))
            if idx is not None and idx >= self.first:
                out[idx] = fid
        return out

    def pending(self) -> tuple[int, int]:
        (outbox,) = self.rows("SELECT count(*) FROM outbox WHERE status = 'pending'")[0]
        (inbox,) = self.rows("SELECT count(*) FROM processed_events WHERE status = 'pending'")[0]
        return int(outbox), int(inbox)

    def messages(
        self, flag_ids: dict[int, int]
    ) -> tuple[Counter[tuple[int, str]], Counter[int], dict[tuple[int, str], list[str]], int]:
        """Cards per (flag, channel), notices per flag, the cards' markers, unmatched cards."""
        by_id = {fid: idx for idx, fid in flag_ids.items()}
        cards: Counter[tuple[int, str]] = Counter()
        notices: Counter[int] = Counter()
        markers: dict[tuple[int, str], list[str]] = {}
        unmatched = 0
        for channel, m in self.thread.bot_messages():
            blob = json.dumps(m)
            top = m.get("thread_ts") in (None, m["ts"])
            if channel in CARD_CHANNELS and top:
                idx = self._card_flag(blob)
                if idx is None:
                    unmatched += 1
                elif idx >= self.first:
                    cards[(idx, channel)] += 1
                    marker = (m.get("metadata") or {}).get("event_payload", {}).get("marker")
                    markers.setdefault((idx, channel), []).append(str(marker))
            elif "Flagged to" in blob and "ct_rate_" in blob:
                idx = self.by_key.get((channel, str(m.get("thread_ts"))))
                if idx is None:  # a DM: the rating buttons carry the flag id
                    for block in m.get("blocks") or []:
                        for el in block.get("elements") or []:
                            if str(el.get("action_id", "")).startswith("ct_rate_"):
                                with contextlib.suppress(ValueError):
                                    idx = by_id.get(int(el.get("value")))
                if idx is not None and idx >= self.first:
                    notices[idx] += 1
        return cards, notices, markers, unmatched

    def _card_flag(self, blob: str) -> int | None:
        for m in TOKEN.finditer(blob):
            if int(m.group(1)) == self.step.rate:
                return int(m.group(2))
        m = PERMALINK.search(blob)
        if m:
            return self.by_key.get((m.group(1), f"{m.group(2)}.{m.group(3)}"))
        return None

    def wanted(self, flag_ids: dict[int, int]) -> dict[int, set[str]]:
        """Per flag, the channels it must have a card in: its routes (bench.load's list)
        and its broadcasts in the database."""
        out = {i: set(self.step.targets[i].expected) for i in flag_ids}
        idx_of = {fid: idx for idx, fid in flag_ids.items()}
        for fid, channel in self.rows("SELECT flag_id, channel_id FROM broadcasts"):
            if fid in idx_of:
                out[idx_of[fid]].add(channel)
        return out

    def settled(self, acked: set[int]) -> tuple[bool, str]:
        flag_ids = self.flag_rows()
        cards, notices, _, _ = self.messages(flag_ids)
        routes = {i: self.step.targets[i].expected for i in acked}
        no_flag = sum(1 for i in acked if i not in flag_ids)
        short = sum(1 for i in acked if any(cards[(i, c)] == 0 for c in routes[i]))
        no_notice = sum(1 for i in acked if i in flag_ids and notices[i] == 0)
        outbox, inbox = self.pending()
        done = no_flag == 0 and short == 0 and no_notice == 0 and outbox == 0 and inbox == 0
        return done, (
            f"{no_flag} acked flags without a row, {short} missing a card, {no_notice} without "
            f"a notice; pending outbox {outbox}, inbox {inbox}"
        )


# ---------------------------------------------------------------------------- run


def _signals_as_interrupt() -> None:
    def handler(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)
    # stoppable with SIGINT even when started in the background (where it is ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _kill9(server: Serve) -> None:
    assert server.proc is not None
    server.proc.kill()
    server.proc.wait(10)
    server.__exit__()  # closes its log


async def run(args: argparse.Namespace, tmp: Path, stack: contextlib.ExitStack) -> dict[str, Any]:
    rate = args.rate
    n = args.flags
    step = build_step(rate, (n + 0.5) / rate, 0, WARMUP_FLAGS)
    first = WARMUP_FLAGS
    assert len(step.targets) == first + n
    burst_n = n // 5
    trickle_n = n // 5
    steady_n = n - burst_n - trickle_n
    segs = [
        Segment("steady (kill -9)", first, first + steady_n, float(rate)),
        Segment(
            "outage trickle",
            first + steady_n,
            first + steady_n + trickle_n,
            max(trickle_n, 1) / args.outage,
        ),
        Segment("outage burst", first + steady_n + trickle_n, first + n, float(args.burst_rate)),
    ]
    store = "sqlite" if args.sqlite else "postgresql"
    db_url = stack.enter_context(database(None if args.sqlite else args.postgres, tmp, 0))
    thread = FaultThread(seed_of(step), args.seed)
    slack = stack.enter_context(thread)
    assert isinstance(slack, FaultSlack)
    servers: list[Serve] = []

    def stop_servers() -> None:
        for s in servers:
            with contextlib.suppress(Exception):
                s.__exit__()

    stack.callback(stop_servers)
    a = Serve(db_url, slack, tmp, False, ROOT)
    a.upgrade()
    servers.append(a)
    a.__enter__()
    b = Serve(db_url, slack, tmp, False, ROOT)
    servers.append(b)
    b.__enter__()
    urls = [a.url, b.url]
    print(f"store {store}; replicas {a.url} (A) and {b.url} (B); stand-in {slack.base_url}")
    observer = Observer(db_url, thread, step, first)
    stack.callback(observer.close)
    t0 = time.time()
    timeline: dict[str, float] = {}
    kill: dict[str, Any] = {}

    connector = aiohttp.TCPConnector(limit=256, limit_per_host=256)
    async with aiohttp.ClientSession(connector=connector) as session:
        warm = await warm_up(session, a, slack, step, 60)
        step.acks.clear()
        step.errors, step.error_kinds = 0, {}
        step.ack_latency.clear()
        print(
            f"warm-up {warm:.1f}s; faults on: {args.fault_rate:.0%} of {', '.join(sorted(FLAKY))}"
        )
        slack.fault_rate = args.fault_rate
        timeline["faults_on"] = time.time() - t0

        # (1) + (2): the steady stream; midway, B is killed and comes back on its port
        steady = segs[0]
        sending = asyncio.create_task(
            send_segment(session, urls, step, steady, args.timeout, args.redeliver)
        )
        await asyncio.sleep((steady.hi - steady.lo) / steady.rate / 2)
        await asyncio.to_thread(_kill9, b)
        kill["killed_at"] = round(time.time() - t0, 2)
        print(f"t={kill['killed_at']:.1f}s kill -9 replica B (pid {b.pid})")
        await asyncio.sleep(args.down)
        b2 = Serve(db_url, slack, tmp, False, ROOT)
        b2.port, b2.url = b.port, b.url
        b2.log_path = tmp / f"serve-{b.port}-restarted.log"
        servers.append(b2)
        try:
            await asyncio.to_thread(b2.__enter__)
        except RuntimeError as exc:  # the port could not be had again: a new one
            print(f"  restart on port {b.port} failed ({str(exc)[-200:]}); on a new port")
            servers.remove(b2)
            b2 = Serve(db_url, slack, tmp, False, ROOT)
            servers.append(b2)
            await asyncio.to_thread(b2.__enter__)
            urls[1] = b2.url
        kill["restarted_at"] = round(time.time() - t0, 2)
        kill["port_kept"] = b2.port == b.port
        print(f"t={kill['restarted_at']:.1f}s replica B restarted (pid {b2.pid}) on {b2.url}")
        await sending

        # (3): the outage, flags still arriving: a trickle across it and a burst midway
        slack.outage = True
        out_start = time.time()
        timeline["outage_start"] = out_start - t0
        print(
            f"t={timeline['outage_start']:.1f}s outage: every {', '.join(sorted(OUTAGE))} "
            f"fails (500) for {args.outage:.0f}s"
        )
        trickle = asyncio.create_task(
            send_segment(session, urls, step, segs[1], args.timeout, args.redeliver)
        )
        await asyncio.sleep(args.outage / 2)
        print(f"t={time.time() - t0:.1f}s burst: {burst_n} flags at {args.burst_rate}/s")
        await send_segment(session, urls, step, segs[2], args.timeout, args.redeliver)
        await asyncio.sleep(max(0.0, out_start + args.outage - time.time()))
        await trickle

        # (4): faults cleared; wait (bounded) for every acked flag's cards and notice
        slack.clear_faults()
        clear_at = time.time()
        timeline["outage_end"] = clear_at - t0
        acked = {i for i in step.acks if i >= first}
        print(f"t={timeline['outage_end']:.1f}s faults cleared; waiting up to {args.wait:.0f}s")
        deadline = clear_at + args.wait
        last_note = clear_at
        settled, state = False, ""
        while True:
            for s in (a, b2):
                if s.proc is not None and s.proc.poll() is not None:
                    raise RuntimeError(f"a replica exited: {s.tail()}")
            settled, state = await asyncio.to_thread(observer.settled, acked)
            if settled or time.time() >= deadline:
                break
            if time.time() - last_note >= 30:
                print(f"  t={time.time() - t0:.0f}s {state}")
                last_note = time.time()
            await asyncio.sleep(2)
        waited = time.time() - clear_at
        print(
            f"t={time.time() - t0:.1f}s {'settled' if settled else 'deadline'} "
            f"after {waited:.1f}s: {state}"
        )

    return await asyncio.to_thread(
        report,
        observer,
        step,
        segs,
        acked,
        store=store,
        args=args,
        settled=settled,
        waited=waited,
        duration=time.time() - t0,
        kill=kill,
        timeline=timeline,
        slack=slack,
    )


def report(
    observer: Observer,
    step: Step,
    segs: list[Segment],
    acked: set[int],
    **seen: Any,
) -> dict[str, Any]:
    first = observer.first
    flag_ids = observer.flag_rows()
    cards, notices, markers, unmatched = observer.messages(flag_ids)
    wanted = observer.wanted(flag_ids)
    routes = {i: step.targets[i].expected for i in range(first, len(step.targets))}
    sent = len(step.targets) - first

    no_row = sorted(i for i in acked if i not in flag_ids)
    missing = sorted(
        i for i in acked if i in flag_ids and any(cards[(i, c)] == 0 for c in wanted[i])
    )
    lost = sorted(set(no_row) | set(missing))
    broadcasts = observer.rows("SELECT id, flag_id, channel_id FROM broadcasts")
    ours = {fid for fid in flag_ids.values()}
    idx_of = {fid: idx for idx, fid in flag_ids.items()}
    per_broadcast: Counter[int] = Counter()
    doubled: list[dict[str, Any]] = []
    measured_broadcasts = 0
    for bid, fid, channel in broadcasts:
        if fid not in ours:
            continue
        measured_broadcasts += 1
        k = cards[(idx_of[fid], channel)]
        per_broadcast[k] += 1
        if k > 1:
            doubled.append(
                {
                    "flag": idx_of[fid],
                    "case": f"LD{step.rate}x{idx_of[fid]}",
                    "broadcast_id": bid,
                    "channel": channel,
                    "cards": k,
                    "markers": markers.get((idx_of[fid], channel)),
                }
            )
    unexpected = sum(
        v for (i, c), v in cards.items() if i in flag_ids and c not in wanted.get(i, set())
    )
    notices_doubled = sorted(i for i, k in notices.items() if k > 1)
    notices_missing = sorted(i for i in acked if i in flag_ids and notices[i] == 0)
    dead_out = observer.rows(
        "SELECT dedupe_key, kind, attempts, last_error FROM outbox WHERE status = 'dead'"
    )
    dead_in = observer.rows(
        "SELECT dedupe_key, kind, attempts, last_error FROM processed_events WHERE status = 'dead'"
    )
    pending_out, pending_in = observer.pending()
    retried_out = observer.rows("SELECT count(*) FROM outbox WHERE last_error IS NOT NULL")[0][0]
    retried_in = observer.rows(
        "SELECT count(*) FROM processed_events WHERE last_error IS NOT NULL"
    )[0][0]
    ambiguous = observer.rows("SELECT count(*) FROM outbox WHERE ambiguous")[0][0]

    ids = {i: e for seg in segs for i, e in seg.event_ids.items()}
    lost_detail = [_explain(observer, i, ids.get(i), flag_ids.get(i), step) for i in lost]
    for i in notices_doubled:
        doubled.append({"flag": i, "case": f"LD{step.rate}x{i}", "notices": notices[i]})

    slack: FaultSlack = seen["slack"]
    calls = list(slack.calls)
    by_method = Counter(c.method for c in calls)
    phases = []
    for seg in segs:
        rng = range(seg.lo, seg.hi)
        got = sum(1 for i in rng if i in acked)
        stored = sum(1 for i in rng if i in flag_ids)
        phases.append(
            {
                "phase": seg.name,
                "seconds": round(seg.ended - seg.started, 1),
                "rate": round(seg.rate, 2),
                "sent": len(rng),
                "acked": got,
                "redelivered": seg.redelivered,
                "not_acked": len(rng) - got,
                "flags_in_db": stored,
            }
        )
    stored_unacked = sum(1 for i in flag_ids if i not in acked)
    result = {
        "bench": "faults",
        "store": seen["store"],
        "replicas": 2,
        "fault_rate": seen["args"].fault_rate,
        "outage_s": seen["args"].outage,
        "flags_sent": sent,
        "flags_acked": len(acked),
        "not_acked": sent - len(acked),
        "redelivered": sum(seg.redelivered for seg in segs),
        "error_kinds": step.error_kinds,
        "ack_p50_ms": _ms(quantile(step.ack_latency, 0.5)),
        "ack_p99_ms": _ms(quantile(step.ack_latency, 0.99)),
        "flags_in_db": len(flag_ids),
        "stored_not_acked": stored_unacked,
        "lost": len(lost),
        "lost_no_flag_row": len(no_row),
        "lost_missing_cards": len(missing),
        "broadcasts": measured_broadcasts,
        "cards_expected": sum(len(wanted[i]) for i in flag_ids),
        "cards_posted": sum(v for (i, _), v in cards.items() if i in flag_ids),
        "cards_per_broadcast": {str(k): v for k, v in sorted(per_broadcast.items())},
        "cards_doubled": sum(1 for d in doubled if "cards" in d),
        "cards_unexpected": unexpected,
        "cards_unmatched": unmatched,
        "route_mismatch": sum(1 for i in flag_ids if wanted[i] != set(routes[i])),
        "notices": sum(notices.values()),
        "notices_doubled": len(notices_doubled),
        "notices_missing": len(notices_missing),
        "doubled": len(doubled),
        "dead_outbox": len(dead_out),
        "dead_inbox": len(dead_in),
        "pending_outbox": pending_out,
        "pending_inbox": pending_in,
        "outbox_retried": int(retried_out),
        "outbox_ambiguous": int(ambiguous),
        "inbox_retried": int(retried_in),
        "faults_injected": dict(sorted(slack.injected.items())),
        "slack_calls": dict(sorted(by_method.items())),
        "kill": seen["kill"],
        "timeline_s": {k: round(v, 1) for k, v in seen["timeline"].items()},
        "settled": seen["settled"],
        "wait_s": round(seen["waited"], 1),
        "wait_limit_s": seen["args"].wait,
        "duration_s": round(seen["duration"], 1),
        "phases": phases,
        "lost_detail": lost_detail,
        "doubled_detail": doubled,
        "notices_missing_detail": [f"LD{step.rate}x{i}" for i in notices_missing[:20]],
        "dead_outbox_rows": [_row(r) for r in dead_out[:20]],
        "dead_inbox_rows": [_row(r) for r in dead_in[:20]],
    }
    result["aim_met"] = result["lost"] == 0 and result["doubled"] == 0
    return result


def _row(r: Any) -> dict[str, Any]:
    key, kind, attempts, error = r
    return {"dedupe_key": key, "kind": kind, "attempts": attempts, "last_error": error}


def _explain(
    observer: Observer, idx: int, event_id: str | None, flag_id: int | None, step: Step
) -> dict[str, Any]:
    """What the database says of a lost flag: its inbox row, and its outbox rows."""
    out: dict[str, Any] = {"flag": idx, "case": f"LD{step.rate}x{idx}", "event_id": event_id}
    if event_id:
        out["inbox"] = [
            {"dedupe_key": k, "status": s, "attempts": a, "last_error": e}
            for k, s, a, e in observer.rows(
                "SELECT dedupe_key, status, attempts, last_error FROM processed_events "
                "WHERE dedupe_key LIKE :k",
                k=f"%{event_id}%",
            )
        ]
    if flag_id is not None:
        out["flag_id"] = flag_id
        out["outbox"] = [
            {"dedupe_key": k, "kind": kind, "status": s, "attempts": a, "last_error": e}
            for k, kind, s, a, e in observer.rows(
                "SELECT dedupe_key, kind, status, attempts, last_error FROM outbox "
                "WHERE (kind IN ('notice', 'notice_update') AND subject_id = :f) OR "
                "(kind IN ('card_post', 'card_update') AND subject_id IN "
                "(SELECT id FROM broadcasts WHERE flag_id = :f))",
                f=flag_id,
            )
        ]
    return out


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


# ---------------------------------------------------------------------------- report


def print_tables(r: dict[str, Any]) -> None:
    print()
    print(
        f"{'phase':<18} {'seconds':>8} {'flags/s':>8} {'sent':>6} {'acked':>6} "
        f"{'redeliv':>7} {'not ack':>7} {'in db':>6}"
    )
    for p in r["phases"]:
        print(
            f"{p['phase']:<18} {p['seconds']:>8.1f} {p['rate']:>8.2f} {p['sent']:>6} "
            f"{p['acked']:>6} {p['redelivered']:>7} {p['not_acked']:>7} {p['flags_in_db']:>6}"
        )
    print(
        f"{'total':<18} {'':>8} {'':>8} {r['flags_sent']:>6} {r['flags_acked']:>6} "
        f"{r['redelivered']:>7} {r['not_acked']:>7} {r['flags_in_db']:>6}"
    )
    print()
    lines = [
        (
            "store",
            f"{r['store']}, 2 replicas, {r['fault_rate']:.0%} faults, {r['outage_s']:.0f}s outage",
        ),
        ("flags sent", r["flags_sent"]),
        (
            "acked (HTTP 200)",
            f"{r['flags_acked']}  (not acked {r['not_acked']}; {r['redelivered']} delivered "
            f"again; delivery errors {r['error_kinds'] or '-'}; ack p50 {r['ack_p50_ms']} ms, "
            f"p99 {r['ack_p99_ms']} ms)",
        ),
        ("flags in database", f"{r['flags_in_db']}  ({r['stored_not_acked']} of them not acked)"),
        (
            "flags LOST",
            f"{r['lost']}  (acked, no flag row {r['lost_no_flag_row']}; "
            f"a card missing {r['lost_missing_cards']})",
        ),
        (
            "broadcasts",
            f"{r['broadcasts']}  (cards expected {r['cards_expected']}, "
            f"posted {r['cards_posted']})",
        ),
        ("cards per broadcast", r["cards_per_broadcast"]),
        (
            "cards DOUBLED",
            f"{r['cards_doubled']}  (unexpected channel {r['cards_unexpected']}, "
            f"unmatched {r['cards_unmatched']})",
        ),
        (
            "notices",
            f"{r['notices']}  (DOUBLED {r['notices_doubled']}, missing {r['notices_missing']})",
        ),
        (
            "dead rows",
            f"outbox {r['dead_outbox']}, inbox {r['dead_inbox']}  (pending outbox "
            f"{r['pending_outbox']}, inbox {r['pending_inbox']})",
        ),
        (
            "retried rows",
            f"outbox {r['outbox_retried']} (ambiguous {r['outbox_ambiguous']}), "
            f"inbox {r['inbox_retried']}",
        ),
        ("faults injected", sum(r["faults_injected"].values())),
        ("kill -9", r["kill"]),
        (
            "wait after outage",
            f"{r['wait_s']}s of {r['wait_limit_s']:.0f}s "
            f"({'settled' if r['settled'] else 'DEADLINE'})",
        ),
        ("duration", f"{r['duration_s']}s"),
    ]
    for k, v in lines:
        print(f"  {k:<20} {v}")
    for kind, n in r["faults_injected"].items():
        print(f"    {n:>6}  {kind}")
    for d in r["lost_detail"]:
        print(f"  lost {d}")
    for d in r["doubled_detail"]:
        print(f"  doubled {d}")
    for d in r["dead_outbox_rows"] + r["dead_inbox_rows"]:
        print(f"  dead {d}")
    verdict = "ok" if r["aim_met"] else "MISSED"
    print(f"  aim: lost 0, doubled 0 -> lost {r['lost']}, doubled {r['doubled']}: {verdict}")


@contextlib.contextmanager
def scratch(keep: bool) -> Iterator[Path]:
    tmp = Path(tempfile.mkdtemp(prefix="crosstalk-faults-"))
    try:
        yield tmp
    finally:
        if keep:
            print(f"files kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flags", type=int, default=500, help="flags sent (default 500)")
    parser.add_argument("--rate", type=int, default=10, help="steady flags/s (default 10)")
    parser.add_argument("--outage", type=float, default=180.0, help="outage seconds")
    parser.add_argument("--burst-rate", type=int, default=50, help="flags/s of the burst")
    parser.add_argument("--down", type=float, default=5.0, help="seconds the killed one is down")
    parser.add_argument("--fault-rate", type=float, default=0.3, help="share of flaky calls")
    parser.add_argument(
        "--wait", type=float, default=600.0, help="longest wait after the outage (s)"
    )
    parser.add_argument("--postgres", metavar="URL", default=DEFAULT_POSTGRES)
    parser.add_argument("--sqlite", action="store_true", help="one SQLite file instead")
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    parser.add_argument(
        "--no-redeliver",
        dest="redeliver",
        action="store_false",
        help="do not deliver an unanswered event again (as Slack would, once, to the other "
        "replica)",
    )
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file and logs")
    args = parser.parse_args(argv)
    if not (5 <= args.flags <= 5000 and 1 <= args.rate <= 200 and 1 <= args.burst_rate <= 500):
        parser.error("--flags in [5, 5000], --rate in [1, 200], --burst-rate in [1, 500]")
    if not (1 <= args.outage <= 3600 and 0 <= args.down <= 60 and 0 < args.wait <= 3600):
        parser.error("--outage in [1, 3600], --down in [0, 60], --wait in (0, 3600]")
    if not 0 <= args.fault_rate <= 1:
        parser.error("--fault-rate in [0, 1]")
    _signals_as_interrupt()
    with scratch(args.keep) as tmp, contextlib.ExitStack() as stack:
        try:
            result = asyncio.run(run(args, tmp, stack))
        except BaseException:
            for log in sorted(tmp.glob("serve-*.log")):
                tail = log.read_text(errors="replace")[-1500:]
                print(f"--- {log.name} (tail)\n{tail}", file=sys.stderr)
            raise
    print_tables(result)
    print(json.dumps(result))
    return 0 if result["aim_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
