"""Neutral rich content: each adapter renders it (Slack Block Kit, Teams Adaptive Cards)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core.refs import UserRef


@dataclass(frozen=True)
class Link:
    url: str
    label: str


Span = str | UserRef | Link
RichText = tuple[Span, ...]


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str
    value: str
    style: Literal["primary", "danger"] | None = None


@dataclass(frozen=True)
class Card:
    """A message with a title, a quoted excerpt, labelled facts, notes and buttons."""

    title: str
    summary: str
    quote: str | None = None
    facts: tuple[tuple[str, RichText], ...] = ()
    notes: tuple[RichText, ...] = ()
    buttons: tuple[Button, ...] = ()


Content = Card | RichText


def to_plain(text: RichText, names: dict[str, str] | None = None) -> str:
    """Plain-text rendering (terminal output, notification fallbacks)."""
    out: list[str] = []
    for span in text:
        if isinstance(span, str):
            out.append(span)
        elif isinstance(span, UserRef):
            out.append("@" + (names or {}).get(span.id, span.id))
        else:
            out.append(f"{span.label} <{span.url}>")
    return "".join(out)
