"""`crosstalk demo`: the whole product on one machine, with no accounts and no internet.

The real server and handlers run on 127.0.0.1 against the Slack Web API stand-in shipped
with it (bot.demo.standins, which the test suite uses too), on a fresh SQLite file; a
scripted day of customer conversations (`bot.demo.scenario`) is sent to it as correctly
signed Slack requests, and what the server recorded is printed (`bot.demo.report`).
"""

from __future__ import annotations

import os
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


async def run_demo(
    out: TextIO | None = None, *, temp_root: Path | None = None, today: datetime | None = None
) -> int:
    """Play the story and print the report; returns the process exit code. The story is
    set in the business week before `today` (by default the system clock's now)."""
    began = time.perf_counter()
    out = out or sys.stdout
    from bot.demo import extras as demo_extras
    from bot.demo import report as demo_report
    from bot.demo import scenario as demo_scenario
    from bot.demo import snapshot as demo_snapshot
    from bot.demo import story as demo_story
    from bot.demo.org import ORG_TOML
    from bot.demo.standins.harness import Server

    workdir = Path(tempfile.mkdtemp(prefix="crosstalk-demo-", dir=temp_root))
    database = workdir / "crosstalk.db"
    config = parse_config(ORG_TOML, "demo.toml")
    tz = ZoneInfo(config.org.timezone)
    now = today or SystemClock().now()
    start = demo_scenario.scenario_start(now.astimezone(tz).date(), tz)
    clock = FakeClock(start)
    with own_environment():
        server = Server(f"sqlite:///{database}", config_toml=ORG_TOML, clock=clock)
        async with server:  # FakeSlack's ts follow the server's clock
            demo_story.seed_people(server)
            await demo_scenario.play(demo_story.Story(server, clock, start))
            extras = await demo_extras.roi_section(server)
            extras += demo_extras.digest_section(server)
            snapshot = demo_snapshot.collect(
                engine=server.runtime.engine,
                org_id=server.runtime.org.org_id,
                config=server.runtime.config,
                slack=server.slack,
                started=start,
                ended=clock.now(),
                database=f"{database} (SQLite, kept for you to explore)",
                listening=LISTENING,
            )
    lines = demo_report.render(snapshot) + extras
    lines.append(f"Done in {time.perf_counter() - began:.1f} s of wall-clock time.")
    out.write("\n".join(lines) + "\n")
    out.flush()
    return 0
