"""Signed Events API requests: messages (new, edited, deleted), reactions, app mentions and
the ``url_verification`` handshake, shaped as the samples in Slack's docs."""

from __future__ import annotations

from bot.demo.standins.slack.payloads import envelope, message_object, now_ts
from bot.demo.standins.slack.signing import (
    DEFAULT_API_APP_ID,
    DEFAULT_BOT_USER_ID,
    DEFAULT_SIGNING_SECRET,
    DEFAULT_VERIFICATION_TOKEN,
    JSONDict,
    SignedRequest,
    signed_json,
)


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
    event = message_object(
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
    data = envelope(
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
    return signed_json(data, secret, timestamp, retry_num, retry_reason)


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
    event_ts = event_ts or now_ts()
    kwargs: JSONDict = {"thread_ts": thread_ts, "bot_id": bot_id, "user_team": user_team}
    message = message_object(team_id, user, text, ts, **kwargs)
    message["edited"] = {"user": user, "ts": event_ts}
    previous = message_object(team_id, user, previous_text, ts, **kwargs)
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
    data = envelope(
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
    return signed_json(data, secret, timestamp, retry_num, retry_reason)


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
    event_ts = event_ts or now_ts()
    previous = message_object(
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
    data = envelope(
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
    return signed_json(data, secret, timestamp, retry_num, retry_reason)


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
    data = envelope(
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
    return signed_json(data, secret, timestamp, retry_num, retry_reason)


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
    event = message_object(team_id, user, text, ts, thread_ts=thread_ts, user_team=user_team)
    event["type"] = "app_mention"
    event.update(channel=channel, event_ts=ts)
    data = envelope(
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
    return signed_json(data, secret, timestamp, retry_num, retry_reason)


def url_verification(
    challenge: str,
    *,
    secret: str = DEFAULT_SIGNING_SECRET,
    timestamp: int | None = None,
) -> SignedRequest:
    """The ``url_verification`` handshake; the app must echo ``challenge``."""
    data = {"token": DEFAULT_VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
    return signed_json(data, secret, timestamp, None, None)
