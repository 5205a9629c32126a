"""Open-loop load on one `crosstalk serve`: signed flags and thread chatter at rising rates.

    .venv/bin/python -m bench.load [--rates 10 20 40 60 80] [--seconds 60] [--postgres URL]

For each rate (flags per second) a fresh database, a fresh `crosstalk serve` subprocess
(the real CLI, on the wall clock) and a fresh Slack Web API stand-in (FakeSlack, on its
own thread and event loop in this process). Requests are fired on a fixed schedule,
never waiting for answers: per flag, one `reaction_added` (:mega:) on a customer message
the stand-in holds, plus `--others` (default 3) replies in ordinary threads of channels
the bot is in. Reported per rate: ack p50/p99 (HTTP response, from the scheduled send
time), card lag p50/p99 (the stand-in receiving each broadcast card's chat.postMessage,
minus the flag's ack), the backlog (flags acked whose cards are not all posted) at the
end of the window and after the drain, whether the lag stayed bounded, and the server's
peak RSS. The last line is one JSON object with every number.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.demo.org import CHANNELS, ORG_TOML, USERS
from bot.demo.standins import slack_requests as sr
from bot.demo.standins.slack_api import FakeSlack

ROOT = Path(__file__).resolve().parent.parent
TEAM = "T0001"
REACTION = "mega"
LAG_P99_AIM = 2.0  # s, at 20 flags/s
BOUNDED_AIM = {"sqlite": 60, "postgresql": 40}  # flags/s
RSS_AIM_MB = 200
WINDOW_EDGE = 10.0  # s: the first and last part of the window compared for growth

CUSTOMER_CHANNELS = ("C0CUSTOMERS", "C0SHARED")
TEAM_CHANNELS = {
    "success": "C0SUCCESS",
    "billing": "C0BILLING",
    "product": "C0PRODUCT",
    "engineering": "C0ENG",
    "legal": "C0LEGAL",
}
CARD_CHANNELS = frozenset(TEAM_CHANNELS.values())
FLAGGERS = ("U0ANN", "U0CAL", "U0MGR")
STAFF = ("U0ANN", "U0CAL", "U0BOB", "U0PAM", "U0EVE", "U0MGR")
CUSTOMER = "U0SAM"
CUSTOMER_TEAM = "T0GLOBEX"  # the customer's own workspace, in the Slack Connect channel
TRIAGE = "C0TRIAGE"  # where listening's suggestions go (--listening)
LISTENING_TOML = f"""
[listening]
channels = ["C0CUSTOMERS"]
shared_channels = true
triage_channel = "{TRIAGE}"
"""

# What customers say, and the teams the sample org's [[routes]] (bot/demo/org.py) send it
# to. A card that arrives in another team's channel is counted as `unexpected_cards`.
CUSTOMER_TEXTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("We were charged twice on the last invoice, can you refund one of them?", ("billing",)),
    (
        "The CSV export has been broken since this morning, every download is empty.",
        ("product", "engineering"),
    ),
    ("Is a Salesforce integration on the roadmap? Our sales team keeps asking.", ("product",)),
    ("Our lawyer needs the signed DPA before the renewal, who can send it?", ("legal",)),
    (
        "Honestly we are thinking about cancelling, a competitor offers this for less.",
        ("success",),
    ),
    (
        "The dashboard crashes when we filter by region, is there an outage?",
        ("product", "engineering"),
    ),
    ("Could you update the card on file? The old one expires this month.", ("billing",)),
    ("Loving the new reports, the team uses them every day now.", ("success",)),
    ("We get a 500 error when inviting users, it started after the update.", ("engineering",)),
    ("Can we get a feature to schedule exports weekly?", ("product",)),
)
CHATTER = (
    "Thanks, that worked!",
    "Let me check with the team and get back to you.",
    "Any update on this one?",
    "Following up on yesterday's call, notes are in the doc.",
    "I'll take a look after lunch.",
)
TOKEN = re.compile(r"\bLD(\d+)x(\d+)\b")
PERMALINK = re.compile(r"/archives/(C[A-Z0-9]+)/p(\d{10})(\d{6})")


# ---------------------------------------------------------------------------- stand-in


class LoadSlack(FakeSlack):
    """FakeSlack with a constant-time answer to the one-message conversations.history
    Crosstalk asks to read a flagged message back (the stock one sorts the channel's
    history on every call, which at thousands of seeded messages made the stand-in, not
    the server, the bottleneck). Anything else goes to FakeSlack as is."""

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        latest, oldest = args.get("latest"), args.get("oldest")
        channel = args.get("channel")
        if latest and latest == oldest and str(args.get("inclusive")).lower() in ("1", "true"):
            message = self._messages.get(str(channel), {}).get(str(latest))
            if message is not None and message.get("thread_ts") in (None, message["ts"]):
                return {
                    "ok": True,
                    "messages": [self._render(str(channel), message, include_metadata=False)],
                    "has_more": False,
                    "pin_count": 0,
                    "channel_actions_ts": None,
                    "channel_actions_count": 0,
                }
        return super()._conversations_history(args)


class SlackThread:
    """The stand-in on its own thread and event loop, so that answering the server does
    not delay this process's send schedule more than the GIL makes it."""

    def __init__(self, seed: dict[str, list[tuple[str, str, str]]]) -> None:
        self.slack = LoadSlack()
        self._seed = seed
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="fake-slack", daemon=True)

    def __enter__(self) -> LoadSlack:
        self._thread.start()
        if not self._ready.wait(30) or self._error is not None:
            raise RuntimeError(f"FakeSlack did not start: {self._error!r}")
        return self.slack

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by __enter__
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        slack = self.slack
        for cid, name in CHANNELS.items():
            slack.add_channel(cid, name, is_ext_shared=cid == "C0SHARED")
        for uid, name in USERS.items():
            slack.add_user(uid, uid.lower(), name)
        for channel, messages in self._seed.items():
            for ts, user, body in messages:
                slack.add_message(channel, body, user=user, ts=ts)
        async with slack:
            self._ready.set()
            await self._stop.wait()


