"""A small org for the dashboard tests, played through the real server as Slack sends it:
three flags, replies from three teams, an outcome through the API. Two teams have five
people, so the silo map may show them (the privacy floor is 5)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from multidict import CIMultiDictProxy

from bot.core.clock import FakeClock
from bot.core.refs import Platform, UserRef
from bot.demo.org import ORG_TOML
from bot.demo.standins.harness import Server
from bot.demo.standins.serving import START
from bot.demo.story import ANN, BOB, EVE, FEEDBACK, PAM, Story, seed_people
from bot.web.links import new_link

PUBLIC_URL = "http://crosstalk.test"
SECRET = "dashboard-test-secret"
MANAGER = UserRef(Platform.SLACK, "U0MGR")
CONFIG = ORG_TOML.replace(
    'members = ["U0ANN", "U0CAL"]', 'members = ["U0ANN", "U0CAL", "U0S1", "U0S2", "U0S3"]'
).replace('members = ["U0BOB", "U0BEA"]', 'members = ["U0BOB", "U0BEA", "U0B1", "U0B2", "U0B3"]')
CHARGED = "We were charged twice on the March invoice and nobody answers about the refund."
EXPORT = "The CSV export is broken again since the release, it crashes every time."
SCRIPT = '<script>alert(1)</script> =HYPERLINK("x") is what our invoice says now'


@dataclass
class Seeded:
    server: Server
    clock: FakeClock
    charged: tuple[str, str]
    export: tuple[str, str]
    script: tuple[str, str]


async def play(server: Server, clock: FakeClock) -> Seeded:
    seed_people(server)
    s = Story(server, clock, clock.now())
    charged = (FEEDBACK, s.customer_says(FEEDBACK, "U0PRIYA", CHARGED))
    await s.react(ANN, *charged)
    clock.advance(timedelta(minutes=20))
    await s.reply(BOB, charged, "billing", "A duplicate charge from the retry bug: refunded today.")
    clock.advance(timedelta(minutes=10))
    export = (FEEDBACK, s.customer_says(FEEDBACK, "U0LENA", EXPORT))
    await s.react(ANN, *export)
    clock.advance(timedelta(hours=1))
    await s.reply(EVE, export, "engineering", "Regression in 4.2, fix ships tomorrow.")
    await s.reply(PAM, export, "product", "Large exports need a progress bar too.")
    clock.advance(timedelta(minutes=5))
    script = (FEEDBACK, s.customer_says(FEEDBACK, "U0TOM", SCRIPT))
    await s.react(ANN, *script)
    clock.advance(timedelta(minutes=5))
    status, _ = await post_json(
        server,
        "/api/outcomes",
        {"flag_id": 1, "kind": "retained", "amount": 12000, "currency": "USD", "note": "kept"},
        token="test-token",
    )
    assert status == 201
    await server.settle()
    return Seeded(server, clock, charged, export, script)


@asynccontextmanager
async def seeded_server(db_url: str, **env: str | None) -> AsyncIterator[Seeded]:
    clock = FakeClock(START)
    values: dict[str, str | None] = {
        "CROSSTALK_PUBLIC_URL": PUBLIC_URL,
        "CROSSTALK_SESSION_SECRET": SECRET,
        **env,
    }
    async with Server(db_url, config_toml=CONFIG, clock=clock, env=values) as server:
        yield await play(server, clock)


async def post_json(
    server: Server, path: str, body: Any, *, token: str | None = None
) -> tuple[int, Any]:
    assert server.http is not None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with server.http.post(server.url + path, json=body, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


async def make_link(server: Server, user: UserRef = MANAGER) -> str:
    """A link as `/roi web` makes it, with the server's address in place of the public one."""
    org_id, clock = server.runtime.org.org_id, server.clock
    url = await server.runtime.db.run(
        lambda s: new_link(s, org_id=org_id, user=user, clock=clock, public_url=PUBLIC_URL)
    )
    return local(server, url)


def local(server: Server, url: str) -> str:
    assert url.startswith(PUBLIC_URL + "/dashboard/login?token="), url
    return server.url + url[len(PUBLIC_URL) :]


@dataclass
class Answer:
    status: int
    text: str
    headers: CIMultiDictProxy[str]


async def get(server: Server, path: str, cookie: str | None = None, **kw: Any) -> Answer:
    assert server.http is not None
    headers = {"Cookie": f"crosstalk_session={cookie}"} if cookie else {}
    headers.update(kw.pop("headers", {}))
    url = path if path.startswith("http") else server.url + path
    async with server.http.get(url, headers=headers, allow_redirects=False, **kw) as resp:
        return Answer(resp.status, await resp.text(), resp.headers)


async def submit_login(server: Server, link: str, *, origin: str | None = "same") -> Answer:
    """Press the login page's button: POST the link's token from our own origin."""
    assert server.http is not None
    token = link.split("token=", 1)[1]
    headers = {"Origin": server.url if origin == "same" else origin} if origin else {}
    async with server.http.post(
        server.url + "/dashboard/login",
        data={"token": token},
        headers=headers,
        allow_redirects=False,
    ) as resp:
        return Answer(resp.status, await resp.text(), resp.headers)


def session_cookie(answer: Answer) -> str:
    cookies = answer.headers.getall("Set-Cookie")
    (header,) = [h for h in cookies if h.startswith("crosstalk_session=")]
    return header.split(";", 1)[0].split("=", 1)[1]


async def sign_in(server: Server, user: UserRef = MANAGER) -> str:
    answer = await submit_login(server, await make_link(server, user))
    assert answer.status == 303, answer.text
    return session_cookie(answer)
