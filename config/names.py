"""Names an admin writes in the config instead of ids, and where they may stand.

Admins know `#billing`, `@bob` and `bob@acme.com`, not `C0BILLING` or `U0BOB`. The config
accepts either: an id is used as it is, a name is a `Name` the server resolves to an id
through the platform when it starts (bot/names.py), before anything stores or uses it.
Names are Slack's: Slack can look a channel, a person or a user group up. Teams ids cannot
be looked up by name, so a Teams channel must be its id (or the "Get link to channel" link,
which holds it) and a Teams person their Entra object id.

Everything here is offline and pure: `config check` uses it to say what will be resolved.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import unquote, urlsplit

SLACK_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]+$")
SLACK_USERGROUP_ID = re.compile(r"^S[A-Z0-9]+$")
ENTRA_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
TEAMS_CHANNEL_ID = re.compile(r"^19:[^\s/?#]+@thread\.(tacv2|skype|v2)$")
_CHANNEL_NAME = re.compile(r"^[^\s#@,]{1,80}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

HOW_SLACK_CHANNEL = 'the id is at the bottom of the channel\'s details ("Channel ID")'
HOW_SLACK_USER = 'a profile\'s ⋮ menu → "Copy member ID"'
HOW_TEAMS_CHANNEL = (
    'Teams ids cannot be looked up by name: the channel\'s ⋯ menu → "Get link to channel"; '
    "paste the link or the 19:…@thread.tacv2 id it holds"
)
HOW_TEAMS_USER = "a Teams user is their Entra object id (Entra admin center → Users → Object ID)"


class NameKind(StrEnum):
    SLACK_CHANNEL = "Slack channel"
    SLACK_USER = "Slack user"
    SLACK_EMAIL = "Slack user with the e-mail"
    SLACK_USERGROUP = "Slack user group"


@dataclass(frozen=True)
class Name:
    """A name to resolve: `key` is what is looked up (lowercase, without `#` or `@`),
    `text` what the config says."""

    kind: NameKind
    key: str
    text: str = field(compare=False)


def is_slack_user_id(value: str) -> bool:
    return value[:1] in ("U", "W") and value.isalnum()


def person(value: str) -> str | Name:
    """A Slack member id or Entra object id as it is; `@name` or an e-mail: a Slack user."""
    if ENTRA_ID.match(value) or is_slack_user_id(value):
        return value
    if value.startswith("@") and value[1:2].strip():
        return Name(NameKind.SLACK_USER, value[1:].strip().lower(), value)
    if _EMAIL.match(value):
        return Name(NameKind.SLACK_EMAIL, value.lower(), value)
    raise ValueError(
        f"{value!r} is neither a Slack user id (U… or W…) nor a Teams user's Entra object id;"
        f" a Slack user may also be written @name or name@example.com ({HOW_SLACK_USER})"
    )


def slack_channel(value: str) -> str | Name:
    if SLACK_CHANNEL_ID.match(value):
        return value
    if value.startswith("#") and _CHANNEL_NAME.match(value[1:]):
        return Name(NameKind.SLACK_CHANNEL, value[1:].lower(), value)
    raise ValueError(
        f"{value!r} is neither a Slack channel id (C…) nor a #channel-name; {HOW_SLACK_CHANNEL}"
    )


def slack_usergroup(value: str) -> str | Name:
    if SLACK_USERGROUP_ID.match(value):
        return value
    if value.startswith("@") and _CHANNEL_NAME.match(value[1:]):
        return Name(NameKind.SLACK_USERGROUP, value[1:].lower(), value)
    raise ValueError(f"{value!r} is neither a Slack user group id (S…) nor an @handle")


def teams_channel(value: str) -> str:
    """The channel id, from the id itself or from the channel's link (URL-encoded)."""
    text = value.strip()
    if text.startswith("https://"):
        parts = [unquote(p) for p in urlsplit(text).path.split("/")]
        text = next((p for p in parts if p.startswith("19:")), text)
    text = unquote(text)
    if TEAMS_CHANNEL_ID.match(text):
        return text
    raise ValueError(f"{value!r} is not a Teams channel id; {HOW_TEAMS_CHANNEL}")


def any_channel(value: str) -> str | Name:
    """A channel of either platform (a route's `channels`)."""
    if value.startswith(("19:", "19%3", "https://")):
        return teams_channel(value)
    return slack_channel(value)


Parse = Callable[[str], "str | Name"]
Slot = tuple[str, Any, Any, Parse]  # (where, container, index or key, parser)


def _slots(raw: dict[str, Any]) -> Iterator[Slot]:
    """Every place in a dumped config that may hold a name, with its key for messages."""
    for i, team in enumerate(raw.get("teams") or []):
        where = f"teams[{i}] ({team.get('key')})"
        for key, parse in (("slack_channel", slack_channel), ("slack_usergroup", slack_usergroup)):
            if team.get(key):
                yield f"{where}.{key}", team, key, parse
        for j, _ in enumerate(team.get("members") or []):
            yield f"{where}.members[{j}]", team["members"], j, person
    for r, route in enumerate(raw.get("routes") or []):
        for j, _ in enumerate(route.get("channels") or []):
            yield f"routes[{r}].channels[{j}]", route["channels"], j, any_channel
    digest = raw.get("digest") or {}
    if digest.get("managers_channel"):
        yield "digest.managers_channel", digest, "managers_channel", slack_channel
    for j, _ in enumerate((raw.get("roi") or {}).get("managers") or []):
        yield f"roi.managers[{j}]", raw["roi"]["managers"], j, person


def names_in(raw: dict[str, Any]) -> list[tuple[str, Name]]:
    """(key, name) for each name in a config dump (`CrosstalkConfig.model_dump()`)."""
    found: list[tuple[str, Name]] = []
    for where, container, index, parse in _slots(raw):
        parsed = parse(container[index])
        if isinstance(parsed, Name):
            found.append((where, parsed))
    return found


def with_ids(raw: dict[str, Any], ids: Mapping[Name, str]) -> dict[str, Any]:
    """The dump with each resolved name replaced by its id (in place; returned). A person
    named twice (`["@bob", "U0BOB"]`) is listed once."""
    lists: list[list[str]] = []
    for _, container, index, parse in _slots(raw):
        parsed = parse(container[index])
        if isinstance(parsed, Name) and parsed in ids:
            container[index] = ids[parsed]
        if isinstance(container, list) and not any(c is container for c in lists):
            lists.append(container)
    for each in lists:
        each[:] = list(dict.fromkeys(each))
    return raw


def resolution_note(raw: dict[str, Any]) -> str | None:
    """What `config check` says of the names it accepted (None: the config names none)."""
    found = list(dict.fromkeys(name for _, name in names_in(raw)))
    if not found:
        return None
    shown = ", ".join(n.text for n in found[:6]) + (", …" if len(found) > 6 else "")
    note = f"{len(found)} names will be resolved through Slack at start: {shown}"
    if any(n.kind is NameKind.SLACK_EMAIL for n in found):
        note += " (e-mails need the users:read.email scope)"
    return note
