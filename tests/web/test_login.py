"""Sign-in by one-time link: `/roi web`, `crosstalk dashboard-link`; single use, ten
minutes; a signed HttpOnly SameSite cookie for 12 hours; logout; managers only."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.refs import Platform, UserRef
from bot.demo.standins import slack_requests as rq
from bot.demo.standins.harness import Server
from bot.web.render import CSP
from tests.web.seed import (
    CONFIG,
    PUBLIC_URL,
    SECRET,
    get,
    local,
    make_link,
    seeded_server,
    session_cookie,
    sign_in,
    submit_login,
)

ANN = UserRef(Platform.SLACK, "U0ANN")


async def _slash(server: Server, user: str, text: str) -> str:
    request = rq.slash_command(
        "T0001", user, "C0GENERAL", "/roi", text, server.slack.response_url(user), "trig"
    )
    assert server.http is not None
    async with server.http.post(
        server.url + "/slack/events", data=request.body, headers=request.headers
    ) as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body["response_type"] == "ephemeral"  # the link is for the asker alone
    return str(body["text"])


async def test_roi_web_link_signs_in_once(db_url: str) -> None:
    async with seeded_server(db_url) as seeded:
        server = seeded.server
        text = await _slash(server, "U0MGR", "web")
        assert "it works once, for 10 minutes" in text
        link = local(server, text.split(": ", 1)[1])
        shown = await get(server, link)
        assert shown.status == 200 and 'action="/dashboard/login"' in shown.text
        assert shown.headers["Content-Security-Policy"] == CSP
        again = await get(server, link)  # looking (a link preview) does not spend it
        assert again.status == 200
        signed = await submit_login(server, link)
        assert signed.status == 303 and signed.headers["Location"] == "/dashboard"
        (header,) = signed.headers.getall("Set-Cookie")
        attributes = {part.strip().split("=")[0].lower() for part in header.split(";")}
        assert {"httponly", "path", "max-age", "samesite"} <= attributes
        assert "secure" not in attributes  # the public URL is http here
        assert "Max-Age=43200" in header and "SameSite=Lax" in header
        assert "Path=/dashboard" in header
        cookie = session_cookie(signed)
        assert SECRET not in cookie
        overview = await get(server, "/dashboard", cookie)
        assert overview.status == 200 and "Overview" in overview.text
        used = await submit_login(server, link)
        assert used.status == 410 and "already been used" in used.text
        assert "Set-Cookie" not in used.headers
        assert (await get(server, link)).status == 410


async def test_expired_unknown_and_cross_site_links_are_refused(db_url: str) -> None:
    async with seeded_server(db_url) as seeded:
        server = seeded.server
        link = await make_link(server)
        seeded.clock.advance(timedelta(minutes=10, seconds=1))
        expired = await get(server, link)
        assert expired.status == 410 and "expired" in expired.text
        assert (await submit_login(server, link)).status == 410
        unknown = await get(server, "/dashboard/login?token=made-up")
        assert unknown.status == 403 and "not valid" in unknown.text
        fresh = await make_link(server)
        elsewhere = await submit_login(server, fresh, origin="https://evil.example")
        assert elsewhere.status == 403
        assert (await submit_login(server, fresh, origin=None)).status == 403
        assert (await submit_login(server, fresh)).status == 303  # not spent by the refusals


async def test_non_managers_get_403(db_url: str) -> None:
    async with seeded_server(db_url) as seeded:
        server = seeded.server
        assert "Only managers" in await _slash(server, "U0ANN", "web")
        refused = await submit_login(server, await make_link(server, ANN))
        assert refused.status == 403 and "Managers only" in refused.text
        assert "Set-Cookie" not in refused.headers


async def test_pages_need_a_valid_session(db_url: str) -> None:
    async with seeded_server(db_url) as seeded:
        server = seeded.server
        for path in ("/dashboard", "/dashboard/flags", "/dashboard/export/flags.csv"):
            answer = await get(server, path)
            assert answer.status == 401 and "sign in" in answer.text.lower()
        cookie = await sign_in(server)
        body, mac = cookie.split(".")
        assert (await get(server, "/dashboard", f"{body}.{mac[:-2]}xx")).status == 401
        seeded.clock.advance(timedelta(hours=12, seconds=1))
        assert (await get(server, "/dashboard", cookie)).status == 401


async def test_logout_clears_the_cookie_from_our_own_form_only(db_url: str) -> None:
    async with seeded_server(db_url) as seeded:
        server = seeded.server
        await sign_in(server)
        assert server.http is not None
        async with server.http.post(server.url + "/dashboard/logout") as resp:
            assert resp.status == 403
        headers = {"Origin": server.url}
        async with server.http.post(server.url + "/dashboard/logout", headers=headers) as resp:
            assert resp.status == 200
            (header,) = resp.headers.getall("Set-Cookie")
            assert header.startswith('crosstalk_session=""') and "Max-Age=0" in header


async def test_https_public_url_makes_the_cookie_secure(db_url: str) -> None:
    async with seeded_server(db_url, CROSSTALK_PUBLIC_URL="https://crosstalk.test") as seeded:
        server = seeded.server
        link = local(server, await _link_at(server, "https://crosstalk.test"))
        signed = await submit_login(server, link)
        assert signed.status == 303
        assert "Secure" in signed.headers["Set-Cookie"]


async def _link_at(server: Server, public: str) -> str:
    from bot.web.links import new_link

    org_id, clock = server.runtime.org.org_id, server.clock
    url = await server.runtime.db.run(
        lambda s: new_link(
            s, org_id=org_id, user=UserRef(Platform.SLACK, "U0MGR"), clock=clock, public_url=public
        )
    )
    return PUBLIC_URL + url[len(public) :]


async def test_without_a_public_url_no_link_is_made(db_url: str) -> None:
    async with seeded_server(db_url, CROSSTALK_PUBLIC_URL=None) as seeded:
        text = await _slash(seeded.server, "U0MGR", "web")
        assert "cannot be linked" in text and "CROSSTALK_PUBLIC_URL" in text


async def test_cli_prints_a_link_that_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    config = tmp_path / "crosstalk.toml"
    config.write_text(CONFIG)
    async with seeded_server(url) as seeded:
        server, clock = seeded.server, seeded.clock
        monkeypatch.setenv("CROSSTALK_CONFIG", str(config))
        monkeypatch.setenv("CROSSTALK_DATABASE_URL", url)
        monkeypatch.delenv("CROSSTALK_PUBLIC_URL", raising=False)
        assert main(["dashboard-link", "--user", "U0MGR"], clock=clock) == 2
        assert "CROSSTALK_PUBLIC_URL" in capsys.readouterr().err
        monkeypatch.setenv("CROSSTALK_PUBLIC_URL", PUBLIC_URL)
        assert main(["dashboard-link", "--user", "U0ANN"], clock=clock) == 2
        assert "not a manager" in capsys.readouterr().err
        assert main(["dashboard-link", "--user", "U0MGR"], clock=clock) == 0
        printed = capsys.readouterr().out.strip()
        signed = await submit_login(server, local(server, printed))
        assert signed.status == 303
        assert (await get(server, "/dashboard", session_cookie(signed))).status == 200
