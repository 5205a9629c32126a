"""Neutral content -> Teams: Adaptive Cards (1.4, for Action.Execute) and text messages
with `<at>` mentions. Pure: display names come in as a dict (id -> name).

A person of this platform becomes a real mention (`<at>Name</at>` plus a mention entity
naming their Entra object id); anyone else (a Slack user on a Teams card) is plain text,
never a mention that cannot resolve.
"""

from __future__ import annotations

from typing import Any

from bot.core.cards import Button, Card, Content, Link, RichText
from bot.core.refs import Platform, UserRef

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.4"
QUOTE_LIMIT = 3000
TEXT_LIMIT = 20000
# Buttons that open a dialog (task module): a suggestion's "Change teams" opens the flag form.
FORM_BUTTONS = {"ct_interpret", "ct_outcome", "ct_sg_teams"}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Mentions:
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.entities: list[dict[str, Any]] = []
        self._seen: set[str] = set()

    def span(self, user: UserRef) -> str:
        name = self.names.get(user.id) or "someone"
        if user.platform is not Platform.TEAMS or not user.id:
            return name
        tag = f"<at>{name}</at>"
        if user.id not in self._seen:
            self._seen.add(user.id)
            self.entities.append(
                {"type": "mention", "text": tag, "mentioned": {"id": user.id, "name": name}}
            )
        return tag

    def text(self, rich: RichText) -> str:
        out: list[str] = []
        for span in rich:
            if isinstance(span, UserRef):
                out.append(self.span(span))
            elif isinstance(span, Link):
                label = span.label.replace("[", "(").replace("]", ")")
                out.append(f"[{label}]({span.url})")
            else:
                out.append(span)
        return "".join(out)


def _action(button: Button) -> dict[str, Any]:
    data: dict[str, Any] = {"ct": button.action_id, "value": button.value}
    action: dict[str, Any]
    if button.action_id in FORM_BUTTONS:
        action = {
            "type": "Action.Submit",
            "title": button.label,
            "data": {**data, "msteams": {"type": "task/fetch"}},
        }
    else:
        action = {"type": "Action.Execute", "title": button.label, "verb": button.action_id}
        action["data"] = data
    if button.style:
        action["style"] = "positive" if button.style == "primary" else "destructive"
    return action


def adaptive_card(card: Card, names: dict[str, str], marker: str | None = None) -> dict[str, Any]:
    mentions = _Mentions(names)
    title: dict[str, Any] = {
        "type": "TextBlock",
        "text": _clip(card.title, 200),
        "size": "Medium",
        "weight": "Bolder",
        "wrap": True,
    }
    if marker:
        title["id"] = marker  # found again through Graph if a post's answer was lost
    body: list[dict[str, Any]] = [title]
    if card.quote:
        body.append(
            {
                "type": "Container",
                "style": "emphasis",
                "items": [
                    {"type": "TextBlock", "text": _clip(card.quote, QUOTE_LIMIT), "wrap": True}
                ],
            }
        )
    if card.facts:
        body.append(
            {
                "type": "FactSet",
                "facts": [
                    {"title": label, "value": _clip(mentions.text(value), 2000)}
                    for label, value in card.facts
                ],
            }
        )
    for note in card.notes:
        body.append(
            {
                "type": "TextBlock",
                "text": _clip(mentions.text(note), 2000),
                "isSubtle": True,
                "size": "Small",
                "wrap": True,
            }
        )
    content: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if card.buttons:
        content["actions"] = [_action(b) for b in card.buttons]
    if mentions.entities:
        content["msteams"]["entities"] = mentions.entities
    return content


def message_activity(
    content: Content, names: dict[str, str], marker: str | None = None
) -> dict[str, Any]:
    """The activity to post or to put in place of an earlier one."""
    if isinstance(content, Card):
        return {
            "type": "message",
            "summary": _clip(content.summary, 250),
            "attachments": [
                {"contentType": CARD_TYPE, "content": adaptive_card(content, names, marker)}
            ],
        }
    mentions = _Mentions(names)
    text = _clip(mentions.text(content), TEXT_LIMIT)
    if marker is not None:
        # A text post carries no marker Graph can read back, so one that may be posted
        # again after a lost answer (a notice, a mirrored interpretation) goes as a card of
        # one text block whose id is the marker: found, never doubled.
        card: dict[str, Any] = {
            "type": "AdaptiveCard",
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": CARD_VERSION,
            "body": [{"type": "TextBlock", "id": marker, "text": text, "wrap": True}],
            "msteams": {"width": "Full", "entities": mentions.entities},
        }
        return {
            "type": "message",
            "summary": _clip(text, 250),
            "attachments": [{"contentType": CARD_TYPE, "content": card}],
        }
    activity: dict[str, Any] = {"type": "message", "textFormat": "markdown", "text": text}
    if mentions.entities:
        activity["entities"] = mentions.entities
    return activity


def image_activity(
    data_uri: str, title: str, comment: str, marker: str | None = None
) -> dict[str, Any]:
    """A chart as an Adaptive Card image: bots cannot upload files to a channel. The first
    block's id is the marker an earlier attempt is found by."""
    first: dict[str, Any] = {"type": "TextBlock", "text": _clip(comment, 2000), "wrap": True}
    if marker is not None:
        first["id"] = marker
    card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": [
            first,
            {"type": "Image", "url": data_uri, "altText": _clip(title, 200), "size": "Stretch"},
        ],
    }
    return {
        "type": "message",
        "summary": _clip(title, 250),
        "attachments": [{"contentType": CARD_TYPE, "content": card}],
    }


def users_in(content: Content) -> list[UserRef]:
    """Every person the content names, so their display names can be looked up first."""
    texts: list[RichText] = []
    if isinstance(content, Card):
        texts.extend(value for _, value in content.facts)
        texts.extend(content.notes)
    else:
        texts.append(content)
    return [span for text in texts for span in text if isinstance(span, UserRef)]
