"""Slack payloads -> neutral events. Pure functions, tested with recorded payload shapes."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, ParamSpec, TypeVar, cast

from bot.core.clock import from_epoch
from bot.core.events import (
    BAD_INPUT,
    OUTCOME_KINDS,
    CardAction,
    Command,
    FlagRequest,
    HomeOpened,
    IncomingMessage,
    InterpretationForm,
    Malformed,
    OutcomeForm,
    OutcomeKind,
    RatingGiven,
    Reaction,
    checked,
)
from bot.core.refs import ChannelRef, MessageRef, Platform, UserRef, WorkspaceRef
from bot.handlers.outcomes import parse_amount

S = Platform.SLACK
P = ParamSpec("P")
R = TypeVar("R")


def tolerant(translate: Callable[P, R]) -> Callable[P, R]:
    """A payload of the wrong shape (a missing key, a list for a string, a ts of "abc")
    raises Malformed, never a stray KeyError; what comes out is checked (bot.core.events)."""

    @functools.wraps(translate)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            result = translate(*args, **kwargs)
        except Malformed:
            raise
        except BAD_INPUT as exc:
            raise Malformed(f"{translate.__name__}: {exc!r}") from exc
        return cast(R, checked(result))

    return run


NEW_MESSAGE_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message"}
MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
RATE = re.compile(r"^ct_rate_([1-5])$")
HOME_RATE = re.compile(r"^home_rate_([1-5])$")  # the same 1-5 press, on the App Home
CURRENCY = re.compile(r"^[A-Za-z]{3}$")
ACTIONS: dict[str, Literal["acknowledge", "not_for_us", "resolve"]] = {
    "ct_ack": "acknowledge",
    "ct_not_for_us": "not_for_us",
    "ct_resolve": "resolve",
}


_SHAPES: dict[str, tuple[type, ...]] = {
    "type": (str,),
    "event": (dict,),
    "view": (dict,),
    "actions": (list,),
    "user": (dict, str),
    "team": (dict, str, type(None)),
    "channel": (dict, str),
    "container": (dict,),
    "message": (dict,),
    "callback_id": (str,),
    "command": (str,),
    "authorizations": (list,),
}


def envelope_problem(body: object) -> str | None:
    """What is wrong with the outer shape of a request, read before Bolt reads it (Bolt
    assumes the shape: a view without a `type` is a KeyError deep inside it)."""
    if not isinstance(body, dict):
        return "the body is not an object"
    for key, kinds in _SHAPES.items():
        if key in body and not isinstance(body[key], kinds):
            return f"{key} is a {type(body[key]).__name__}"
    inner = {
        "event": ("type",),
        "view": ("type", "callback_id"),
    }
    for key, fields in inner.items():
        for field in fields:
            if key in body and not isinstance(body[key].get(field), str):
                return f"{key}.{field} is missing"
    actions = body.get("actions")
    if actions is not None and not (
        actions
        and all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
    ):
        return "actions are not buttons"
    auths = body.get("authorizations") or []
    if not all(isinstance(a, dict) for a in auths):
        return "authorizations are not objects"
    return None


def workspaces(body: dict[str, Any]) -> list[str]:
    """Every workspace a request names: the installation that receives it first (an event's
    `authorizations`), then the envelope's `team_id`, which in a Slack Connect channel can
    be the other organisation's, then the acting user's team."""
    found: list[Any] = []
    auths = body.get("authorizations")
    if isinstance(auths, list):
        found.extend(a.get("team_id") for a in auths if isinstance(a, dict))
    for key in ("team_id", "context_team_id"):
        found.append(body.get(key))
    team, user = body.get("team"), body.get("user")
    found.append(team.get("id") if isinstance(team, dict) else team)
    if isinstance(user, dict):
        found.append(user.get("team_id"))
    return [str(t) for t in found if isinstance(t, str) and t]


def workspace_id(body: dict[str, Any]) -> str | None:
    """The workspace a request comes from, whatever its kind."""
    named = workspaces(body)
    return named[0] if named else None


def event_key(body: dict[str, Any]) -> str:
    """What makes an Events API delivery unique: its `event_id`; without one (a test tool,
    an old app), the workspace, event type, channel and timestamps, never a shared "None"."""
    event_id = body.get("event_id")
    if event_id:
        return f"slack:{event_id}"
    raw_event = body.get("event")
    event: dict[str, Any] = raw_event if isinstance(raw_event, dict) else {}
    raw_item = event.get("item")
    item: dict[str, Any] = raw_item if isinstance(raw_item, dict) else {}
    parts = (
        workspace_id(body),
        event.get("type"),
        event.get("subtype"),
        event.get("channel") or item.get("channel"),
        event.get("event_ts") or event.get("ts") or item.get("ts"),
        event.get("user"),
        event.get("reaction"),
    )
    return "slack:" + ":".join(str(p or "") for p in parts)


def interaction_key(body: dict[str, Any]) -> str:
    """One press of one button: Slack gives every interaction its own trigger id."""
    action = (body.get("actions") or [{}])[0]
    return f"slack:action:{body.get('trigger_id') or action.get('action_ts')}"


_ENTITY = re.compile(r"<(?P<target>[^<>|]*)(?:\|(?P<label>[^<>]*))?>")
_SPECIAL = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}


def _entity(match: re.Match[str]) -> str:
    target, label = match.group("target"), match.group("label")
    if target[:1] in ("@", "#"):
        return target[0] + (label or target[1:]).lstrip("@#")
    if target[:1] == "!":
        return label or _SPECIAL.get(target[1:], "@" + target[1:].split("^")[-1])
    if label and target.startswith(("mailto:", "tel:")):
        return label
    return f"{label} ({target})" if label and label != target else target


def plain_text(mrkdwn: str) -> str:
    """Slack message text as the plain text the reader sees: `&lt;` `&gt;` `&amp;` decoded,
    mentions as @name and links as "label (url)". Events carry text in the neutral form,
    so the renderer's escaping is the only escaping (no "&amp;amp;" on any platform)."""
    text = _ENTITY.sub(_entity, mrkdwn)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _ws(body: dict[str, Any]) -> WorkspaceRef:
    return WorkspaceRef(S, workspace_id(body) or "")


