"""Teams activities (Bot Framework JSON) -> neutral events. Pure functions over the
activity as Teams sends it, tested with the documented shapes.

Ids: a channel is its conversation id without the thread suffix (`19:…@thread.tacv2`);
a message is its activity id; a thread is `;messageid=<root>` on the conversation id. A
person is their Entra (AAD) object id, `from.aadObjectId`, the id the config lists.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

from bot.core.events import (
    OUTCOME_KINDS,
    CardAction,
    Command,
    FlagRequest,
    IncomingMessage,
    InterpretationForm,
    Malformed,
    OutcomeForm,
    OutcomeKind,
    RatingGiven,
)
from bot.core.refs import ChannelRef, MessageRef, Platform, UserRef, WorkspaceRef
from bot.handlers.outcomes import parse_amount

T = Platform.TEAMS
Activity = dict[str, Any]
ACTIONS: dict[str, Literal["acknowledge", "not_for_us", "resolve"]] = {
    "ct_ack": "acknowledge",
    "ct_not_for_us": "not_for_us",
    "ct_resolve": "resolve",
}
FLAG_COMMAND = "flagForStakeholders"
RATE = re.compile(r"^ct_rate_([1-5])$")
_TAG = re.compile(r"<[^>]+>")
_AT = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_BREAKS = re.compile(r"<\s*(br|/p|/div)\s*/?>", re.IGNORECASE)


@dataclass(frozen=True)
class Place:
    """Where an activity happened."""

    tenant_id: str | None
    service_url: str
    conversation_id: str
    channel_id: str | None  # None outside team channels (personal and group chats)
    thread_id: str | None  # the root message of the thread, when in one
    team_id: str | None
    team_name: str | None
    aad_group_id: str | None
    channel_name: str | None
    membership_type: str | None


def split_conversation(conversation_id: str) -> tuple[str, str | None]:
    """`19:x@thread.tacv2;messageid=17` -> (`19:x@thread.tacv2`, `17`)."""
    base, sep, rest = conversation_id.partition(";messageid=")
    return base, (rest or None) if sep else None


def tenant_of(activity: Activity) -> str | None:
    data = activity.get("channelData") or {}
    tenant = (data.get("tenant") or {}).get("id") or (activity.get("conversation") or {}).get(
        "tenantId"
    )
    return str(tenant) if tenant else None


def _name(value: object) -> str | None:
    """An id or a name from an activity: a string or nothing; anything else is Malformed
    (it would otherwise reach the database as a list)."""
    if value is None or isinstance(value, str):
        return value
    raise Malformed(f"expected a string, got a {type(value).__name__}")


def _submission_id(activity: Activity, data: dict[str, Any]) -> str:
    """Teams gives a dialog's submission no id of its own: the same answers from the same
    person on the same card are one submission (a double press records one outcome)."""
    answers = json.dumps(data, sort_keys=True, default=str)
    who = (activity.get("from") or {}).get("aadObjectId") or (activity.get("from") or {}).get("id")
    digest = hashlib.sha256(f"{who}|{activity.get('replyToId')}|{answers}".encode()).hexdigest()
    return digest[:32]


def place(activity: Activity) -> Place:
    data = activity.get("channelData") or {}
    conversation = activity.get("conversation") or {}
    base, thread = split_conversation(str(conversation.get("id", "")))
    team = data.get("team") or {}
    channel = data.get("channel") or {}
    in_channel = conversation.get("conversationType") == "channel" or bool(channel.get("id"))
    # channelData.channel names the conversation's channel, except on channelCreated.
    own = channel if channel.get("id") in (None, base) else {}
    return Place(
        tenant_id=tenant_of(activity),
        service_url=str(activity.get("serviceUrl", "")),
        conversation_id=str(conversation.get("id", "")),
        channel_id=base if in_channel and base else None,
        thread_id=thread,
        team_id=_name(team.get("id")),
        team_name=_name(team.get("name")),
        aad_group_id=_name(team.get("aadGroupId")),
        channel_name=_name(own.get("name")),
        membership_type=_name(own.get("membershipType")),
    )


def timestamp(activity: Activity) -> datetime:
    raw = activity.get("timestamp")
    if not raw:
        return datetime.now(UTC)
    at = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _person(raw: dict[str, Any]) -> UserRef:
    user_id = raw.get("aadObjectId") or raw.get("id") or ""
    is_bot = raw.get("role") == "bot" or str(raw.get("id", "")).startswith("28:")
    return UserRef(T, str(user_id), is_bot=is_bot)


def sender(activity: Activity) -> UserRef:
    return _person(activity.get("from") or {})


def _ws(activity: Activity) -> WorkspaceRef:
    return WorkspaceRef(T, tenant_of(activity) or "")


def html_to_text(content: str) -> str:
    """Teams message HTML as the plain text a person reads (mentions keep their name)."""
    text = _AT.sub(r"\1", content)
    text = _BREAKS.sub("\n", text)
    text = html.unescape(_TAG.sub("", text))
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def bot_mentioned(activity: Activity) -> bool:
    bot = (activity.get("recipient") or {}).get("id")
    return any(
        e.get("type") == "mention" and (e.get("mentioned") or {}).get("id") == bot
        for e in activity.get("entities") or []
    )


def command_words(activity: Activity) -> list[str]:
    """The words after the bot's mention: `<at>Crosstalk</at> roi 30d` -> [roi, 30d]."""
    text = str(activity.get("text") or "")
    bot = (activity.get("recipient") or {}).get("id")
    for entity in activity.get("entities") or []:
        if entity.get("type") == "mention" and (entity.get("mentioned") or {}).get("id") == bot:
            text = text.replace(str(entity.get("text", "")), " ")
    return html_to_text(text).lower().split()