# ---------------------------------------------------------------------------- traffic


@dataclass
class FlagTarget:
    channel: str
    ts: str
    text: str
    teams: tuple[str, ...]

    @property
    def expected(self) -> frozenset[str]:
        return frozenset(TEAM_CHANNELS[t] for t in self.teams)


@dataclass
class Planned:
    at: float  # seconds after the window's start
    body: bytes
    headers: dict[str, str]
    flag: int | None  # index into the step's targets, None for chatter


@dataclass
class Step:
    """One rate's traffic and what was observed of it (wall-clock seconds, time.time())."""

    rate: int
    seconds: float
    others: int
    targets: list[FlagTarget]
    roots: dict[str, list[str]]
    warmup: list[Planned]
    plan: list[Planned]
    start: float = 0.0
    sent: list[float] = field(default_factory=list)  # dispatch times, measured requests
    late: list[float] = field(default_factory=list)  # dispatch minus schedule
    acks: dict[int, float] = field(default_factory=dict)  # flag -> ack time
    ack_latency: list[float] = field(default_factory=list)  # ack minus schedule, all events
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    cards: dict[int, dict[str, float]] = field(default_factory=dict)  # flag -> channel -> at
    unexpected_cards: int = 0
    unmatched_cards: int = 0
    scanned: int = 0
    backlog_series: list[tuple[float, int]] = field(default_factory=list)  # (s, flags)
    listening: bool = False  # customer chatter is top-level and watched (--listening)
    suggestions: int = 0  # suggestion cards posted to the triage channel