def _user(raw: dict[str, Any]) -> UserRef:
    bot = raw.get("bot_id")
    return UserRef(
        S,
        str(raw.get("user") or bot or ""),
        is_bot=bool(bot) or raw.get("subtype") == "bot_message",
    )


@tolerant
def message_event(body: dict[str, Any]) -> IncomingMessage | None:
    """A new, edited or deleted thread reply; None for anything else (joins, top-level posts)."""
    event = body["event"]
    subtype = event.get("subtype")
    channel = ChannelRef(S, event["channel"])
    if subtype in NEW_MESSAGE_SUBTYPES or subtype == "bot_message":
        raw, change, at = event, "new", from_epoch(event["ts"])
    elif subtype == "message_changed":
        raw, change = event["message"], "edited"
        at = from_epoch((raw.get("edited") or {}).get("ts") or event["ts"])
    elif subtype == "message_deleted":
        raw, change, at = event.get("previous_message") or {}, "deleted", from_epoch(event["ts"])
        raw = {**raw, "ts": event.get("deleted_ts") or raw.get("ts")}
    else:
        return None
    thread = raw.get("thread_ts")
    if not thread or thread == raw.get("ts") or not raw.get("ts"):
        return None
    return IncomingMessage(
        workspace=_ws(body),
        message=MessageRef(channel, str(raw["ts"]), str(thread)),
        author=_user(raw),
        text=plain_text(str(raw.get("text") or "")),
        at=at,
        change=cast(Literal["new", "edited", "deleted", "restored"], change),
    )


@tolerant
def reaction_event(body: dict[str, Any]) -> Reaction | None:
    event = body["event"]
    item = event.get("item") or {}
    if item.get("type") != "message":
        return None
    return Reaction(
        workspace=_ws(body),
        message=MessageRef(ChannelRef(S, item["channel"]), str(item["ts"])),
        user=UserRef(S, event["user"]),
        emoji=str(event["reaction"]).split("::")[0],
        at=from_epoch(event.get("event_ts") or body.get("event_time") or 0),
    )


def mention_words(text: str) -> list[str]:
    """The words after the mention; "flag." and "flag!" are how people write "flag"."""
    words = (w.rstrip(".,;:!?") for w in MENTION.sub(" ", text).lower().split())
    return [w for w in words if w]


@tolerant
def mention_event(body: dict[str, Any]) -> FlagRequest | Command | None:
    """`@Crosstalk flag` in a thread flags the thread's root; other words are commands."""
    event = body["event"]
    words = mention_words(event.get("text", ""))
    if not words:
        return None
    channel = ChannelRef(S, event["channel"])
    user = UserRef(S, event["user"])
    if words[0] == "flag":
        root = event.get("thread_ts")
        if not root:
            return Command(workspace=_ws(body), user=user, channel=channel, name="flag-help")
        return FlagRequest(
            workspace=_ws(body),
            message=MessageRef(channel, str(root)),
            flagger=user,
            at=from_epoch(event["ts"]),
            via="mention",
        )
    return Command(
        workspace=_ws(body), user=user, channel=channel, name=words[0], args=tuple(words[1:])
    )


@tolerant
def shortcut_target(body: dict[str, Any]) -> dict[str, Any]:
    """What the flag form remembers about the message (its private_metadata)."""
    message = body.get("message") or {}
    return {
        "channel": body["channel"]["id"],
        "ts": message.get("ts") or body.get("message_ts"),
        "thread_ts": message.get("thread_ts"),
        "author": message.get("user") or message.get("bot_id"),
        "author_is_bot": bool(message.get("bot_id")),
        "action_ts": body.get("action_ts"),
    }


