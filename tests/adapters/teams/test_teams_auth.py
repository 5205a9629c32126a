"""Inbound Teams tokens, checked for real: RS256 tokens signed here, keys served by a local
OpenID/JWKS server the SDK fetches from. A valid token is accepted; a wrong audience or
service URL, a missing, expired, foreign-signed or malformed token is 401 (never 500)
and leaves nothing behind. Without an app id, the unauthenticated emulator mode works on
loopback and is refused anywhere else."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import func, select

from bot.app import StartupRefused
from bot.cli import main
from bot.demo.standins import teams_activities as ta
from bot.demo.standins.bot_connector import BotConnector
from bot.demo.standins.harness import Server
from bot.demo.standins.openid import OpenIdServer
from store.models import ConversationRef, InboxEvent
from tests.adapters.teams.test_teams_capture import seed

BOT_TOKEN = "bot-token-from-entra"


def authenticated(db_url: str, connector: BotConnector, metadata_url: str) -> Server:
    env: dict[str, str | None] = {
        "MICROSOFT_APP_ID": ta.APP_ID,
        "MICROSOFT_APP_PASSWORD": "not-a-real-secret",
        "CROSSTALK_TEAMS_OPENID_METADATA_URL": metadata_url,
    }
    return Server(
        db_url,
        config_toml=ta.MIXED_ORG_TOML,
        teams=connector,
        env=env,
        teams_credentials=ta.FixedTokenCredentials(ta.APP_ID, BOT_TOKEN),
    )


def stored(server: Server) -> int:
    return sum(
        server.query(select(func.count()).select_from(model))[0]
        for model in (ConversationRef, InboxEvent)
    )


async def test_tokens_are_checked(db_url: str) -> None:
    async with OpenIdServer() as idp, BotConnector(token=BOT_TOKEN) as connector:
        seed(connector)
        async with authenticated(db_url, connector, idp.metadata_url) as server:
            url = connector.service_url
            refused = {
                "missing": None,
                "wrong audience": idp.token("9f1c2d3e-0000-4000-8000-000000000000", url),
                "wrong service url": idp.token(ta.APP_ID, "https://smba.trafficmanager.net/emea/"),
                "expired": idp.token(ta.APP_ID, url, expires_in=-600),
                "unknown key": idp.token(ta.APP_ID, url, signed_by="attacker"),
                "unknown kid": idp.token(ta.APP_ID, url, kid="not-published"),
                "wrong issuer": idp.token(ta.APP_ID, url, issuer="https://evil.example.com"),
                "not a jwt": "not.a.jwt",
            }
            for case, token in refused.items():
                status, _ = await server.send_activity(ta.bot_added(url), token=token)
                assert status == 401, case
            status, _ = await server.send_activity(
                ta.bot_added(url), headers={"Authorization": "Basic dXNlcjpwYXNz"}
            )
            assert status == 401
            await server.settle()
            assert stored(server) == 0 and not connector.calls

            status, _ = await server.send_activity(
                ta.bot_added(url), token=idp.token(ta.APP_ID, url)
            )
            assert status == 200
            await connector.wait_for(lambda: len(server.query(select(ConversationRef))) == 4)
            # Outbound calls carry the bot's own token (the stand-in refuses any other).
            assert connector.calls and all(c.status == 200 for c in connector.calls)
            assert {c.authorization for c in connector.calls} == {f"Bearer {BOT_TOKEN}"}


async def test_unreachable_signing_keys_are_503_not_401(db_url: str) -> None:
    idp = OpenIdServer()
    await idp.start()
    metadata_url = idp.metadata_url
    token = idp.token(ta.APP_ID, "http://127.0.0.1:9/")
    await idp.stop()  # nothing listens there any more
    connector = BotConnector(token=BOT_TOKEN)
    async with authenticated(db_url, connector, metadata_url) as server:
        activity = ta.bot_added(connector.service_url)
        status, _ = await server.send_activity(activity, token=token)
        assert status == 503
        assert stored(server) == 0


async def test_emulator_mode_needs_no_token_on_loopback(db_url: str) -> None:
    async with BotConnector() as connector:
        seed(connector)
        async with Server(db_url, config_toml=ta.MIXED_ORG_TOML, teams=connector) as server:
            status, _ = await server.send_activity(ta.bot_added(connector.service_url))
            assert status == 200
            assert all(c.authorization is None for c in connector.calls)


async def test_emulator_mode_is_refused_off_loopback(db_url: str) -> None:
    server = Server(db_url, config_toml=ta.MIXED_ORG_TOML, host="0.0.0.0")
    try:
        with pytest.raises(StartupRefused, match="loopback"):
            await server.__aenter__()
    finally:
        await server.slack.stop()
        server.runtime.engine.dispose()


def test_serve_refuses_emulator_mode_off_loopback_with_exit_code_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "crosstalk.toml"
    config.write_text(ta.MIXED_ORG_TOML)
    monkeypatch.setenv("CROSSTALK_CONFIG", str(config))
    monkeypatch.setenv("CROSSTALK_DATABASE_URL", f"sqlite:///{tmp_path}/crosstalk.db")
    for name in ("MICROSOFT_APP_ID", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "MICROSOFT_APP_ID" in err and "loopback" in err
