"""The dashboard's routes (SPEC "Dashboard"): `mount` adds them to the app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.resources import files

from aiohttp import web

from bot.runtime import Runtime
from bot.web import api, auth, flags, pages
from bot.web.render import make_env, secure


def _stylesheet() -> Callable[[web.Request], Awaitable[web.Response]]:
    css = files("bot.web").joinpath("static/dashboard.css").read_bytes()

    async def handler(request: web.Request) -> web.Response:
        response = web.Response(body=css, content_type="text/css", charset="utf-8")
        secure(response)
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    return handler


def mount(app: web.Application, runtime: Runtime) -> None:
    """Every dashboard route, and `GET /api/roi`."""
    site = auth.Site.build(runtime, make_env(runtime.config.org.timezone))
    add = app.router.add_get
    add("/api/roi", api.api_roi(runtime))
    add("/dashboard", pages.overview(site))
    add("/dashboard/teams", pages.teams_page(site))
    add("/dashboard/silos", pages.silos_page(site))
    add("/dashboard/flags", flags.flags_list(site))
    add(r"/dashboard/flags/{flag_id}", flags.flag_detail(site))
    add("/dashboard/export/flags.csv", flags.flags_csv(site))
    add("/dashboard/export/roi.csv", api.roi_csv(site))
    add("/dashboard/login", auth.login_get(site))
    app.router.add_post("/dashboard/login", auth.login_post(site))
    app.router.add_post("/dashboard/logout", auth.logout(site))
    add("/dashboard/static/dashboard.css", _stylesheet())
