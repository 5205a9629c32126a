"""Real-shaped, correctly signed inbound Slack requests for ``POST /slack/events``.

Every builder returns ``SignedRequest(body, headers)`` (a 2-tuple, so
``body, headers = event_message(...)`` works) ready to post::

    body, headers = event_message("T0001", "C0BILLING", "U0ANN", "refund please", ts)
    await session.post(f"{server}/slack/events", data=body, headers=headers)

Shapes follow the samples in the Slack API docs and bolt-python's tests. Keyword-only
options shared by the builders:

- ``secret``: the signing secret (default :data:`DEFAULT_SIGNING_SECRET`)
- ``timestamp``: the signing time (default now; Bolt rejects anything over 5 minutes old)
- ``retry_num`` / ``retry_reason``: add ``X-Slack-Retry-Num`` / ``X-Slack-Retry-Reason``
- events also take ``api_app_id``, ``bot_user_id`` (in ``authorizations``),
  ``event_time``, ``is_ext_shared_channel`` and ``enterprise_id``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import string
import time
import uuid
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlencode

__all__ = [
    "DEFAULT_API_APP_ID",
    "DEFAULT_BOT_USER_ID",
    "DEFAULT_SIGNING_SECRET",
    "DEFAULT_VERIFICATION_TOKEN",
    "SignedRequest",
    "block_action",
    "event_app_mention",
    "event_message",
    "event_message_changed",
    "event_message_deleted",
    "event_reaction_added",
    "message_shortcut",
    "new_event_id",
    "new_trigger_id",
    "rich_text_blocks",
    "sign",
    "slash_command",
    "url_verification",
    "view_submission",
]

DEFAULT_SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DEFAULT_VERIFICATION_TOKEN = "Jhj5dZrVaK7ZwHHjRyZWjbDl"
DEFAULT_API_APP_ID = "A0001"
DEFAULT_BOT_USER_ID = "UBOT"

JSON_CONTENT_TYPE = "application/json"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

JSONDict = dict[str, Any]
_ID_CHARS = string.ascii_uppercase + string.digits


class SignedRequest(NamedTuple):
    body: bytes
    headers: dict[str, str]

    def payload(self) -> JSONDict:
        """The JSON object carried by the body (event envelope, ``payload=`` or form fields)."""
        text = self.body.decode()
        if text.startswith("{"):
            parsed: JSONDict = json.loads(text)
            return parsed
        fields = {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
        if set(fields) == {"payload"}:
            inner: JSONDict = json.loads(fields["payload"])
            return inner
        return dict(fields)


# ---------------------------------------------------------------------------- signing


def sign(
    secret: str,
    body: bytes,
    timestamp: int | None = None,
    *,
    content_type: str | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
) -> dict[str, str]:
    """Headers that make ``body`` a valid Slack request.

    ``X-Slack-Signature = "v0=" + hex(HMAC-SHA256(secret, "v0:{ts}:{body}"))``. Content-Type
    is JSON when the body is a JSON object, form-encoded otherwise, unless given.
    """
    ts = int(time.time()) if timestamp is None else int(timestamp)
    base = b"v0:" + str(ts).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if content_type is None:
        content_type = JSON_CONTENT_TYPE if body.lstrip().startswith(b"{") else FORM_CONTENT_TYPE
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": f"v0={digest}",
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
    elif retry_reason is not None:
        headers["X-Slack-Retry-Reason"] = retry_reason
    return headers


def _signed_json(
    data: JSONDict,
    secret: str,
    timestamp: int | None,
    retry_num: int | None,
    retry_reason: str | None,
) -> SignedRequest:
    body = json.dumps(data).encode()
    return SignedRequest(
        body,
        sign(
            secret,
            body,
            timestamp,
            content_type=JSON_CONTENT_TYPE,
            retry_num=retry_num,
            retry_reason=retry_reason,
        ),
    )


def _signed_form(
    fields: dict[str, str],
    secret: str,
    timestamp: int | None,
    retry_num: int | None,
    retry_reason: str | None,
) -> SignedRequest:
    body = urlencode(fields).encode()
    return SignedRequest(
        body,
        sign(
            secret,
            body,
            timestamp,
            content_type=FORM_CONTENT_TYPE,
            retry_num=retry_num,
            retry_reason=retry_reason,
        ),
    )


def _signed_payload(
    payload: JSONDict,
    secret: str,
    timestamp: int | None,
    retry_num: int | None,
    retry_reason: str | None,
) -> SignedRequest:
    return _signed_form(
        {"payload": json.dumps(payload)}, secret, timestamp, retry_num, retry_reason
    )


# ---------------------------------------------------------------------------- ids and blocks


def new_event_id() -> str:
    """An Events API id such as ``Ev0A1B2C3D4E``."""
    return "Ev0" + "".join(secrets.choice(_ID_CHARS) for _ in range(9))


def new_trigger_id() -> str:
    """A trigger id shaped like Slack's ``"1234567890123.1234567890.abcdef..."``."""
    return (
        f"{secrets.randbelow(10**13):013d}.{secrets.randbelow(10**10):010d}.{secrets.token_hex(16)}"
    )


