"""Sign-in by one-time link, the session cookie, logout, and the manager check of every page.

`GET /dashboard/login?token=…` only looks at the link (chat apps fetch links to preview
them, which must not spend it) and shows a button; `POST /dashboard/login` spends it, in one
conditional UPDATE, and sets the cookie. Refusals: a used or expired link 410, a link that
never existed 403, a signed-in person who is not a manager 403, no session 401.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from jinja2 import Environment

from bot.core.refs import Platform, UserRef
from bot.runtime import Runtime
from bot.web.cache import WeekCache
from bot.web.links import check_link, use_link
from bot.web.render import page, secure
from bot.web.session import COOKIE, SESSION_TTL, WebSession, seal, session_key, unseal
from store.logins import Consumed

log = logging.getLogger("crosstalk.web")
COOKIE_PATH = "/dashboard"
REFUSED = {
    "unknown": (403, "This sign-in link is not valid", "It may have been mistyped or cut short."),
    "used": (410, "This sign-in link has already been used", "Each link opens one session."),
    "expired": (410, "This sign-in link has expired", "Links are valid for 10 minutes."),
}
ASK = "Ask for a new one: /roi web in Slack, @Crosstalk dashboard in Teams."


@dataclass
class Site:
    """What every dashboard handler shares."""

    runtime: Runtime
    env: Environment
    key: bytes
    weeks: WeekCache = field(default_factory=WeekCache)  # past weeks' figures

    @classmethod
    def build(cls, runtime: Runtime, env: Environment) -> Site:
        secret = runtime.settings.session_secret
        return cls(runtime, env, session_key(secret.get_secret_value() if secret else None))

    @property
    def https(self) -> bool:
        return self.runtime.settings.public_url.lower().startswith("https://")

    def message(self, status: int, title: str, *lines: str) -> web.Response:
        return page(self.env, "message.html", {"title": title, "lines": lines}, status=status)

    def session_of(self, request: web.Request) -> WebSession | None:
        found = unseal(self.key, request.cookies.get(COOKIE), now=self.runtime.clock.now())
        if found is None or found.org_id != self.runtime.org.org_id:
            return None
        return found


Page = Callable[[web.Request, WebSession], Awaitable[web.StreamResponse]]


def managers_only(site: Site, handler: Page) -> Callable[[web.Request], Awaitable[Any]]:
    """The handler for signed-in managers; a clear page for everyone else."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        session = site.session_of(request)
        if session is None:
            return site.message(
                401, "Please sign in", "The dashboard opens from a sign-in link.", ASK
            )
        if not site.runtime.config.roi.is_manager(session.user):
            return _not_a_manager(site)
        return secure(await handler(request, session))

    return guarded


def _not_a_manager(site: Site) -> web.Response:
    return site.message(
        403,
        "Managers only",
        "The dashboard shows the /roi figures, which only managers (config roi.managers) see.",
    )


def same_origin(request: web.Request, public_url: str) -> bool:
    """A form POST from our own pages: its Origin is this server (as the browser reached
    it, or its public address); without an Origin, the Fetch metadata must say so."""
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return request.headers.get("Sec-Fetch-Site") == "same-origin"
    own = {f"{request.scheme}://{request.host}".lower()}
    if public_url:
        parts = urlsplit(public_url)
        own.add(f"{parts.scheme}://{parts.netloc}".lower())
    return origin.lower() in own


def login_get(site: Site) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        token = request.query.get("token", "")
        state = await site.runtime.db.run(
            lambda s: check_link(s, token=token, clock=site.runtime.clock), read_only=True
        )
        if not isinstance(state, Consumed):
            status, title, why = REFUSED[state]
            return site.message(status, title, why, ASK)
        return page(site.env, "login.html", {"token": token})

    return handler


def login_post(site: Site) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        if not same_origin(request, site.runtime.settings.public_url):
            return site.message(403, "Sign-in refused", "The form did not come from this site.")
        form = await request.post()
        token = str(form.get("token", ""))
        state = await site.runtime.db.run(
            lambda s: use_link(s, token=token, clock=site.runtime.clock)
        )
        if isinstance(state, Consumed) and state.org_id != site.runtime.org.org_id:
            state = "unknown"  # another org's link (a shared database): not ours to honour
        if not isinstance(state, Consumed):
            status, title, why = REFUSED[state]
            return site.message(status, title, why, ASK)
        try:
            user = UserRef(Platform(state.user_platform), state.user_id)
        except ValueError:
            return site.message(403, *REFUSED["unknown"][1:])
        if not site.runtime.config.roi.is_manager(user):
            log.info("dashboard sign-in refused: %s %s is not a manager", user.platform, user.id)
            return _not_a_manager(site)
        value, _ = seal(site.key, org_id=state.org_id, user=user, now=site.runtime.clock.now())
        response = web.Response(status=303, headers={"Location": "/dashboard"})
        response.set_cookie(
            COOKIE,
            value,
            max_age=int(SESSION_TTL.total_seconds()),
            path=COOKIE_PATH,
            httponly=True,
            samesite="Lax",
            secure=site.https,
        )
        secure(response)
        log.info("dashboard session opened for %s %s", user.platform, user.id)
        return response

    return handler


def logout(site: Site) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        if not same_origin(request, site.runtime.settings.public_url):
            return site.message(403, "Sign-out refused", "The form did not come from this site.")
        response = site.message(200, "Signed out", "Your dashboard session has ended.", ASK)
        response.del_cookie(COOKIE, path=COOKIE_PATH)
        return response

    return handler
