"""`crosstalk demo`: the whole product on one machine, with no accounts and no internet.

The real server and handlers run on 127.0.0.1 against the Slack Web API stand-in shipped
with it (bot.demo.standins, which the test suite uses too), on a fresh SQLite file; a
scripted day of customer conversations (`bot.demo.scenario`) is sent to it as correctly
signed Slack requests, and what the server recorded is printed (`bot.demo.report`).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.core.clock import FakeClock, SystemClock
from config.load import parse_config

LISTENING = ("C0CUSTOMERS", "C0SHARED")
CHARTS = Path("crosstalk-demo-charts")  # in the directory the demo is run from
# Settings read the environment: a user's real tokens, database or config must not reach
# the demo's server, which talks to its stand-ins only.
OWN_ENV_PREFIXES = ("CROSSTALK_", "SLACK_", "MICROSOFT_")


@contextmanager
def own_environment() -> Iterator[None]:
    saved = {k: v for k, v in os.environ.items() if k.startswith(OWN_ENV_PREFIXES)}
    for key in saved:
        del os.environ[key]
    try:
        yield
    finally:
        os.environ.update(saved)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run_demo(
    out: TextIO | None = None,
    *,
    temp_root: Path | None = None,
    today: datetime | None = None,
    charts: Path = CHARTS,
    serve: bool = False,
    port: int = 0,
    until: asyncio.Event | None = None,
) -> int:
    """Play the story and print the report; returns the process exit code. The story is
    set in the business week before `today` (by default the system clock's now), after six
    weeks of history. The digests' charts are written into `charts`. With `serve`, the
    server (and its stand-ins) stays up afterwards with a dashboard link printed for the
    demo's manager, until `until` is set (or the process is interrupted)."""
    began = time.perf_counter()
    out = out or sys.stdout
    from bot.demo import extras as demo_extras
    from bot.demo import history as demo_history
    from bot.demo import listening as demo_listening
    from bot.demo import report as demo_report
    from bot.demo import scenario as demo_scenario
    from bot.demo import serve as demo_serve
    from bot.demo import snapshot as demo_snapshot
    from bot.demo import story as demo_story
    from bot.demo import value as demo_value
    from bot.demo import verbs as demo_verbs
    from bot.demo.demo_org import DEMO_TOML, MORE_PEOPLE, TRIAGE
    from bot.demo.standins import teams_activities as ta
    from bot.demo.standins.bot_connector import BotConnector
    from bot.demo.standins.harness import Server

    workdir = Path(tempfile.mkdtemp(prefix="crosstalk-demo-", dir=temp_root))
    database = workdir / "crosstalk.db"
    config = parse_config(DEMO_TOML, "demo.toml")
    tz = ZoneInfo(config.org.timezone)
    now = today or SystemClock().now()
    start = demo_scenario.scenario_start(now.astimezone(tz).date(), tz)
    clock = FakeClock(demo_history.history_start(start))
    port = port or (free_port() if serve else 0)
    public_url = os.environ.get("CROSSTALK_PUBLIC_URL") or f"http://127.0.0.1:{port}"
    with own_environment():
        async with BotConnector() as connector:
            demo_verbs.TeamsSide.seed(connector)
            server = Server(
                f"sqlite:///{database}",
                config_toml=DEMO_TOML,
                clock=clock,
                teams=connector,
                port=port,
                env={"CROSSTALK_PUBLIC_URL": public_url if serve else None},
            )
            async with server:  # FakeSlack's ts follow the server's clock
                demo_story.seed_people(server)
                for user_id, name in MORE_PEOPLE.items():
                    server.slack.add_user(user_id, user_id.lower(), name)
                story = demo_story.Story(server, clock, start)
                teams = demo_verbs.TeamsSide(story, connector)
                await teams.install()
                await demo_history.play(story, teams)
                server.slack.add_channel(TRIAGE, "listening-triage")
                await demo_listening.play(story, flagger="U0SUE", dismisser="U0SID")
                await demo_scenario.play(story)
                extras = demo_value.history_section(server, start, demo_history.WEEKS)
                extras += await demo_extras.roi_section(server)
                extras += demo_extras.digest_section(server)
                files = demo_value.write_charts(server, charts)
                extras += demo_value.charts_section(charts, files)
                snapshot = demo_snapshot.collect(
                    engine=server.runtime.engine,
                    org_id=server.runtime.org.org_id,
                    config=server.runtime.config,
                    slack=server.slack,
                    started=start,
                    ended=clock.now(),
                    database=f"{database} (SQLite, kept for you to explore)",
                    listening=LISTENING,
                    names=ta.TEAMS_PEOPLE,
                )
                lines = demo_report.render(snapshot) + extras
                lines.append(f"Done in {time.perf_counter() - began:.1f} s of wall-clock time.")
                out.write("\n".join(lines) + "\n")
                out.flush()
                if serve:
                    await demo_serve.stay_up(server, out, until)
    return 0
