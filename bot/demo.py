"""`crosstalk demo`: the whole product on one machine, with no accounts and no internet.

The real server and handlers run on 127.0.0.1 against the Slack Web API stand-in the test
suite uses (tests/fakes), on a fresh SQLite file; a scripted day of customer conversations
(`bot.demo_scenario`) is sent to it as correctly signed Slack requests, and what the server
recorded is printed (`bot.demo_report`).

The stand-ins live in the source tree, not in the installed package, so the demo needs a
source checkout: the console script may not have the repository on `sys.path`, so it is
added here, and only here.
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

from bot.core.clock import FakeClock
from config.load import parse_config

REPO = Path(__file__).resolve().parents[1]
LISTENING = ("C0CUSTOMERS", "C0SHARED")
# Settings read the environment: a user's real tokens, database or config must not reach
# the demo's server, which talks to its stand-ins only.
OWN_ENV_PREFIXES = ("CROSSTALK_", "SLACK_", "MICROSOFT_")


class DemoUnavailable(Exception):
    pass


def use_source_checkout(repo: Path = REPO) -> None:
    if not (repo / "tests" / "fakes" / "__init__.py").is_file():
        raise DemoUnavailable(
            f"the demo needs a source checkout of Crosstalk (tests/fakes next to bot/); "
            f"none found at {repo}. Clone the repository and run `crosstalk demo` from "
            "its virtualenv."
        )
    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))


@contextmanager
def own_environment() -> Iterator[None]:
    saved = {k: v for k, v in os.environ.items() if k.startswith(OWN_ENV_PREFIXES)}
    for key in saved:
        del os.environ[key]
    try:
        yield
    finally:
        os.environ.update(saved)


async def run_demo(out: TextIO | None = None, *, temp_root: Path | None = None) -> int:
    """Play the story and print the report; returns the process exit code."""
    began = time.perf_counter()
    out = out or sys.stdout
    try:
        use_source_checkout()
    except DemoUnavailable as exc:
        print(f"crosstalk demo: {exc}", file=sys.stderr)
        return 2
    from bot import demo_extras, demo_report, demo_scenario, demo_snapshot, demo_story
    from tests.fakes.harness import Server
    from tests.fakes.org import ORG_TOML

    workdir = Path(tempfile.mkdtemp(prefix="crosstalk-demo-", dir=temp_root))
    database = workdir / "crosstalk.db"
    config = parse_config(ORG_TOML, "demo.toml")
    tz = ZoneInfo(config.org.timezone)
    start = demo_scenario.scenario_start(datetime.now(tz).date(), tz)
    clock = FakeClock(start)
    with own_environment():
        server = Server(f"sqlite:///{database}", config_toml=ORG_TOML, clock=clock)
        async with server:
            server.slack.set_now(lambda: clock.now().timestamp())
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
