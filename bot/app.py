"""The one app factory: an aiohttp application with every endpoint of SPEC "HTTP"."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from sqlalchemy import text

from bot.handlers.membership import sync_usergroups
from bot.observability import metrics_handler
from bot.runtime import Runtime

log = logging.getLogger("crosstalk")
RUNTIME = web.AppKey("runtime", Runtime)


def create_app(runtime: Runtime, *, run_worker: bool = True) -> web.Application:
    app = web.Application(client_max_size=1_000_000)
    app[RUNTIME] = runtime
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_handler(runtime.engine, runtime.org.org_id))
    if runtime.settings.slack_enabled:
        from bot.adapters.slack.app import mount as mount_slack

        mount_slack(app, runtime)
    else:
        log.warning("SLACK_BOT_TOKEN or SLACK_SIGNING_SECRET is not set: the Slack endpoint is off")
    if run_worker:
        app.cleanup_ctx.append(_worker)
    return app


async def _worker(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    await sync_usergroups(engine=runtime.engine, org=runtime.org, gateways=runtime.gateways)
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.worker.run(stop))
    yield
    stop.set()
    await runtime.worker.drain(wait=5)
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=10)


async def healthz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # the answer is the health report itself
        return web.json_response({"status": "unhealthy", "database": repr(exc)}, status=503)
    return web.json_response(
        {"status": "ok", "org": runtime.config.org.name, "slack": runtime.settings.slack_enabled}
    )
