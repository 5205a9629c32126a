"""`crosstalk demo --serve`: once the story is told, the demo's server and its stand-ins
stay up on 127.0.0.1 and the demo's manager gets a dashboard sign-in link, until Ctrl-C.

The story ran on a clock that only moved when told to; from here on it runs at the real
pace from where the story ended, so a sign-in link expires after ten real minutes and a
dashboard session lasts its twelve hours, as they would in production."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import TextIO

from bot.core.clock import FakeClock
from bot.core.refs import Platform, UserRef
from bot.demo.standins.harness import Server
from bot.web.links import new_link

TICK = 0.5  # s between moves of the demo's clock


async def _run_clock(clock: FakeClock) -> None:
    began, origin = clock.now(), time.monotonic()
    while True:
        await asyncio.sleep(TICK)
        clock.set(began + timedelta(seconds=time.monotonic() - origin))


async def stay_up(server: Server, out: TextIO, until: asyncio.Event | None) -> None:
    runtime = server.runtime
    manager = next(m for m in runtime.config.roi.manager_refs if m.platform == Platform.SLACK)
    ticking = None
    if isinstance(server.clock, FakeClock):
        ticking = asyncio.get_running_loop().create_task(_run_clock(server.clock))
    public_url = runtime.settings.public_url
    link = await runtime.db.run(
        lambda s: new_link(
            s,
            org_id=runtime.org.org_id,
            user=UserRef(Platform.SLACK, manager.id),
            clock=runtime.clock,
            public_url=public_url,
        )
    )
    name = server.slack.users.get(manager.id, {}).get("real_name") or manager.id
    out.write(
        "\n".join(
            [
                "",
                f"SERVING the demo on {server.url} (Slack stand-in {server.slack.base_url},"
                f" links to {public_url})",
                f"  Dashboard for {name} (a manager), single use, valid 10 minutes:",
                f"  {link}",
                "  Ctrl-C to stop.",
                "",
            ]
        )
    )
    out.flush()
    try:
        await (until or asyncio.Event()).wait()
    finally:
        if ticking is not None:
            ticking.cancel()