def _values(body: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for block in body["view"]["state"]["values"].values():
        for action_id, value in block.items():
            flat[action_id] = value
    return flat


def _text(values: dict[str, Any], key: str) -> str | None:
    value = (values.get(key) or {}).get("value")
    return value.strip() or None if isinstance(value, str) else None


def _selected(values: dict[str, Any], key: str) -> str | None:
    option = (values.get(key) or {}).get("selected_option")
    return str(option["value"]) if option else None


@tolerant
def flag_form(body: dict[str, Any], at: datetime) -> FlagRequest:
    meta = json.loads(body["view"]["private_metadata"])
    values = _values(body)
    chosen = tuple(o["value"] for o in (values.get("teams") or {}).get("selected_options") or [])
    channel = ChannelRef(S, meta["channel"])
    thread = meta.get("thread_ts")
    author = (
        UserRef(S, meta["author"], is_bot=meta.get("author_is_bot", False))
        if meta.get("author")
        else None
    )
    return FlagRequest(
        workspace=_ws(body),
        message=MessageRef(channel, meta["ts"], thread if thread != meta["ts"] else None),
        flagger=UserRef(S, body["user"]["id"]),
        at=from_epoch(meta["action_ts"]) if meta.get("action_ts") else at,
        via="shortcut",
        author=author,
        teams=chosen,
        customer=_text(values, "customer"),
        note=_text(values, "note"),
    )


@tolerant
def interpret_form(body: dict[str, Any], at: datetime) -> InterpretationForm:
    meta = json.loads(body["view"]["private_metadata"])
    values = _values(body)
    impact = _selected(values, "impact")
    owner = (values.get("owner") or {}).get("selected_user")
    return InterpretationForm(
        workspace=_ws(body),
        user=UserRef(S, body["user"]["id"]),
        broadcast_id=int(meta["broadcast_id"]),
        text=_text(values, "interpretation") or "",
        impact=cast(Literal["low", "medium", "high"], impact)
        if impact in ("low", "medium", "high")
        else None,
        action=_text(values, "action"),
        owner=UserRef(S, owner) if owner else None,
        at=at,
    )


@tolerant
def card_action(body: dict[str, Any]) -> CardAction | None:
    action = body["actions"][0]
    kind = ACTIONS.get(action.get("action_id", ""))
    if kind is None or not str(action.get("value", "")).isdigit():
        return None
    return CardAction(
        workspace=_ws(body),
        user=UserRef(S, body["user"]["id"]),
        broadcast_id=int(action["value"]),
        action=kind,
        at=from_epoch(action.get("action_ts") or 0),
    )


@tolerant
def outcome_form(
    body: dict[str, Any], at: datetime, default_currency: str
) -> OutcomeForm | dict[str, str]:
    """The submitted "Record outcome" form, or the field errors to show in it."""
    meta = json.loads(body["view"]["private_metadata"])
    values = _values(body)
    errors: dict[str, str] = {}
    kind = _selected(values, "kind")
    if kind not in OUTCOME_KINDS:
        errors["kind"] = "Choose what kind of outcome this is."
    amount = parse_amount(_text(values, "amount"))
    if amount is None:
        errors["amount"] = "Enter a number of 0 or more, like 12000 or 99.50."
    currency = _text(values, "currency") or default_currency
    if not CURRENCY.match(currency):
        errors["currency"] = "Use a three-letter currency code, like USD."
    if errors or amount is None:
        return errors
    return OutcomeForm(
        workspace=_ws(body),
        user=UserRef(S, body["user"]["id"]),
        broadcast_id=int(meta["broadcast_id"]),
        kind=cast(OutcomeKind, kind),
        amount=amount,
        currency=currency.upper(),
        crm_ref=_text(values, "crm_ref"),
        note=_text(values, "note"),
        at=at,
        form_id=str(body["view"]["id"]),
    )


@tolerant
def rating_action(body: dict[str, Any], now: datetime) -> RatingGiven | None:
    """A 1-5 press on the notice (`ct_rate_4`, value = the flag id)."""
    return _rating(body, now, RATE)


def _rating(body: dict[str, Any], now: datetime, pattern: re.Pattern[str]) -> RatingGiven | None:
    action = body["actions"][0]
    match = pattern.match(str(action.get("action_id", "")))
    if match is None or not str(action.get("value", "")).isdigit():
        return None
    return RatingGiven(
        workspace=_ws(body),
        user=UserRef(S, body["user"]["id"]),
        flag_id=int(action["value"]),
        score=int(match.group(1)),
        at=from_epoch(action["action_ts"]) if action.get("action_ts") else now,
    )


@tolerant
def home_opened(body: dict[str, Any]) -> HomeOpened | None:
    """`app_home_opened` on the Home tab; None for the Messages tab (nothing to publish)."""
    event = body["event"]
    if event.get("tab") != "home":
        return None
    return HomeOpened(workspace=_ws(body), user=UserRef(S, str(event["user"])))


@tolerant
def home_rating(body: dict[str, Any], now: datetime) -> RatingGiven | None:
    """A 1-5 press in the App Home (`home_rate_4`, value = the flag id)."""
    return _rating(body, now, HOME_RATE)
