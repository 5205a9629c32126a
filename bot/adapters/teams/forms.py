"""Teams dialogs (task modules): the "Flag for stakeholders" form of the message action
and the "Add interpretation" form, as Adaptive Cards, and the invoke answers around them."""

from __future__ import annotations

from typing import Any

from bot.adapters.teams.render import CARD_TYPE, CARD_VERSION
from config.schema import CrosstalkConfig

EXCERPT_LIMIT = 1500


def _card(body: list[dict[str, Any]], submit: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
        "actions": [{"type": "Action.Submit", "title": submit, "data": data}],
    }


def _task(title: str, card: dict[str, Any]) -> dict[str, Any]:
    return {
        "task": {
            "type": "continue",
            "value": {
                "title": title,
                "height": "medium",
                "width": "medium",
                "card": {"contentType": CARD_TYPE, "content": card},
            },
        }
    }


def message(text: str) -> dict[str, Any]:
    """A dialog answer that closes with a short message to the person who submitted."""
    return {"task": {"type": "message", "value": text}}


def flag_task(
    config: CrosstalkConfig,
    prefill: list[str],
    excerpt: str,
    *,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The answer to composeExtension/fetchTask: the form, teams prefilled from routing.
    Its submission (composeExtension/submitAction) carries the message again. `data`: what
    the submit button sends instead (a suggestion's "Change teams": a task/submit)."""
    quoted = excerpt[:EXCERPT_LIMIT] or "(no text)"
    body: list[dict[str, Any]] = [
        {
            "type": "Container",
            "style": "emphasis",
            "items": [{"type": "TextBlock", "text": quoted, "wrap": True}],
        },
        {
            "type": "Input.ChoiceSet",
            "id": "teams",
            "label": "Teams",
            "isMultiSelect": True,
            "isRequired": True,
            "errorMessage": "Choose at least one team.",
            "choices": [{"title": t.name, "value": t.key} for t in config.teams],
            "value": ",".join(k for k in prefill if config.team(k)),
        },
        {
            "type": "Input.Text",
            "id": "customer",
            "label": "Customer",
            "placeholder": "Name, account or CRM id",
        },
        {"type": "Input.Text", "id": "note", "label": "Note", "isMultiline": True},
    ]
    return _task("Flag for stakeholders", _card(body, "Flag", data or {"ct": "ct_flag"}))


def interpret_task(broadcast_id: int, team_name: str, error: str | None = None) -> dict[str, Any]:
    """The answer to task/fetch from "Add interpretation" (and again, with the error, when
    the interpretation came back empty)."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": f"What this means for {team_name}", "wrap": True},
    ]
    if error:
        body.append({"type": "TextBlock", "text": error, "color": "Attention", "wrap": True})
    body += [
        {
            "type": "Input.Text",
            "id": "interpretation",
            "label": "Interpretation",
            "isMultiline": True,
            "isRequired": True,
            "errorMessage": "Say what this means for your team.",
        },
        {
            "type": "Input.ChoiceSet",
            "id": "impact",
            "label": "Impact",
            "choices": [{"title": v.capitalize(), "value": v} for v in ("low", "medium", "high")],
        },
        {"type": "Input.Text", "id": "action", "label": "Proposed action"},
        {
            "type": "Input.ChoiceSet",
            "id": "owner",
            "label": "Owner",
            "choices": [],
            "choices.data": {"type": "Data.Query", "dataset": "graph.microsoft.com/users"},
        },
    ]
    data = {"ct": "ct_interpret", "value": str(broadcast_id)}
    return _task("Add interpretation", _card(body, "Add", data))


def card_answer(text: str) -> dict[str, Any]:
    """The answer to an Action.Execute (adaptiveCard/action): a message shown to the person
    who pressed; the card itself is updated for everyone through the outbox."""
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}


OUTCOME_KINDS = {
    "retained": "Customer retained",
    "upsell": "Upsell",
    "new_deal": "New deal",
    "cost_saved": "Cost saved",
    "ticket_deflected": "Tickets deflected",
    "product_fix": "Product fix",
    "other": "Other",
}


def outcome_task(
    broadcast_id: int,
    excerpt: str,
    currency: str,
    errors: dict[str, str] | None = None,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The "Record outcome" dialog (again with the errors and the answers given, when a
    field came back wrong); the amount is free text, checked on submission."""
    given = previous or {}
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": excerpt[:280] or "(no text)", "isSubtle": True, "wrap": True}
    ]
    body += [
        {"type": "TextBlock", "text": text, "color": "Attention", "wrap": True}
        for text in (errors or {}).values()
    ]
    body += [
        {
            "type": "Input.ChoiceSet",
            "id": "kind",
            "label": "Outcome",
            "isRequired": True,
            "choices": [{"title": label, "value": key} for key, label in OUTCOME_KINDS.items()],
            "value": str(given.get("kind") or ""),
        },
        {
            "type": "Input.Text",
            "id": "amount",
            "label": "Amount",
            "placeholder": "e.g. 12000 or 99.50",
            "value": str(given.get("amount") or ""),
        },
        {
            "type": "Input.Text",
            "id": "currency",
            "label": "Currency",
            "maxLength": 3,
            "value": str(given.get("currency") or currency),
        },
        {"type": "Input.Text", "id": "crm_ref", "label": "CRM ref"},
        {"type": "Input.Text", "id": "note", "label": "Note", "isMultiline": True},
    ]
    data = {"ct": "ct_outcome", "value": str(broadcast_id)}
    return _task("Record outcome", _card(body, "Record", data))
