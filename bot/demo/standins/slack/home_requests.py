"""Signed App Home requests: the ``app_home_opened`` event and a button pressed in a
published home view (``block_actions`` whose container is the view; no response_url, no
channel), shaped as in Slack's docs."""

from __future__ import annotations

from bot.demo.standins.slack.payloads import envelope, new_trigger_id, user_object
from bot.demo.standins.slack.signing import (
    DEFAULT_API_APP_ID,
    DEFAULT_BOT_USER_ID,
    DEFAULT_SIGNING_SECRET,
    DEFAULT_VERIFICATION_TOKEN,
    JSONDict,
    SignedRequest,
    signed_json,
    signed_payload,
)


def event_app_home_opened(
    team_id: str,
    user: str,
    event_ts: str,
    *,
    tab: str = "home",
    view: JSONDict | None = None,
    channel: str = "D0HOME",
    event_id: str | None = None,
    api_app_id: str = DEFAULT_API_APP_ID,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    secret: str = DEFAULT_SIGNING_SECRET,
    timestamp: int | None = None,
) -> SignedRequest:
    """``user`` opened the app's ``tab`` ("home" or "messages"); ``view``: the home view
    they were last shown (Slack includes it once one was published)."""
    event: JSONDict = {
        "type": "app_home_opened",
        "user": user,
        "channel": channel,
        "tab": tab,
        "event_ts": event_ts,
    }
    if view is not None:
        event["view"] = view
    data = envelope(
        team_id,
        event,
        event_id=event_id,
        event_time=None,
        api_app_id=api_app_id,
        bot_user_id=bot_user_id,
        is_ext_shared_channel=False,
        enterprise_id=None,
        channel=channel,
    )
    return signed_json(data, secret, timestamp, None, None)


def home_block_action(
    team_id: str,
    user: str,
    view: JSONDict,
    action_id: str,
    value: str,
    action_ts: str,
    *,
    block_id: str = "home",
    api_app_id: str = DEFAULT_API_APP_ID,
    secret: str = DEFAULT_SIGNING_SECRET,
    timestamp: int | None = None,
) -> SignedRequest:
    """A button press in the home view ``view`` (as FakeSlack stored it)."""
    payload: JSONDict = {
        "type": "block_actions",
        "user": user_object(user, team_id, None),
        "api_app_id": api_app_id,
        "token": DEFAULT_VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": new_trigger_id(),
        "team": {"id": team_id, "domain": "acme"},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": view,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "text": {"type": "plain_text", "text": "Button", "emoji": True},
                "action_ts": action_ts,
            }
        ],
    }
    return signed_payload(payload, secret, timestamp, None, None)
