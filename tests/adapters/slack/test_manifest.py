"""`crosstalk slack-manifest` prints a manifest that creates the whole app in one step."""

from __future__ import annotations

import json

import pytest

from bot.cli import main


def test_manifest_points_everything_at_the_events_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["slack-manifest", "--url", "https://bot.acme.com/"]) == 0
    data = json.loads(capsys.readouterr().out)
    endpoint = "https://bot.acme.com/slack/events"
    settings = data["settings"]
    assert settings["event_subscriptions"]["request_url"] == endpoint
    assert settings["interactivity"] == {"is_enabled": True, "request_url": endpoint}
    assert set(settings["event_subscriptions"]["bot_events"]) >= {
        "app_mention",
        "message.channels",
        "reaction_added",
    }
    shortcut = data["features"]["shortcuts"][0]
    assert (shortcut["type"], shortcut["callback_id"]) == ("message", "flag_for_stakeholders")
    command = data["features"]["slash_commands"][0]
    assert (command["command"], command["url"]) == ("/roi", endpoint)
    scopes = set(data["oauth_config"]["scopes"]["bot"])
    assert {"chat:write", "reactions:read", "channels:history", "commands", "im:write"} <= scopes
    assert settings["socket_mode_enabled"] is False


def test_socket_mode_manifest_has_no_request_urls(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["slack-manifest", "--url", "https://bot.acme.com", "--socket-mode"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in data["settings"]["event_subscriptions"]
    assert "url" not in data["features"]["slash_commands"][0]


@pytest.mark.parametrize("url", ["http://bot.acme.com", "bot.acme.com", "https://"])
def test_bad_url_gets_a_clear_message(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["slack-manifest", "--url", url]) == 2
    err = capsys.readouterr().err
    assert "--url must be the server's public https address" in err
    assert "Traceback" not in err


def test_the_readme_asks_for_exactly_the_scopes_the_manifest_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What the code calls (DMs and group DMs: im:read, mpim:read, mpim:history; channel
    facts: channels:read, groups:read) is what the manifest and the README ask for."""
    import re
    from pathlib import Path

    assert main(["slack-manifest", "--url", "https://bot.acme.com"]) == 0
    scopes = set(json.loads(capsys.readouterr().out)["oauth_config"]["scopes"]["bot"])
    assert {"im:read", "mpim:read", "mpim:history", "channels:read", "groups:read"} <= scopes
    readme = (Path(__file__).parents[3] / "README.md").read_text(encoding="utf-8")
    listed = readme.split("Bot scopes", 1)[1].split("Events:", 1)[0]
    assert set(re.findall(r"`([a-z_]+(?::[a-z_.]+)?)`", listed)) == scopes