def _message_ref(where: Place, message_id: str, reply_to: str | None = None) -> MessageRef:
    assert where.channel_id is not None
    root = where.thread_id or reply_to
    return MessageRef(
        ChannelRef(T, where.channel_id), message_id, root if root != message_id else None
    )


def message_event(activity: Activity) -> IncomingMessage | None:
    """A reply, edit or deletion in a channel thread; None for anything else."""
    kind = activity.get("type")
    change = {"message": "new", "messageUpdate": "edited", "messageDelete": "deleted"}.get(
        str(kind)
    )
    if change == "edited" and (activity.get("channelData") or {}).get("eventType") == (
        "undeleteMessage"
    ):
        change = "restored"  # Teams lets its author bring a deleted reply back
    where = place(activity)
    if change is None or where.channel_id is None or not activity.get("id"):
        return None
    message = _message_ref(where, str(activity["id"]), activity.get("replyToId"))
    if message.thread_id is None:
        return None
    return IncomingMessage(
        workspace=_ws(activity),
        message=message,
        author=sender(activity),
        text=html_to_text(str(activity.get("text") or "")),
        at=timestamp(activity),
        change=cast(Literal["new", "edited", "deleted", "restored"], change),
    )


def mention_event(activity: Activity) -> FlagRequest | Command | None:
    """`@Crosstalk flag` in a reply flags the thread's root; other words are commands."""
    words = command_words(activity)
    where = place(activity)
    user = sender(activity)
    channel = ChannelRef(T, where.channel_id or where.conversation_id)
    if not words:
        return Command(workspace=_ws(activity), user=user, channel=channel, name="help")
    if words[0] == "flag":
        message_id = str(activity.get("id", ""))
        root = where.thread_id or activity.get("replyToId")
        if where.channel_id is None or not root or root == message_id:
            return Command(workspace=_ws(activity), user=user, channel=channel, name="flag-help")
        return FlagRequest(
            workspace=_ws(activity),
            message=MessageRef(ChannelRef(T, where.channel_id), str(root)),
            flagger=user,
            at=timestamp(activity),
            via="mention",
        )
    return Command(
        workspace=_ws(activity), user=user, channel=channel, name=words[0], args=tuple(words[1:])
    )


def payload_message(activity: Activity) -> tuple[MessageRef, str, UserRef | None] | None:
    """The message a message action was used on: its reference, text and author."""
    payload = (activity.get("value") or {}).get("messagePayload") or {}
    where = place(activity)
    if not payload.get("id") or where.channel_id is None:
        return None
    message = _message_ref(where, str(payload["id"]), payload.get("replyToId"))
    body = payload.get("body") or {}
    content = str(body.get("content") or "")
    text = html_to_text(content) if body.get("contentType") == "html" else content.strip()
    author_raw = payload.get("from") or {}
    author: UserRef | None = None
    if author_raw.get("user"):
        author = UserRef(T, str(author_raw["user"].get("id", "")))
    elif author_raw.get("application"):
        author = UserRef(T, str(author_raw["application"].get("id", "")), is_bot=True)
    return message, text, author


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value.strip() or None if isinstance(value, str) else None


def flag_submission(activity: Activity) -> FlagRequest | None:
    """composeExtension/submitAction of "Flag for stakeholders": the form's answers."""
    value = activity.get("value") or {}
    if value.get("commandId") != FLAG_COMMAND:
        return None
    target = payload_message(activity)
    if target is None:
        return None
    message, text, author = target
    data = value.get("data") or {}
    chosen = tuple(t.strip() for t in str(data.get("teams") or "").split(",") if t.strip())
    return FlagRequest(
        workspace=_ws(activity),
        message=message,
        flagger=sender(activity),
        at=timestamp(activity),
        via="action",
        text=text,
        author=author,
        teams=chosen or None,  # no choice: route by the rules
        customer=_text(data, "customer"),
        note=_text(data, "note"),
        message_at=_created_at(activity),
    )


def _created_at(activity: Activity) -> datetime | None:
    """The flagged message's own time (`messagePayload.createdDateTime`), when it is one."""
    raw = ((activity.get("value") or {}).get("messagePayload") or {}).get("createdDateTime")
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return timestamp({"timestamp": raw})
    except ValueError:
        return None  # an unreadable time only costs the time-to-flag figure


