"""Signed interactivity requests: message shortcuts, button clicks (``block_actions``),
modal submissions and slash commands, with the fields Slack sends."""

from __future__ import annotations

import secrets

from bot.demo.standins.slack.payloads import (
    ID_CHARS,
    message_object,
    new_block_id,
    new_trigger_id,
    user_object,
)
from bot.demo.standins.slack.signing import (
    DEFAULT_API_APP_ID,
    DEFAULT_BOT_USER_ID,
    DEFAULT_SIGNING_SECRET,
    DEFAULT_VERIFICATION_TOKEN,
    JSONDict,
    SignedRequest,
    now,
    signed_form,
    signed_payload,
)


def message_shortcut(
    team_id: str,
    user: str,
    channel: str,
    message_ts: str,
    message_text: str,
    message_user: str,
    callback_id: str,
    trigger_id: str,
    response_url: str,
    action_ts: str,
    thread_ts: str | None = None,
    *,
    channel_name: str = "general",
    team_domain: str = "acme",
    user_name: str | None = None,
    message_bot_id: str | None = None,
    api_app_id: str = DEFAULT_API_APP_ID,
    secret: str = DEFAULT_SIGNING_SECRET,
    timestamp: int | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
) -> SignedRequest:
    """A message shortcut (``message_action``) run by ``user`` on message ``message_ts``."""
    payload: JSONDict = {
        "type": "message_action",
        "token": DEFAULT_VERIFICATION_TOKEN,
        "action_ts": action_ts,
        "team": {"id": team_id, "domain": team_domain},
        "user": user_object(user, team_id, user_name),
        "channel": {"id": channel, "name": channel_name},
        "is_enterprise_install": False,
        "enterprise": None,
        "api_app_id": api_app_id,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "response_url": response_url,
        "message_ts": message_ts,
        "message": message_object(
            team_id,
            message_user,
            message_text,
            message_ts,
            thread_ts=thread_ts,
            bot_id=message_bot_id,
        ),
    }
    return signed_payload(payload, secret, timestamp, retry_num, retry_reason)


def _bot_message(
    team_id: str,
    bot_user_id: str,
    bot_id: str,
    api_app_id: str,
    ts: str,
    thread_ts: str | None,
) -> JSONDict:
    """The bot's own message (no blocks yet), as a click payload carries it."""
    message: JSONDict = {
        "type": "message",
        "user": bot_user_id,
        "ts": ts,
        "bot_id": bot_id,
        "app_id": api_app_id,
        "text": "",
        "team": team_id,
    }
    if thread_ts is not None:
        message["thread_ts"] = thread_ts
    return message


def block_action(
    team_id: str,
    user: str,
    channel: str,
    message_ts: str,
    action_id: str,
    value: str,
    trigger_id: str,
    response_url: str,
    action_ts: str,
    block_id: str | None = None,
    *,
    message: JSONDict | None = None,
    thread_ts: str | None = None,
    button_text: str = "Button",
    channel_name: str = "general",
    team_domain: str = "acme",
    user_name: str | None = None,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    bot_id: str = "BBOT",
    api_app_id: str = DEFAULT_API_APP_ID,
    secret: str = DEFAULT_SIGNING_SECRET,
    timestamp: int | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
) -> SignedRequest:
    """A button click (``block_actions``) on the bot's message ``message_ts``.

    ``message`` is the clicked message as Slack shows it (e.g. taken from FakeSlack); by
    default a bot message with one actions block holding the button.
    """
    block_id = block_id or new_block_id()
    button: JSONDict = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": button_text, "emoji": True},
        "value": value,
    }
    if message is None:
        message = _bot_message(team_id, bot_user_id, bot_id, api_app_id, message_ts, thread_ts)
        message["blocks"] = [{"type": "actions", "block_id": block_id, "elements": [button]}]
    container: JSONDict = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel,
        "is_ephemeral": False,
    }
    if thread_ts is not None:
        container["thread_ts"] = thread_ts
    payload: JSONDict = {
        "type": "block_actions",
        "user": user_object(user, team_id, user_name),
        "api_app_id": api_app_id,
        "token": DEFAULT_VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": trigger_id,
        "team": {"id": team_id, "domain": team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": channel_name},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [{**button, "block_id": block_id, "action_ts": action_ts}],
    }
    return signed_payload(payload, secret, timestamp, retry_num, retry_reason)


def view_submission(
    team_id: str,
    user: str,
    callback_id: str,
    private_metadata: str,
    state_values: JSONDict,
    view_id: str | None = None,
    trigger_id: str | None = None,
    *,
    blocks: list[JSONDict] | None = None,
    title: str = "Crosstalk",
    hash_: str | None = None,
    response_urls: list[JSONDict] | None = None,
    team_domain: str = "acme",
    user_name: str | None = None,
    bot_id: str = "BBOT",
    api_app_id: str = DEFAULT_API_APP_ID,
    secret: str = DEFAULT_SIGNING_SECRET,
    timestamp: int | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
) -> SignedRequest:
    """A modal submission; ``state_values`` is ``{block_id: {action_id: {type, value...}}}``."""
    view_id = view_id or "V0" + "".join(secrets.choice(ID_CHARS) for _ in range(9))
    payload: JSONDict = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": team_domain},
        "user": user_object(user, team_id, user_name),
        "api_app_id": api_app_id,
        "token": DEFAULT_VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "blocks": blocks or [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": state_values},
            "hash": hash_ or f"{int(now())}.{secrets.token_hex(4)}",
            "title": {"type": "plain_text", "text": title, "emoji": True},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
            "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": api_app_id,
            "external_id": "",
            "app_installed_team_id": team_id,
            "bot_id": bot_id,
        },
        "response_urls": response_urls or [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return signed_payload(payload, secret, timestamp, retry_num, retry_reason)


def slash_command(
    team_id: str,
    user: str,
    channel: str,
    command: str,
    text: str,
    response_url: str,
    trigger_id: str,
    *,
    channel_name: str = "general",
    team_domain: str = "acme",
    user_name: str | None = None,
    api_app_id: str = DEFAULT_API_APP_ID,
    secret: str = DEFAULT_SIGNING_SECRET,
    timestamp: int | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
) -> SignedRequest:
    """A slash command, form-encoded with the same fields Slack sends."""
    fields = {
        "token": DEFAULT_VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel,
        "channel_name": channel_name,
        "user_id": user,
        "user_name": user_name or user.lower(),
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    return signed_form(fields, secret, timestamp, retry_num, retry_reason)
