"""The one app factory: an aiohttp application with every endpoint of SPEC "HTTP"."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from bot.api import mount as mount_api
from bot.handlers.membership import sync_usergroups
from bot.legal import mount as mount_legal
from bot.observability import mount as mount_observability
from bot.runtime import Runtime
from bot.scheduler import Scheduler
from bot.web.routes import mount as mount_dashboard

log = logging.getLogger("crosstalk")
RUNTIME = web.AppKey("runtime", Runtime)
SCHEDULER = web.AppKey("scheduler", Scheduler)


class StartupRefused(Exception):
    """The server must not start like this (the message says why and what to change)."""


def is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def teams_enabled(runtime: Runtime) -> bool:
    """Teams is on with an app id, or for a config that claims a tenant (then, without an
    app id, in the emulator's unauthenticated mode)."""
    return bool(runtime.settings.microsoft_app_id or runtime.config.org.teams_tenant_ids)


def create_app(
    runtime: Runtime,
    *,
    run_worker: bool = True,
    run_scheduler: bool = False,
    host: str | None = None,
    teams_credentials: Any = None,
) -> web.Application:
    """`host` is the address the server listens on: unauthenticated Teams (no app id) is
    refused unless it is a loopback one. `teams_credentials` replaces the Bot Framework
    credentials factory (tests: a fixed token instead of Entra ID)."""
    unauthenticated = not runtime.settings.teams_authenticated
    if teams_enabled(runtime) and unauthenticated and not is_loopback(host):
        raise StartupRefused(
            f"Teams without MICROSOFT_APP_ID (unauthenticated emulator mode) is allowed only on "
            f"a loopback address, and the server would listen on {host or 'an unknown address'}:"
            " set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD, or serve with --host 127.0.0.1"
        )
    if runtime.settings.clock_start is not None and not is_loopback(host):
        raise StartupRefused(
            "CROSSTALK_CLOCK_START moves the clock requests are checked against (tests and "
            "demos only): unset it, or serve on a loopback address"
        )
    app = web.Application(client_max_size=1_000_000)
    app[RUNTIME] = runtime
    mount_observability(app, runtime, lambda: _scheduler_status(app))
    mount_api(app, runtime)
    mount_dashboard(app, runtime)  # /dashboard and GET /api/roi
    mount_legal(app, runtime.config)  # /privacy, /terms: the Teams package links there
    if runtime.settings.slack_enabled:
        from bot.adapters.slack.app import mount as mount_slack

        mount_slack(app, runtime)
    else:
        log.warning("SLACK_BOT_TOKEN or SLACK_SIGNING_SECRET is not set: the Slack endpoint is off")
    if teams_enabled(runtime):
        from bot.adapters.teams.app import mount as mount_teams

        try:
            mount_teams(app, runtime, credentials_factory=teams_credentials)
        except ValueError as exc:  # incomplete credentials, named by the SDK
            raise StartupRefused(str(exc)) from exc
        if not runtime.settings.teams_authenticated:
            log.warning("Teams runs unauthenticated (emulator mode, loopback only)")
    if run_worker:
        app.cleanup_ctx.append(_worker)
    if run_scheduler:
        app[SCHEDULER] = Scheduler(runtime)
        app.cleanup_ctx.append(_scheduler)
    return app


async def _scheduler(app: web.Application) -> AsyncIterator[None]:
    scheduler = app[SCHEDULER]
    scheduler.start()
    yield
    scheduler.stop()
    await asyncio.sleep(0)  # APScheduler shuts down on the loop's next turn


async def _worker(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    await sync_usergroups(engine=runtime.engine, org=runtime.org, gateways=runtime.gateways)
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.worker.run(stop))
    yield
    stop.set()
    await runtime.worker.drain(wait=5)
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(task, timeout=10)


def _scheduler_status(app: web.Application) -> dict[str, Any] | None:
    scheduler = app.get(SCHEDULER)
    return scheduler.status() if scheduler is not None else None
