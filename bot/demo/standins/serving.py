"""What every platform stand-in shares: serving its aiohttp app on 127.0.0.1 (port 0, so the
OS picks a free one and parallel tests never collide), started once and stopped once; the
instant the stand-ins' calendar starts on when no clock is given; and the clock inbound
requests (signed Slack requests, Teams activities) are dated on.

    class FakeThing(Standin):
        def make_app(self) -> web.Application: ...

    async with FakeThing() as thing:
        ...  # thing.port is set
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Self

from aiohttp import web

from bot.core.clock import Clock, FakeClock, SystemClock

__all__ = ["START", "Standin", "request_clock", "request_time", "start_clock"]

#: Monday 2026-11-16 09:00 UTC: where a stand-in's (and the test server's) time stands when
#: no clock is given, so nothing a test sees depends on the day it runs.
START = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def start_clock() -> FakeClock:
    """A clock frozen at :data:`START` until a test moves it."""
    return FakeClock(START)


#: The clock a request built without an explicit time is dated (and signed) on. The test
#: server sets it to its own clock while it runs, so requests agree with the server's
#: calendar; unset (a benchmark against a real `crosstalk serve`), the system clock.
request_clock: ContextVar[Clock | None] = ContextVar("request_clock", default=None)


def request_time() -> datetime:
    """Now, on :data:`request_clock`."""
    return (request_clock.get() or SystemClock()).now()


class Standin:
    """An aiohttp application served on ``host:port`` for as long as it is started."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    def make_app(self) -> web.Application:
        """The routes this stand-in answers (called once, at the first start)."""
        raise NotImplementedError

    @property
    def started(self) -> bool:
        return self._runner is not None

    async def start(self) -> None:
        """Serve; afterwards :attr:`port` is the port the OS gave. A second call does nothing."""
        if self._runner is not None:
            return
        runner = web.AppRunner(self.make_app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.host, self.port).start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
