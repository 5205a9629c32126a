"""The neutral event model: what adapters hand to handlers, with no raw payload inside.

Events are serialisable (`to_json` / `event_from_json`) because they are stored in the
inbox before they are processed: an acknowledged event survives a crash.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from bot.core.refs import ChannelRef, MessageRef, Platform, UserRef, WorkspaceRef


@dataclass(frozen=True)
class IncomingMessage:
    """A message posted, edited or deleted in a channel the bot can see."""

    workspace: WorkspaceRef
    message: MessageRef
    author: UserRef
    text: str
    at: datetime
    change: Literal["new", "edited", "deleted", "restored"] = "new"


@dataclass(frozen=True)
class Reaction:
    workspace: WorkspaceRef
    message: MessageRef
    user: UserRef
    emoji: str
    at: datetime


@dataclass(frozen=True)
class FlagRequest:
    """Someone asked to flag a message (reaction, shortcut form, mention, message action).

    `teams` and `customer` are set only when a form supplied them; `teams=None` means
    "route by the rules".
    """

    workspace: WorkspaceRef
    message: MessageRef
    flagger: UserRef
    at: datetime
    via: Literal["reaction", "shortcut", "mention", "action", "suggestion"]
    text: str | None = None
    author: UserRef | None = None
    teams: tuple[str, ...] | None = None
    customer: str | None = None
    note: str | None = None
    message_at: datetime | None = None  # when the message itself was sent, if the payload says


@dataclass(frozen=True)
class CardAction:
    """A button pressed on a broadcast card."""

    workspace: WorkspaceRef
    user: UserRef
    broadcast_id: int
    action: Literal["acknowledge", "not_for_us", "resolve"]
    at: datetime


@dataclass(frozen=True)
class InterpretationForm:
    """The "Add interpretation" form, submitted."""

    workspace: WorkspaceRef
    user: UserRef
    broadcast_id: int
    text: str
    impact: Literal["low", "medium", "high"] | None
    action: str | None
    owner: UserRef | None
    at: datetime


OutcomeKind = Literal[
    "retained", "upsell", "new_deal", "cost_saved", "ticket_deflected", "product_fix", "other"
]
OUTCOME_KINDS: tuple[str, ...] = get_args(OutcomeKind)


@dataclass(frozen=True)
class OutcomeForm:
    """The "Record outcome" form, submitted; the adapter has already checked the amount."""

    workspace: WorkspaceRef
    user: UserRef
    broadcast_id: int
    kind: OutcomeKind
    amount: float
    currency: str
    crm_ref: str | None
    note: str | None
    at: datetime
    form_id: str | None = None  # the platform's id of this submission: recorded once


@dataclass(frozen=True)
class RatingGiven:
    """A flagger's 1-5 press on the notice in the origin thread."""

    workspace: WorkspaceRef
    user: UserRef
    flag_id: int
    score: int
    at: datetime


@dataclass(frozen=True)
class Command:
    """A text command: `/roi 30d billing`, `@Crosstalk roi`."""

    workspace: WorkspaceRef
    user: UserRef
    channel: ChannelRef
    name: str
    args: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class HomeOpened:
    """A person opened Crosstalk's home (Slack App Home): their own view is read and
    published in the request's wake. Never stored: publishing a view again is harmless."""

    workspace: WorkspaceRef
    user: UserRef


@dataclass(frozen=True)
class WatchedMessage:
    """A new human message in a watched channel (SPEC "Listening"), to be scored. Its text
    is kept only if it is suggested; `external`: its author belongs to another organisation
    (a customer in a shared channel)."""

    workspace: WorkspaceRef
    message: MessageRef
    author: UserRef
    text: str
    at: datetime
    external: bool = False


@dataclass(frozen=True)
class SuggestionAnswer:
    """**Flag** (`teams`: the suggested ones, or those chosen in the form) or **Not a flag**
    pressed on a suggestion card."""

    workspace: WorkspaceRef
    user: UserRef
    suggestion_id: int
    action: Literal["flag", "dismiss"]
    at: datetime
    teams: tuple[str, ...] | None = None