def _ts(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def build_step(
    rate: int, seconds: float, others: int, warmup_flags: int, listening: bool = False
) -> Step:
    """Flag targets (posted by the customer a few minutes before the window) and thread
    roots (an hour before); the warm-up's signed requests. The window's are built (and
    signed) just before it starts, by `plan_window`."""
    now = int(time.time())
    count = int(rate * seconds)
    targets: list[FlagTarget] = []
    base = (now - 300) * 1_000_000
    for i in range(warmup_flags + count):
        text_, teams = CUSTOMER_TEXTS[i % len(CUSTOMER_TEXTS)]
        channel = CUSTOMER_CHANNELS[(i // len(CUSTOMER_TEXTS)) % 2]
        token = f"LD{rate}x{i}"
        targets.append(FlagTarget(channel, _ts(base + i * 50), f"{text_} (case {token})", teams))
    roots = {
        cid: [_ts((now - 3600 + j) * 1_000_000 + k) for j in range(40)]
        for k, cid in enumerate(CHANNELS)
    }
    step = Step(rate, seconds, others, targets, roots, [], [], listening=listening)
    step.warmup = _plan(
        targets[:warmup_flags], 0, warmup_flags / 2.0, others, roots, now, listening
    )
    return step


def plan_window(step: Step) -> None:
    first = len(step.warmup) // (step.others + 1)
    step.plan = _plan(
        step.targets,
        first,
        step.rate,
        step.others,
        step.roots,
        int(time.time()) + 1,
        step.listening,
    )


def _plan(
    targets: list[FlagTarget],
    first: int,
    rate: float,
    others: int,
    roots: dict[str, list[str]],
    signed_at: int,
    listening: bool = False,
) -> list[Planned]:
    """With `listening`, a customer's chatter in a customer channel is a top-level message
    in a watched channel (every other one a complaint), which listening scores."""
    per_flag = others + 1
    interval = 1.0 / (rate * per_flag)
    channels = list(roots)
    out: list[Planned] = []
    micros = signed_at * 1_000_000
    for n, index in enumerate(range(first, len(targets))):
        for k in range(per_flag):
            at = (n * per_flag + k) * interval
            signed = signed_at + int(at)
            micros = max(micros + 1, int((signed_at + at) * 1_000_000))
            if k == 0:
                t = targets[index]
                body, headers = sr.event_reaction_added(
                    TEAM,
                    FLAGGERS[index % len(FLAGGERS)],
                    REACTION,
                    t.channel,
                    t.ts,
                    CUSTOMER,
                    _ts(micros),
                    event_time=signed,
                    is_ext_shared_channel=t.channel == "C0SHARED",
                    timestamp=signed,
                )
                out.append(Planned(at, body, headers, index))
                continue
            channel = channels[(index * others + k) % len(channels)]
            root = roots[channel][(index + k) % len(roots[channel])]
            user = CUSTOMER if channel in CUSTOMER_CHANNELS and k % 2 else STAFF[k % len(STAFF)]
            said = CHATTER[(index + k) % len(CHATTER)]
            watched = listening and user == CUSTOMER
            if watched and index % 2:
                said = CUSTOMER_TEXTS[(index + k) % len(CUSTOMER_TEXTS)][0]
            body, headers = sr.event_message(
                TEAM,
                channel,
                user,
                said,
                _ts(micros),
                None if watched else root,
                user_team=CUSTOMER_TEAM if watched and channel == "C0SHARED" else None,
                event_time=signed,
                is_ext_shared_channel=channel == "C0SHARED",
                timestamp=signed,
            )
            out.append(Planned(at, body, headers, None))
    return out


def seed_of(step: Step) -> dict[str, list[tuple[str, str, str]]]:
    """What the stand-in holds before the server starts: every flag target and every
    thread root the chatter replies to (a customer's in customer channels, staff's in
    team channels)."""
    seed: dict[str, list[tuple[str, str, str]]] = {c: [] for c in CHANNELS}
    if step.listening:
        seed[TRIAGE] = []
    for t in step.targets:
        seed[t.channel].append((t.ts, CUSTOMER, t.text))
    for channel, roots in step.roots.items():
        user = CUSTOMER if channel in CUSTOMER_CHANNELS else STAFF[0]
        for ts in roots:
            seed[channel].append((ts, user, "Kicking off a thread about the rollout."))
    return seed


# ---------------------------------------------------------------------------- sending


async def fire(
    session: aiohttp.ClientSession,
    url: str,
    plan: list[Planned],
    step: Step,
    *,
    measured: bool,
    request_timeout: float,
    started: asyncio.Event | None = None,
) -> float:
    """Send `plan` on its schedule, never waiting for answers; returns the wall-clock
    start. Every request is bounded by `timeout`; this returns once all have ended."""
    loop = asyncio.get_running_loop()
    start_loop = loop.time() + 0.2
    start_wall = time.time() + (start_loop - loop.time())
    if measured:
        step.start = start_wall
    if started is not None:
        started.set()
    tasks: set[asyncio.Task[None]] = set()
    limit = aiohttp.ClientTimeout(total=request_timeout)

    async def one(p: Planned, scheduled: float) -> None:
        try:
            async with session.post(url, data=p.body, headers=p.headers, timeout=limit) as r:
                await r.read()
                ok = r.status == 200
                kind = f"http {r.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            ok, kind = False, type(exc).__name__
        ack = time.time()
        if not measured:
            return
        step.ack_latency.append(ack - scheduled)
        if ok and p.flag is not None:
            step.acks[p.flag] = ack
        if not ok:
            step.errors += 1
            step.error_kinds[kind] = step.error_kinds.get(kind, 0) + 1

    for p in plan:
        delay = start_loop + p.at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        now = time.time()
        if measured:
            step.sent.append(now)
            step.late.append(now - (start_wall + p.at))
        task = asyncio.create_task(one(p, start_wall + p.at))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    return start_wall


# ---------------------------------------------------------------------------- cards


def scan_cards(slack: FakeSlack, step: Step, by_key: dict[tuple[str, str], int]) -> None:
    """New broadcast cards (top-level chat.postMessage in a team channel) since the last
    scan, matched to their flag by the case token in the quoted text, else the permalink."""
    calls = list(slack.calls)
    for call in calls[step.scanned :]:
        if call.method != "chat.postMessage" or not call.ok:
            continue
        channel = str(call.args.get("channel", ""))
        if channel not in CARD_CHANNELS or call.args.get("thread_ts"):
            continue
        blob = json.dumps(call.args)
        flag: int | None = None
        for m in TOKEN.finditer(blob):
            if int(m.group(1)) == step.rate:
                flag = int(m.group(2))
                break
        if flag is None:
            m = PERMALINK.search(blob)
            if m:
                flag = by_key.get((m.group(1), f"{m.group(2)}.{m.group(3)}"))
        if flag is None:
            step.unmatched_cards += 1
            continue
        if channel not in step.targets[flag].expected:
            step.unexpected_cards += 1
            continue
        step.cards.setdefault(flag, {}).setdefault(channel, call.at)
    step.scanned = len(calls)


def backlog(step: Step) -> int:
    """Flags acked (in the window) whose cards are not all posted yet."""
    return sum(
        1 for flag in step.acks if len(step.cards.get(flag, {})) < len(step.targets[flag].expected)
    )


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ---------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (/proc/PID/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@contextlib.contextmanager
def database(postgres: str | None, tmp: Path, rate: int) -> Iterator[str]:
    """A fresh SQLite file, or a scratch database on the PostgreSQL server `postgres`
    (dropped afterwards)."""
    if postgres is None:
        yield f"sqlite:///{tmp}/load-{rate}-{uuid.uuid4().hex[:6]}.db"
        return
    url = make_url(postgres)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    name = f"ct_load_{rate}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def crosstalk_bin() -> list[str]:
    script = Path(sys.executable).parent / "crosstalk"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


class Serve:
    """`crosstalk serve` in a subprocess on 127.0.0.1, pointed at the stand-in."""

    def __init__(
        self,
        db_url: str,
        slack: FakeSlack,
        tmp: Path,
        scheduler: bool,
        tree: Path,
        listening: bool = False,
    ) -> None:
        config = tmp / "crosstalk.toml"
        config.write_text(ORG_TOML + (LISTENING_TOML if listening else ""))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / f"serve-{self.port}.log"
        self.env = {
            **os.environ,
            "CROSSTALK_DATABASE_URL": db_url,
            "CROSSTALK_CONFIG": str(config),
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_SIGNING_SECRET": sr.DEFAULT_SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "PYTHONUNBUFFERED": "1",
        }
        self.tree = tree
        if tree != ROOT:  # another checkout of the code (e.g. `git archive` of a commit)
            self.env["PYTHONPATH"] = os.pathsep.join(
                [str(tree), *filter(None, [os.environ.get("PYTHONPATH")])]
            )
        self.env.pop("CROSSTALK_CLOCK_START", None)  # the wall clock: a benchmark, not a test
        self.scheduler = scheduler
        self.proc: subprocess.Popen[bytes] | None = None

    def upgrade(self) -> None:
        done = subprocess.run(
            [*crosstalk_bin(), "db", "upgrade"],
            env=self.env,
            cwd=self.tree,
            capture_output=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"crosstalk db upgrade failed: {done.stderr.decode()[-2000:]}")

    def __enter__(self) -> Serve:
        args = [*crosstalk_bin(), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if not self.scheduler:
            args.append("--no-scheduler")
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            args, env=self.env, cwd=self.tree, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"crosstalk serve exited: {self.tail()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                return self
            time.sleep(0.1)
        self.__exit__()
        raise RuntimeError(f"crosstalk serve did not listen within 60 s: {self.tail()}")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def tail(self, chars: int = 2000) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-chars:]
        return ""


# ---------------------------------------------------------------------------- one step


async def sample_rss(pid: int, peak: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        value = rss_mb(pid)
        if value is not None:
            peak.append(value)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.25)


async def warm_up(
    session: aiohttp.ClientSession, server: Serve, slack: FakeSlack, step: Step, within: float
) -> float:
    """A few flags and replies before the window, until their cards are all posted (the
    first requests import and connect lazily); the seconds it took."""
    started = time.monotonic()
    probe = Step(step.rate, step.seconds, step.others, step.targets, step.roots, [], [])
    await fire(
        session,
        f"{server.url}/slack/events",
        step.warmup,
        probe,
        measured=False,
        request_timeout=30,
    )
    wanted = {p.flag for p in step.warmup if p.flag is not None}
    while time.monotonic() - started < within:
        scan_cards(slack, probe, {})
        if all(len(probe.cards.get(f, {})) >= len(step.targets[f].expected) for f in wanted):
            break
        await asyncio.sleep(0.2)
    step.scanned = probe.scanned  # the warm-up's cards are not the window's
    return time.monotonic() - started


async def run_step(
    args: argparse.Namespace, step: Step, slack: FakeSlack, server: Serve
) -> dict[str, Any]:
    by_key = {(t.channel, t.ts): i for i, t in enumerate(step.targets)}
    connector = aiohttp.TCPConnector(limit=args.connections, limit_per_host=args.connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        warm = await warm_up(session, server, slack, step, args.drain)
        rss: list[float] = []
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_rss(server.pid, rss, stop))
        rss_start = rss_mb(server.pid)
        await asyncio.to_thread(plan_window, step)
        started = asyncio.Event()
        sending = asyncio.create_task(
            fire(
                session,
                f"{server.url}/slack/events",
                step.plan,
                step,
                measured=True,
                request_timeout=args.timeout,
                started=started,
            )
        )
        # the window ends with the last scheduled request; acks still in flight then
        # count for the drain, not the window
        await started.wait()
        cpu_start = (cpu_seconds(server.pid), time.process_time(), time.time())
        end = step.start + step.plan[-1].at + 0.01
        while (now := time.time()) < end:  # the backlog once a second, as traffic lasts
            scan_cards(slack, step, by_key)
            step.backlog_series.append((round(now - step.start, 2), backlog(step)))
            await asyncio.sleep(max(0.0, min(1.0, end - time.time())))
        window_end = time.time()
        cpu_end = (cpu_seconds(server.pid), time.process_time())
        scan_cards(slack, step, by_key)
        acked_at_end = {f for f, at in step.acks.items() if at <= window_end}
        backlog_end = sum(
            1 for f in acked_at_end if len(step.cards.get(f, {})) < len(step.targets[f].expected)
        )
        await sending
        drain_start = time.time()
        while True:
            scan_cards(slack, step, by_key)
            left = backlog(step)
            if left == 0 or time.time() - drain_start >= args.drain:
                break
            await asyncio.sleep(0.25)
        drain_end = time.time()
        stop.set()
        await sampler
    step.suggestions = sum(
        1 for c in slack.calls if c.method == "chat.postMessage" and c.args.get("channel") == TRIAGE
    )
    return summarise(
        step,
        warm=warm,
        window_end=window_end,
        backlog_end=backlog_end,
        backlog_drain=left,
        drain_seconds=drain_end - drain_start,
        observed_until=drain_end,
        rss_peak=max(rss, default=None),
        rss_start=rss_start,
        server_cpu=(cpu_end[0] - cpu_start[0]) / (window_end - cpu_start[2]),
        bench_cpu=(cpu_end[1] - cpu_start[1]) / (window_end - cpu_start[2]),
        drain_limit=args.drain,
    )


def lags(step: Step, observed_until: float) -> tuple[list[float], int, dict[int, float]]:
    """Per expected card of every acked flag: posted minus ack; a card not posted by the
    end of the drain counts as (end - ack), a lower bound. Also the slowest card of each
    flag, for the trend over the window."""
    out: list[float] = []
    missing = 0
    worst: dict[int, float] = {}
    for flag, ack in step.acks.items():
        posted = step.cards.get(flag, {})
        for channel in step.targets[flag].expected:
            at = posted.get(channel)
            if at is None:
                missing += 1
            lag = (at if at is not None else observed_until) - ack
            out.append(lag)
            worst[flag] = max(worst.get(flag, lag), lag)
    return out, missing, worst


def summarise(step: Step, **seen: Any) -> dict[str, Any]:
    seconds = step.plan[-1].at if step.plan else 0.0
    all_lags, missing, worst = lags(step, seen["observed_until"])
    # flags by when their ack came, relative to the window start
    first_flags = [f for f in worst if step.acks[f] - step.start < WINDOW_EDGE]
    last_flags = [f for f in worst if step.acks[f] - step.start > seconds - WINDOW_EDGE]
    first = [worst[f] for f in first_flags]
    last = [worst[f] for f in last_flags]

    def censored(flags: list[int]) -> bool:
        """Some flag of these still lacks a card: its lag is a lower bound."""
        return any(len(step.cards.get(f, {})) < len(step.targets[f].expected) for f in flags)

    first_p50, last_p50 = quantile(first, 0.5), quantile(last, 0.5)
    lag_p99 = quantile(all_lags, 0.99)
    growing = first_p50 is None or last_p50 is None or last_p50 > 2 * first_p50 + 0.5
    # the backlog while traffic lasts: flat when the server keeps up (about rate x lag),
    # rising when flags arrive faster than it posts their cards
    early = [b for t, b in step.backlog_series if 0 <= t < WINDOW_EDGE]
    late = [b for t, b in step.backlog_series if t >= seconds - WINDOW_EDGE]
    early_mean = sum(early) / len(early) if early else 0.0
    late_mean = sum(late) / len(late) if late else 0.0
    backlog_growing = late_mean > 2 * early_mean + step.rate
    drained = seen["backlog_drain"] == 0
    span = (step.sent[-1] - step.sent[0]) if len(step.sent) > 1 else 0.0
    flags = sum(1 for p in step.plan if p.flag is not None)
    r = 3
    return {
        "rate": step.rate,
        "flags": flags,
        "others": len(step.plan) - flags,
        "listening": step.listening,
        "suggestions": step.suggestions,
        "target_req_s": round(len(step.plan) / seconds, 1) if seconds else None,
        "sent_req_s": round((len(step.sent) - 1) / span, 1) if span else None,
        "send_late_p99_ms": _ms(quantile(step.late, 0.99)),
        "send_late_max_ms": _ms(max(step.late, default=None)),
        "errors": step.errors,
        "error_kinds": step.error_kinds,
        "ack_p50_ms": _ms(quantile(step.ack_latency, 0.5)),
        "ack_p99_ms": _ms(quantile(step.ack_latency, 0.99)),
        "flags_acked": len(step.acks),
        "cards_expected": len(all_lags),
        "cards_posted": len(all_lags) - missing,
        "cards_missing": missing,
        "unexpected_cards": step.unexpected_cards,
        "unmatched_cards": step.unmatched_cards,
        "lag_p50_s": _round(quantile(all_lags, 0.5), r),
        "lag_p99_s": _round(lag_p99, r),
        "lag_censored": missing > 0,
        "lag_first10_p50_s": _round(first_p50, r),
        "lag_last10_p50_s": _round(last_p50, r),
        "lag_first10_censored": censored(first_flags),
        "lag_last10_censored": censored(last_flags),
        "backlog_end": seen["backlog_end"],
        "backlog_after_drain": seen["backlog_drain"],
        "drain_s": round(seen["drain_seconds"], 2),
        "drain_limit_s": seen["drain_limit"],
        "backlog_first10_mean": round(early_mean, 1),
        "backlog_last10_mean": round(late_mean, 1),
        "backlog_series": step.backlog_series[::5],
        "lag_growing": growing,
        "backlog_growing": backlog_growing,
        "bounded": drained and not growing and not backlog_growing,
        "server_cpu_pct": round(100 * seen["server_cpu"]),
        "bench_cpu_pct": round(100 * seen["bench_cpu"]),
        "rss_start_mb": _round(seen["rss_start"], 1),
        "rss_peak_mb": _round(seen["rss_peak"], 1),
        "warmup_s": round(seen["warm"], 2),
        "host_loadavg_1m": round(os.getloadavg()[0], 2),
    }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


# ---------------------------------------------------------------------------- report


def header() -> str:
    return (
        f"{'flags/s':>7} {'req/s':>11} {'late99':>7} {'err':>4} {'ack p50':>8} "
        f"{'ack p99':>8} {'lag p50':>8} {'lag p99':>8} {'first10':>8} {'last10':>8} "
        f"{'bl end':>6} {'bl drn':>6} {'drain':>6} {'RSS MB':>7} {'cpu s/b':>8} bounded"
    )


def row(s: dict[str, Any]) -> str:
    mark = ">" if s["lag_censored"] else ""

    def sec(v: float | None, censored: bool = False) -> str:
        return "-" if v is None else f"{'>' if censored else ''}{v:.2f}s"

    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f}ms"

    sent = f"{s['sent_req_s'] or 0:.0f}/{s['target_req_s'] or 0:.0f}"
    cpu = f"{s['server_cpu_pct']}/{s['bench_cpu_pct']}%"
    return (
        f"{s['rate']:>7} {sent:>11} {ms(s['send_late_p99_ms']):>7} {s['errors']:>4} "
        f"{ms(s['ack_p50_ms']):>8} {ms(s['ack_p99_ms']):>8} "
        f"{sec(s['lag_p50_s'], bool(mark)):>8} {sec(s['lag_p99_s'], bool(mark)):>8} "
        f"{sec(s['lag_first10_p50_s'], s['lag_first10_censored']):>8} "
        f"{sec(s['lag_last10_p50_s'], s['lag_last10_censored']):>8} "
        f"{s['backlog_end']:>6} {s['backlog_after_drain']:>6} {s['drain_s']:>5.1f}s "
        f"{s['rss_peak_mb'] or 0:>7.1f} {cpu:>8} {'yes' if s['bounded'] else 'NO'}"
    )


def verdict(store: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    def ok(good: bool) -> str:
        return "ok" if good else "MISSED"

    at20 = next((s for s in steps if s["rate"] == 20), None)
    bounded = [s["rate"] for s in steps if s["bounded"]]
    # the highest rate below which every measured rate stayed bounded
    highest = 0
    for s in sorted(steps, key=lambda s: s["rate"]):
        if not s["bounded"]:
            break
        highest = s["rate"]
    rss = max((s["rss_peak_mb"] or 0 for s in steps), default=0)
    aim = BOUNDED_AIM[store]
    out: dict[str, Any] = {
        "highest_bounded_rate": highest,
        "bounded_rates": bounded,
        "rss_peak_mb": rss,
    }
    lines = []
    if at20 is not None:
        p99 = at20["lag_p99_s"]
        good = p99 is not None and not at20["lag_censored"] and p99 <= LAG_P99_AIM
        out["lag_p99_at_20_s"] = p99
        lines.append(f"lag p99 at 20 flags/s {p99}s (aim <= {LAG_P99_AIM}s: {ok(good)})")
    top = max(s["rate"] for s in steps)
    tested = "" if top >= aim else f", only rates up to {top} measured"
    lines.append(
        f"highest bounded rate {highest} flags/s (aim >= {aim} on {store}: "
        f"{ok(highest >= aim)}{tested})"
    )
    lines.append(f"peak RSS {rss:.1f} MB (aim <= {RSS_AIM_MB} MB: {ok(rss <= RSS_AIM_MB)})")
    out["verdict"] = lines
    return out


# ---------------------------------------------------------------------------- main


def run_rate(args: argparse.Namespace, rate: int, tmp: Path) -> dict[str, Any]:
    step = build_step(rate, args.seconds, args.others, args.warmup_flags, args.listening)
    with (
        database(args.postgres, tmp, rate) as db_url,
        SlackThread(seed_of(step)) as slack,
    ):
        server = Serve(db_url, slack, tmp, args.scheduler, args.tree, args.listening)
        server.upgrade()
        with server:
            try:
                result = asyncio.run(run_step(args, step, slack, server))
            finally:
                if server.proc is not None and server.proc.poll() is not None:
                    print(f"  crosstalk serve died: {server.tail()}", file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rates",
        type=_rates,
        default=[[10, 20, 40, 60, 80]],
        help="flags per second, one step each (e.g. 10,20 or 10 20)",
        nargs="+",
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="send window per rate")
    parser.add_argument("--others", type=int, default=3, help="thread replies per flag")
    parser.add_argument(
        "--drain",
        type=float,
        default=30.0,
        help="longest wait after the window for the backlog to clear",
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="PostgreSQL server; a scratch database per rate (default SQLite)",
    )
    parser.add_argument("--warmup-flags", type=int, default=10)
    parser.add_argument("--connections", type=int, default=256, help="client pool size")
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    parser.add_argument(
        "--scheduler",
        action="store_true",
        help="run the server's scheduled jobs too (off: no nudges/digests)",
    )
    parser.add_argument(
        "--tree",
        type=lambda v: Path(v).resolve(),
        default=ROOT,
        help="source tree `crosstalk serve` runs from (default: this checkout), e.g. a "
        "`git archive` of another commit",
    )
    parser.add_argument("--keep", action="store_true", help="keep the SQLite files and logs")
    parser.add_argument(
        "--listening",
        action="store_true",
        help="watch the customer channels: their customer chatter is top-level messages that "
        "listening scores (suggestions go to a triage channel)",
    )
    args = parser.parse_args(argv)
    args.rates = sorted({r for group in args.rates for r in group})
    if args.seconds <= 0 or args.seconds > 600 or not all(0 < r <= 500 for r in args.rates):
        parser.error("--seconds in (0, 600], rates in (0, 500]")
    if args.seconds < 2 * WINDOW_EDGE:
        print(f"note: windows under {2 * WINDOW_EDGE:.0f}s: first/last {WINDOW_EDGE:.0f}s overlap")

    store = "postgresql" if args.postgres else "sqlite"
    print(
        f"crosstalk serve on {store}: open loop, {args.seconds:.0f}s per rate, each flag "
        f"(:{REACTION}: on a fresh customer message) with {args.others} thread replies "
        f"elsewhere; drain up to {args.drain:.0f}s; fresh database, server and stand-in per rate"
    )
    print(f"server code: {args.tree}{_describe_tree(args.tree)}")
    print(header())
    sys.stdout.flush()
    tmp = Path(tempfile.mkdtemp(prefix="crosstalk-load-"))
    steps: list[dict[str, Any]] = []
    try:
        for rate in args.rates:
            result = run_rate(args, rate, tmp)
            steps.append(result)
            print(row(result))
            if result["errors"] or result["unexpected_cards"] or result["unmatched_cards"]:
                print(
                    f"  {result['errors']} errors {result['error_kinds']}, "
                    f"{result['unexpected_cards']} cards in unexpected channels, "
                    f"{result['unmatched_cards']} cards matched to no flag"
                )
            sys.stdout.flush()
    finally:
        if args.keep:
            print(f"files kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    summary = verdict(store, steps)
    for line in summary["verdict"]:
        print(f"  {line}")
    print(
        "req/s = achieved/target send rate; late99 = p99 of dispatch minus schedule; ack = "
        "HTTP answer minus scheduled send; lag = card at the stand-in minus the flag's ack "
        "('>' = some cards never came: lower bound); first10/last10 = median of each flag's "
        f"slowest card, flags acked in the first/last {WINDOW_EDGE:.0f}s; bl = backlog "
        "(flags acked, cards not all posted) at the window's end / after the drain; "
        "bounded = drained, last10 <= 2 x first10 + 0.5s, and the backlog's mean over the last "
        f"{WINDOW_EDGE:.0f}s <= 2 x over the first + one second of flags; "
        "cpu s/b = CPU of the server / "
        "of this process (sender + stand-in) during the window, % of one core"
    )
    print(
        json.dumps(
            {
                "bench": "load",
                "store": store,
                "seconds": args.seconds,
                "others_per_flag": args.others,
                "listening": args.listening,
                "drain_s": args.drain,
                "steps": steps,
                **{k: v for k, v in summary.items() if k != "verdict"},
            }
        )
    )
    return 0


def _describe_tree(tree: Path) -> str:
    """The commit a checkout is at, read from its .git without running git."""
    head = tree / ".git" / "HEAD"
    with contextlib.suppress(OSError):
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            ref = (tree / ".git" / ref[5:]).read_text().strip()
        return f" (HEAD {ref[:10]}, plus any uncommitted changes)"
    return ""


def _rates(value: str) -> list[int]:
    return [int(v) for v in value.split(",") if v.strip()]


if __name__ == "__main__":
    sys.exit(main())
