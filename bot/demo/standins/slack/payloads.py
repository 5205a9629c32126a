"""The pieces inbound Slack payloads are made of: ids shaped as Slack makes them, the
``rich_text`` block of a user's message, a message as events and interactions show it,
and the Events API envelope."""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
import uuid

from bot.demo.standins.slack.signing import DEFAULT_VERIFICATION_TOKEN, JSONDict, now

ID_CHARS = string.ascii_uppercase + string.digits


def new_event_id() -> str:
    """An Events API id such as ``Ev0A1B2C3D4E``."""
    return "Ev0" + "".join(secrets.choice(ID_CHARS) for _ in range(9))


def new_trigger_id() -> str:
    """A trigger id shaped like Slack's ``"1234567890123.1234567890.abcdef..."``."""
    return (
        f"{secrets.randbelow(10**13):013d}.{secrets.randbelow(10**10):010d}.{secrets.token_hex(16)}"
    )


def now_ts() -> str:
    """A Slack ``ts`` for "now" on the signing clock."""
    return f"{now():.6f}"


def new_block_id() -> str:
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
            "block_id": new_block_id(),
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]


def event_context(team_id: str, api_app_id: str, channel: str | None, event_type: str) -> str:
    data = {"et": event_type, "tid": team_id, "aid": api_app_id, "cid": channel}
    encoded = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    return "4-" + encoded.decode().rstrip("=")


def envelope(
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
        "event_time": int(now()) if event_time is None else event_time,
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
        "event_context": event_context(team_id, api_app_id, channel, event["type"]),
    }


def message_object(
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


def user_object(user: str, team_id: str, user_name: str | None) -> JSONDict:
    name = user_name or user.lower()
    return {"id": user, "username": name, "name": name, "team_id": team_id}
