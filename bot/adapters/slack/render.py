"""Neutral content -> Slack Block Kit and mrkdwn."""

from __future__ import annotations

import re
from typing import Any

from bot.core.cards import Card, Content, Link, RichText
from bot.core.refs import UserRef

SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
MAX_BLOCKS = 50
_TORN = re.compile(r"&[a-z]*$|<[^>]*$")  # half an escape or half a link at the cut


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clip_mrkdwn(text: str, limit: int) -> str:
    """Like _clip, without leaving half an escape (`&am`) or half a link at the cut."""
    return text if len(text) <= limit else _TORN.sub("", text[: limit - 1]) + "…"


def mrkdwn(text: RichText) -> str:
    out: list[str] = []
    for span in text:
        if isinstance(span, UserRef):
            out.append(f"<@{span.id}>")
        elif isinstance(span, Link):
            out.append(f"<{span.url}|{escape(span.label)}>")
        else:
            out.append(escape(span))
    return "".join(out)


def quote(text: str) -> str:
    return "\n".join("> " + line for line in escape(text).splitlines() or [""])


def blocks(card: Card) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _clip(card.title, 150), "emoji": True},
        }
    ]
    if card.quote:
        result.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": clip_mrkdwn(quote(card.quote), SECTION_LIMIT)},
            }
        )
    fields = [
        {"type": "mrkdwn", "text": clip_mrkdwn(f"*{escape(label)}*\n{mrkdwn(value)}", FIELD_LIMIT)}
        for label, value in card.facts
    ]
    for i in range(0, len(fields), 10):  # Slack allows 10 fields per section
        result.append({"type": "section", "fields": fields[i : i + 10]})
    for note in card.notes:
        result.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": clip_mrkdwn(mrkdwn(note), SECTION_LIMIT)}],
            }
        )
    room = MAX_BLOCKS - (1 if card.buttons else 0)
    if len(result) > room:  # Slack refuses the whole message past 50 blocks
        hidden = len(result) - room + 1
        result = result[: room - 1]
        more = f"…and {hidden} more not shown here."
        result.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    if card.buttons:
        elements = []
        for b in card.buttons:
            element: dict[str, Any] = {
                "type": "button",
                "action_id": b.action_id,
                "value": b.value,
                "text": {"type": "plain_text", "text": b.label},
            }
            if b.style:
                element["style"] = b.style
            elements.append(element)
        result.append({"type": "actions", "block_id": "ct_card_actions", "elements": elements})
    return result


def message_args(content: Content) -> dict[str, Any]:
    """Keyword arguments for chat.postMessage / chat.update."""
    if isinstance(content, Card):
        # `text` is mrkdwn too (notifications, fallbacks): a customer's "<!channel>" stays text.
        return {"text": clip_mrkdwn(escape(content.summary), 3000), "blocks": blocks(content)}
    return {"text": _clip(mrkdwn(content), 39000)}