Event = (
    IncomingMessage
    | Reaction
    | FlagRequest
    | CardAction
    | InterpretationForm
    | OutcomeForm
    | RatingGiven
    | WatchedMessage
    | SuggestionAnswer
)
_KINDS: dict[str, type[Any]] = {
    "message": IncomingMessage,
    "reaction": Reaction,
    "flag": FlagRequest,
    "card_action": CardAction,
    "interpretation_form": InterpretationForm,
    "outcome_form": OutcomeForm,
    "rating": RatingGiven,
    "watched": WatchedMessage,
    "suggestion_answer": SuggestionAnswer,
}
_NAMES = {v: k for k, v in _KINDS.items()}


class Malformed(ValueError):
    """An inbound payload that cannot be a real event: answered with a clear 4xx (or a
    200 that ignores it, where the platform would resend), never stored."""


# What reading a payload of the wrong shape raises (a missing key, a list for a string,
# a ts of "abc", JSON nested past the parser's depth).
BAD_INPUT = (
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
    IndexError,
    OverflowError,
    RecursionError,
)

# Bounds no real event passes: ids are short strings, times are in this era, numbers
# fit the database's 64-bit keys.
_MAX_ID = 512
_MAX_TEXT = 200_000
_YEARS = range(2000, 2200)
_MAX_INT = 2**63 - 1


def _check_value(name: str, value: Any) -> None:
    if value is None or isinstance(value, bool | Platform):
        return
    if isinstance(value, str):
        limit = _MAX_TEXT if name in ("text", "note", "action", "customer") else _MAX_ID
        if len(value) > limit:
            raise Malformed(f"{name} is too long")
        if "\x00" in value:  # no database stores it (PostgreSQL refuses the row)
            raise Malformed(f"{name} holds a NUL character")
    elif isinstance(value, int):
        if not 0 <= value <= _MAX_INT:
            raise Malformed(f"{name} is out of range")
    elif isinstance(value, float):
        if value != value or abs(value) > 1e15:
            raise Malformed(f"{name} is out of range")
    elif isinstance(value, datetime):
        if value.tzinfo is None or value.year not in _YEARS:
            raise Malformed(f"{name} is not a time of this era")
    elif isinstance(value, tuple):
        for item in value:
            if not isinstance(item, str):
                raise Malformed(f"{name} holds a {type(item).__name__}")
            _check_value(name, item)
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            _check_value(f.name, getattr(value, f.name))
    else:
        raise Malformed(f"{name} is a {type(value).__name__}")
    if name == "id" and not (isinstance(value, str) and value):
        raise Malformed("an id is empty or not a string")


def checked(event: Any) -> Any:
    """The event, once every field has a plausible type and size (Malformed otherwise):
    a payload whose channel is a list would otherwise be stored and fail in the worker."""
    if dataclasses.is_dataclass(event) and not isinstance(event, type):
        _check_value(type(event).__name__, event)
    return event


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"__dt": value.isoformat()}
    if isinstance(value, Platform):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    return value


def event_kind(event: Event) -> str:
    return _NAMES[type(event)]


def to_json(event: Event) -> str:
    return json.dumps({"kind": event_kind(event), "data": _encode(event)})


_REF_FIELDS: dict[str, type[Any]] = {
    "workspace": WorkspaceRef,
    "author": UserRef,
    "user": UserRef,
    "flagger": UserRef,
    "owner": UserRef,
    "channel": ChannelRef,
}


def _decode_ref(cls: type[Any], data: dict[str, Any]) -> Any:
    return cls(**{**data, "platform": Platform(data["platform"])})


def _decode_value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dict) and "__dt" in value:
        return datetime.fromisoformat(value["__dt"])
    if name == "message":
        channel = _decode_ref(ChannelRef, value["channel"])
        return MessageRef(channel=channel, id=value["id"], thread_id=value.get("thread_id"))
    if name in _REF_FIELDS:
        return _decode_ref(_REF_FIELDS[name], value)
    if isinstance(value, list):
        return tuple(value)
    return value


def event_from_json(text: str) -> Event:
    raw = json.loads(text)
    cls = _KINDS[raw["kind"]]
    data = {k: _decode_value(k, v) for k, v in raw["data"].items()}
    event: Event = cls(**data)
    return event
