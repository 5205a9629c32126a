"""Slack modals: the flag form, the "Add interpretation" form and "Record outcome"."""

from __future__ import annotations

import json
from typing import Any

from bot.adapters.slack.render import SECTION_LIMIT, clip_mrkdwn, escape
from config.schema import CrosstalkConfig

FLAG_FORM = "ct_flag_form"
INTERPRET_FORM = "ct_interpret_form"
OUTCOME_FORM = "ct_outcome_form"
OUTCOME_LABELS = {
    "retained": "Customer retained",
    "upsell": "Upsell",
    "new_deal": "New deal",
    "cost_saved": "Cost saved",
    "ticket_deflected": "Tickets deflected",
    "product_fix": "Product fix",
    "other": "Other",
}


def _option(key: str, name: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": name[:75]}, "value": key}


def _input(
    block_id: str, label: str, element: dict[str, Any], optional: bool = True
) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": element,
    }


def _quoted(mrkdwn: str) -> str:
    """The message as Slack shows it (its own mrkdwn), as a quote within one section."""
    lines = mrkdwn.splitlines() or [""]
    return clip_mrkdwn("\n".join("> " + line for line in lines), SECTION_LIMIT)


def flag_modal(
    config: CrosstalkConfig, prefill: list[str], metadata: dict[str, Any], excerpt: str
) -> dict[str, Any]:
    options = [_option(t.key, t.name) for t in config.teams]
    teams: dict[str, Any] = {
        "type": "multi_static_select",
        "action_id": "teams",
        "options": options,
        "placeholder": {"type": "plain_text", "text": "Teams to notify"},
    }
    initial = [o for o in options if o["value"] in prefill]
    if initial:
        teams["initial_options"] = initial
    return {
        "type": "modal",
        "callback_id": FLAG_FORM,
        "private_metadata": json.dumps(metadata),
        "title": {"type": "plain_text", "text": "Flag for stakeholders"},
        "submit": {"type": "plain_text", "text": "Flag"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "section",
                # Quoted first, then cut: a message of many short lines gains "> " on every
                # line, and a section over 3,000 characters makes views.open fail.
                "text": {"type": "mrkdwn", "text": _quoted(excerpt)},
            },
            _input("teams", "Teams", teams, optional=False),
            _input(
                "customer",
                "Customer",
                {
                    "type": "plain_text_input",
                    "action_id": "customer",
                    "placeholder": {"type": "plain_text", "text": "Name, account or CRM id"},
                },
            ),
            _input(
                "note", "Note", {"type": "plain_text_input", "action_id": "note", "multiline": True}
            ),
        ],
    }


def interpret_modal(broadcast_id: int, team_name: str) -> dict[str, Any]:
    impacts = [_option(v, v.capitalize()) for v in ("low", "medium", "high")]
    return {
        "type": "modal",
        "callback_id": INTERPRET_FORM,
        "private_metadata": json.dumps({"broadcast_id": broadcast_id}),
        "title": {"type": "plain_text", "text": "Add interpretation"},
        "submit": {"type": "plain_text", "text": "Add"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"What this means for {team_name}"}],
            },
            _input(
                "interpretation",
                "Interpretation",
                {"type": "plain_text_input", "action_id": "interpretation", "multiline": True},
                optional=False,
            ),
            _input(
                "impact",
                "Impact",
                {"type": "static_select", "action_id": "impact", "options": impacts},
            ),
            _input(
                "action", "Proposed action", {"type": "plain_text_input", "action_id": "action"}
            ),
            _input("owner", "Owner", {"type": "users_select", "action_id": "owner"}),
        ],
    }


def outcome_modal(broadcast_id: int, excerpt: str, currency: str) -> dict[str, Any]:
    """The "Record outcome" form; the amount is free text, checked on submission."""
    kinds = [_option(key, label) for key, label in OUTCOME_LABELS.items()]

    def text(action_id: str, **extra: Any) -> dict[str, Any]:
        return {"type": "plain_text_input", "action_id": action_id, **extra}

    quoted = "> " + escape(excerpt[:280]).replace("\n", " ")
    return {
        "type": "modal",
        "callback_id": OUTCOME_FORM,
        "private_metadata": json.dumps({"broadcast_id": broadcast_id}),
        "title": {"type": "plain_text", "text": "Record outcome"},
        "submit": {"type": "plain_text", "text": "Record"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": quoted}],
            },
            _input(
                "kind",
                "Outcome",
                {"type": "static_select", "action_id": "kind", "options": kinds},
                optional=False,
            ),
            _input(
                "amount",
                "Amount",
                text("amount", placeholder={"type": "plain_text", "text": "e.g. 12000 or 99.50"}),
            ),
            _input(
                "currency",
                "Currency",
                text("currency", initial_value=currency, max_length=3),
                optional=False,
            ),
            _input(
                "crm_ref",
                "CRM ref",
                text("crm_ref", placeholder={"type": "plain_text", "text": "Deal or account id"}),
            ),
            _input("note", "Note", text("note", multiline=True)),
        ],
    }