def _now_ts() -> str:
    return f"{time.time():.6f}"


def _block_id() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(5))


_MENTION = re.compile(r"<(@[UW][A-Z0-9]+|#C[A-Z0-9]+)(?:\|[^>]*)?>")


def rich_text_blocks(text: str) -> list[JSONDict]:
    """The ``rich_text`` block Slack attaches to a user's message (mentions as elements)."""
    elements: list[JSONDict] = []
    pos = 0
    for match in _MENTION.finditer(text):
        if match.start() > pos:
            elements.append({"type": "text", "text": text[pos : match.start()]})
        ref = match.group(1)
        if ref.startswith("@"):
            elements.append({"type": "user", "user_id": ref[1:]})
        else:
            elements.append({"type": "channel", "channel_id": ref[1:]})
        pos = match.end()
    if pos < len(text):
        elements.append({"type": "text", "text": text[pos:]})
    return [
        {
            "type": "rich_text",
            "block_id": _block_id(),
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]


def _event_context(team_id: str, api_app_id: str, channel: str | None, event_type: str) -> str:
    data = {"et": event_type, "tid": team_id, "aid": api_app_id, "cid": channel}
    encoded = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    return "4-" + encoded.decode().rstrip("=")


def _envelope(
    team_id: str,
    event: JSONDict,
    *,
    event_id: str | None,
    event_time: int | None,
    api_app_id: str,
    bot_user_id: str,
    is_ext_shared_channel: bool,
    enterprise_id: str | None,
    channel: str | None,
) -> JSONDict:
    return {
        "token": DEFAULT_VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": enterprise_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or new_event_id(),
        "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": [
            {
                "enterprise_id": enterprise_id,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": is_ext_shared_channel,
        "event_context": _event_context(team_id, api_app_id, channel, event["type"]),
    }


def _message_object(
    team_id: str,
    user: str,
    text: str,
    ts: str,
    *,
    thread_ts: str | None = None,
    parent_user_id: str | None = None,
    bot_id: str | None = None,
    user_team: str | None = None,
    blocks: list[JSONDict] | None = None,
) -> JSONDict:
    """A message as Slack shows it inside events and interaction payloads."""
    message: JSONDict = {"type": "message", "text": text, "user": user, "ts": ts}
    if bot_id is None:
        message["client_msg_id"] = str(uuid.uuid4())
        message["blocks"] = blocks if blocks is not None else rich_text_blocks(text)
    else:
        message["bot_id"] = bot_id
        message["app_id"] = "A" + bot_id[1:]
        message["bot_profile"] = {
            "id": bot_id,
            "deleted": False,
            "name": "other-app",
            "updated": int(float(ts)),
            "app_id": "A" + bot_id[1:],
            "icons": {"image_36": "https://a.slack-edge.com/img/bot_36.png"},
            "team_id": user_team or team_id,
        }
        if blocks is not None:
            message["blocks"] = blocks
    message["team"] = user_team or team_id
    if user_team is not None and user_team != team_id:
        message["user_team"] = user_team
        message["source_team"] = user_team
    if thread_ts is not None and thread_ts != ts:
        message["thread_ts"] = thread_ts
        if parent_user_id is not None:
            message["parent_user_id"] = parent_user_id
    return message


# ---------------------------------------------------------------------------- events


def event_message(
    team_id: str,
    channel: str,
    user: str,
    text: str,
    ts: str,
    thread_ts: str | None = None,
    bot_id: str | None = None,
    subtype: str | None = None,
    channel_type: str = "channel",
    event_id: str | None = None,
    *,
    parent_user_id: str | None = None,
    user_team: str | None = None,
    blocks: list[JSONDict] | None = None,
    files: list[JSONDict] | None = None,
    event_time: int | None = None,
    api_app_id: str = DEFAULT_API_APP_ID,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    is_ext_shared_channel: bool = False,
    enterprise_id: str | None = None,
    secret: str = DEFAULT_SIGNING_SECRET,
    timestamp: int | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
) -> SignedRequest:
    """A ``message`` event. ``bot_id`` makes it another app's bot message (no subtype);
    ``thread_ts`` makes it a thread reply; ``user_team`` a message from another org
    in a shared channel."""
    event = _message_object(
        team_id,
        user,
        text,
        ts,
        thread_ts=thread_ts,
        parent_user_id=parent_user_id,
        bot_id=bot_id,
        user_team=user_team,
        blocks=blocks,
    )
    if subtype is not None:
        event["subtype"] = subtype
        event.pop("client_msg_id", None)
    if files is not None:
        event["files"] = files
        event["upload"] = False
    event.update(channel=channel, event_ts=ts, channel_type=channel_type)
    envelope = _envelope(
        team_id,
        event,
        event_id=event_id,
        event_time=event_time,
        api_app_id=api_app_id,
        bot_user_id=bot_user_id,
        is_ext_shared_channel=is_ext_shared_channel,
        enterprise_id=enterprise_id,
        channel=channel,
    )
    return _signed_json(envelope, secret, timestamp, retry_num, retry_reason)


def event_message_changed(
    team_id: str,
    channel: str,
    user: str,
    ts: str,
    text: str,
    previous_text: str,
    thread_ts: str | None = None,
    event_ts: str | None = None,
    event_id: str | None = None,
    channel_type: str = "channel",
    *,
    bot_id: str | None = None,
    user_team: str | None = None,
    event_time: int | None = None,
    api_app_id: str = DEFAULT_API_APP_ID,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    is_ext_shared_channel: bool = False,
    enterprise_id: str | None = None,
    secret: str = DEFAULT_SIGNING_SECRET,
    timestamp: int | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
) -> SignedRequest:
    """A ``message_changed`` event: message ``ts`` edited from ``previous_text`` to ``text``."""
    event_ts = event_ts or _now_ts()
    kwargs: JSONDict = {"thread_ts": thread_ts, "bot_id": bot_id, "user_team": user_team}
    message = _message_object(team_id, user, text, ts, **kwargs)
    message["edited"] = {"user": user, "ts": event_ts}
    previous = _message_object(team_id, user, previous_text, ts, **kwargs)
    event: JSONDict = {
        "type": "message",
        "subtype": "message_changed",
        "message": message,
        "previous_message": previous,
        "channel": channel,
        "hidden": True,
        "ts": event_ts,
        "event_ts": event_ts,
        "channel_type": channel_type,
    }
    envelope = _envelope(
        team_id,
        event,
        event_id=event_id,
        event_time=event_time,
        api_app_id=api_app_id,
        bot_user_id=bot_user_id,
        is_ext_shared_channel=is_ext_shared_channel,
        enterprise_id=enterprise_id,
        channel=channel,
    )
    return _signed_json(envelope, secret, timestamp, retry_num, retry_reason)


def event_message_deleted(
    team_id: str,
    channel: str,
    user: str,
    deleted_ts: str,
    previous_text: str,
    thread_ts: str | None = None,
    event_ts: str | None = None,
    event_id: str | None = None,
    channel_type: str = "channel",
    *,
    bot_id: str | None = None,
    event_time: int | None = None,
    api_app_id: str = DEFAULT_API_APP_ID,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    is_ext_shared_channel: bool = False,
    enterprise_id: str | None = None,
    secret: str = DEFAULT_SIGNING_SECRET,
    timestamp: int | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
) -> SignedRequest:
    """A ``message_deleted`` event for the message ``deleted_ts`` written by ``user``."""
    event_ts = event_ts or _now_ts()
    previous = _message_object(
        team_id, user, previous_text, deleted_ts, thread_ts=thread_ts, bot_id=bot_id
    )
    event: JSONDict = {
        "type": "message",
        "subtype": "message_deleted",
        "previous_message": previous,
        "channel": channel,
        "hidden": True,
        "deleted_ts": deleted_ts,
        "event_ts": event_ts,
        "ts": event_ts,
        "channel_type": channel_type,
    }
    envelope = _envelope(
        team_id,
        event,
        event_id=event_id,
        event_time=event_time,
        api_app_id=api_app_id,
        bot_user_id=bot_user_id,
        is_ext_shared_channel=is_ext_shared_channel,
        enterprise_id=enterprise_id,
        channel=channel,
    )
    return _signed_json(envelope, secret, timestamp, retry_num, retry_reason)


def event_reaction_added(
    team_id: str,
    user: str,
    reaction: str,
    channel: str,
    item_ts: str,
    item_user: str,
    event_ts: str,
    event_id: str | None = None,
    *,
    event_time: int | None = None,
    api_app_id: str = DEFAULT_API_APP_ID,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    is_ext_shared_channel: bool = False,
    enterprise_id: str | None = None,
    secret: str = DEFAULT_SIGNING_SECRET,
    timestamp: int | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
) -> SignedRequest:
    """A ``reaction_added`` event on message ``item_ts`` (by ``item_user``) in ``channel``."""
    event: JSONDict = {
        "type": "reaction_added",
        "user": user,
        "reaction": reaction.strip(":"),
        "item": {"type": "message", "channel": channel, "ts": item_ts},
        "item_user": item_user,
        "event_ts": event_ts,
    }
    envelope = _envelope(
        team_id,
        event,
        event_id=event_id,
        event_time=event_time,
        api_app_id=api_app_id,
        bot_user_id=bot_user_id,
        is_ext_shared_channel=is_ext_shared_channel,
        enterprise_id=enterprise_id,
        channel=channel,
    )
    return _signed_json(envelope, secret, timestamp, retry_num, retry_reason)


def event_app_mention(
    team_id: str,
    channel: str,
    user: str,
    text: str,
    ts: str,
    thread_ts: str | None = None,
    event_id: str | None = None,
    *,
    user_team: str | None = None,
    event_time: int | None = None,
    api_app_id: str = DEFAULT_API_APP_ID,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    is_ext_shared_channel: bool = False,
    enterprise_id: str | None = None,
    secret: str = DEFAULT_SIGNING_SECRET,
    timestamp: int | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
) -> SignedRequest:
    """An ``app_mention`` event; ``text`` is what the user typed, e.g. ``"<@UBOT> flag"``."""
    event = _message_object(team_id, user, text, ts, thread_ts=thread_ts, user_team=user_team)
    event["type"] = "app_mention"
    event.update(channel=channel, event_ts=ts)
    envelope = _envelope(
        team_id,
        event,
        event_id=event_id,
        event_time=event_time,
        api_app_id=api_app_id,
        bot_user_id=bot_user_id,
        is_ext_shared_channel=is_ext_shared_channel,
        enterprise_id=enterprise_id,
        channel=channel,
    )
    return _signed_json(envelope, secret, timestamp, retry_num, retry_reason)


def url_verification(
    challenge: str,
    *,
    secret: str = DEFAULT_SIGNING_SECRET,
    timestamp: int | None = None,
) -> SignedRequest:
    """The ``url_verification`` handshake; the app must echo ``challenge``."""
    data = {"token": DEFAULT_VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
    return _signed_json(data, secret, timestamp, None, None)


# ---------------------------------------------------------------------------- interactivity


def _user(user: str, team_id: str, user_name: str | None) -> JSONDict:
    name = user_name or user.lower()
    return {"id": user, "username": name, "name": name, "team_id": team_id}


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
        "user": _user(user, team_id, user_name),
        "channel": {"id": channel, "name": channel_name},
        "is_enterprise_install": False,
        "enterprise": None,
        "api_app_id": api_app_id,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "response_url": response_url,
        "message_ts": message_ts,
        "message": _message_object(
            team_id,
            message_user,
            message_text,
            message_ts,
            thread_ts=thread_ts,
            bot_id=message_bot_id,
        ),
    }
    return _signed_payload(payload, secret, timestamp, retry_num, retry_reason)


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
    block_id = block_id or _block_id()
    if message is None:
        message = {
            "type": "message",
            "user": bot_user_id,
            "ts": message_ts,
            "bot_id": bot_id,
            "app_id": api_app_id,
            "text": "",
            "team": team_id,
            "blocks": [
                {
                    "type": "actions",
                    "block_id": block_id,
                    "elements": [
                        {
                            "type": "button",
                            "action_id": action_id,
                            "text": {"type": "plain_text", "text": button_text, "emoji": True},
                            "value": value,
                        }
                    ],
                }
            ],
        }
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
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
        "user": _user(user, team_id, user_name),
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
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": button_text, "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": action_ts,
            }
        ],
    }
    return _signed_payload(payload, secret, timestamp, retry_num, retry_reason)


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
    view_id = view_id or "V0" + "".join(secrets.choice(_ID_CHARS) for _ in range(9))
    payload: JSONDict = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": team_domain},
        "user": _user(user, team_id, user_name),
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
            "hash": hash_ or f"{int(time.time())}.{secrets.token_hex(4)}",
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
    return _signed_payload(payload, secret, timestamp, retry_num, retry_reason)


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
    return _signed_form(fields, secret, timestamp, retry_num, retry_reason)