def _action_data(activity: Activity) -> tuple[str, dict[str, Any]] | None:
    value = activity.get("value") or {}
    if activity.get("type") == "invoke" and activity.get("name") == "adaptiveCard/action":
        action = value.get("action") or {}
        return str(action.get("verb", "")), dict(action.get("data") or {})
    if activity.get("type") == "message" and isinstance(value, dict) and value.get("ct"):
        return str(value["ct"]), value  # Action.Submit from a client without Action.Execute
    return None


def card_action(activity: Activity) -> CardAction | None:
    """A button on a broadcast card (Action.Execute, or Action.Submit on older clients)."""
    found = _action_data(activity)
    if found is None:
        return None
    verb, data = found
    kind = ACTIONS.get(verb)
    value = str(data.get("value", ""))
    if kind is None or not value.isdigit():
        return None
    return CardAction(
        workspace=_ws(activity),
        user=sender(activity),
        broadcast_id=int(value),
        action=kind,
        at=timestamp(activity),
    )


def task_data(activity: Activity) -> dict[str, Any]:
    """The data of a task/fetch or task/submit invoke (the button's data plus inputs)."""
    data = (activity.get("value") or {}).get("data") or {}
    return dict(data) if isinstance(data, dict) else {}


def button(activity: Activity) -> tuple[str, int] | None:
    """The button behind a card action or dialog invoke: (action id, its numeric value)."""
    found = _action_data(activity)
    verb, data = found if found is not None else ("", task_data(activity))
    verb = verb or str(data.get("ct", ""))
    value = str(data.get("value", ""))
    return (verb, int(value)) if verb and value.isdigit() else None


def rating(activity: Activity) -> RatingGiven | None:
    """A 1-5 press on the notice (`ct_rate_4`, value = the flag id)."""
    found = button(activity)
    match = RATE.match(found[0]) if found else None
    if found is None or match is None:
        return None
    return RatingGiven(
        workspace=_ws(activity),
        user=sender(activity),
        flag_id=found[1],
        score=int(match.group(1)),
        at=timestamp(activity),
    )


def interpretation_submission(activity: Activity) -> InterpretationForm | None:
    data = task_data(activity)
    value = str(data.get("value", ""))
    if data.get("ct") != "ct_interpret" or not value.isdigit():
        return None
    impact = data.get("impact")
    owner = _text(data, "owner")
    return InterpretationForm(
        workspace=_ws(activity),
        user=sender(activity),
        broadcast_id=int(value),
        text=_text(data, "interpretation") or "",
        impact=cast(Literal["low", "medium", "high"], impact)
        if impact in ("low", "medium", "high")
        else None,
        action=_text(data, "action"),
        owner=UserRef(T, owner) if owner else None,
        at=timestamp(activity),
    )


def bot_added(activity: Activity) -> bool:
    """The bot itself was added (to a team, a chat): the moment to keep a reference."""
    if activity.get("type") == "installationUpdate":
        return activity.get("action") in ("add", "add-upgrade")
    bot = (activity.get("recipient") or {}).get("id")
    added = activity.get("membersAdded") or []
    return activity.get("type") == "conversationUpdate" and any(m.get("id") == bot for m in added)


def dedupe_key(activity: Activity) -> str:
    """`teams:{activity id}`, scoped by conversation: Teams message ids are timestamps,
    unique within a channel only; an edit reuses its message's id, so it adds its time."""
    base, _ = split_conversation(str((activity.get("conversation") or {}).get("id", "")))
    key = f"teams:{base}:{activity.get('id')}"
    if activity.get("type") in ("messageUpdate", "messageDelete"):
        key += f":{activity.get('type')}:{activity.get('timestamp')}"
    return key


CURRENCY = re.compile(r"^[A-Za-z]{3}$")


def outcome_submission(activity: Activity, default_currency: str) -> OutcomeForm | dict[str, str]:
    """The submitted "Record outcome" dialog, or the field errors to show in it again."""
    data = task_data(activity)
    errors: dict[str, str] = {}
    kind = data.get("kind")
    if kind not in OUTCOME_KINDS:
        errors["kind"] = "Choose what kind of outcome this is."
    amount = parse_amount(_text(data, "amount"))
    if amount is None:
        errors["amount"] = "Enter a number of 0 or more, like 12000 or 99.50."
    currency = _text(data, "currency") or default_currency
    if not CURRENCY.match(currency):
        errors["currency"] = "Use a three-letter currency code, like USD."
    value = str(data.get("value", ""))
    if not value.isdigit():
        errors["value"] = "This card is no longer known to Crosstalk."
    if errors or amount is None:
        return errors
    return OutcomeForm(
        workspace=_ws(activity),
        user=sender(activity),
        broadcast_id=int(value),
        kind=cast(OutcomeKind, kind),
        amount=amount,
        currency=currency.upper(),
        crm_ref=_text(data, "crm_ref"),
        note=_text(data, "note"),
        at=timestamp(activity),
        form_id=_submission_id(activity, data),
    )
