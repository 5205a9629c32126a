"""The Slack app manifest: paste it at api.slack.com/apps -> "From a manifest" and the app
exists in one step, with every event, the shortcut, the slash command and the scopes."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

BOT_SCOPES = [
    "app_mentions:read",
    "channels:history",
    "channels:read",
    "chat:write",
    "commands",
    "files:write",
    "groups:history",
    "groups:read",
    "im:history",  # the flagger's DM: an earlier notice found by its marker; flags in DMs
    "im:read",  # conversations.info of a DM (is it private?)
    "im:write",
    "mpim:history",  # flags in group DMs
    "mpim:read",
    "reactions:read",
    "usergroups:read",
    "users:read",
    "users:read.email",  # names in the config: a person given by e-mail (users.lookupByEmail)
]
BOT_EVENTS = [
    "app_home_opened",  # each person's App Home, published when they open it
    "app_mention",
    "message.channels",
    "message.groups",
    "reaction_added",
]


def manifest(url: str, *, name: str = "Crosstalk", socket_mode: bool = False) -> dict[str, Any]:
    parsed = urlparse(url)
    if parsed.scheme != "https" or not parsed.netloc:
        raise ValueError(f"--url must be the server's public https address, got {url!r}")
    endpoint = f"https://{parsed.netloc}{parsed.path.rstrip('/')}/slack/events"
    settings: dict[str, Any] = {
        "event_subscriptions": {"bot_events": BOT_EVENTS},
        "interactivity": {"is_enabled": True},
        "org_deploy_enabled": False,
        "socket_mode_enabled": socket_mode,
        "token_rotation_enabled": False,
    }
    command: dict[str, Any] = {
        "command": "/roi",
        "description": "What listening to customers is worth (managers)",
        "usage_hint": "[7d|30d|90d|quarter|2026-Q3|2026-10-01..2026-10-31] [team]",
        "should_escape": False,
    }
    if not socket_mode:
        settings["event_subscriptions"]["request_url"] = endpoint
        settings["interactivity"]["request_url"] = endpoint
        command["url"] = endpoint
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "Flag customer conversations; every team that can act hears them.",
            "background_color": "#1d3557",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,  # dashboard links and notices come by DM
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": name.lower(), "always_online": True},
            "shortcuts": [
                {
                    "name": "Flag for stakeholders",
                    "type": "message",
                    "callback_id": "flag_for_stakeholders",
                    "description": "Send this customer conversation to the teams it concerns",
                }
            ],
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": BOT_SCOPES}},
        "settings": settings,
    }


def manifest_json(url: str, *, socket_mode: bool = False) -> str:
    return json.dumps(manifest(url, socket_mode=socket_mode), indent=2)
