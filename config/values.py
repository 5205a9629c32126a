"""The config's typed values, parsed from their text once.

Each parser is cached on its text, so the schema's validators (which report a bad value
with its key) and the parsed properties the handlers read share one parse per distinct
value, however often a handler asks.
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.refs import Platform, UserRef
from bot.core.timecalc import BusinessHours, parse_duration

# An Entra (AAD) object id, the id the config lists for a Teams person (README,
# "Microsoft Teams"); Slack user ids (U0ANN, W0ANN) can never look like one.
_ENTRA_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


@cache
def business_hours(text: str) -> BusinessHours:
    return BusinessHours.parse(text)


@cache
def duration(text: str) -> timedelta:
    return parse_duration(text)


@cache
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown timezone {name!r}; use an IANA name like Europe/London"
        ) from None


@cache
def person(user_id: str) -> UserRef:
    """A person the config names: a Teams user by their Entra object id, a Slack user by
    their user id. Anything else is an error, so the platform is never guessed later."""
    if _ENTRA_ID.match(user_id):
        return UserRef(Platform.TEAMS, user_id)
    if user_id[:1] in ("U", "W") and user_id.isalnum():
        return UserRef(Platform.SLACK, user_id)
    raise ValueError(
        f"{user_id!r} is neither a Slack user id (U… or W…) nor a Teams user's Entra object id"
    )
