"""Listening on Slack: messages of watched channels become `WatchedMessage` events, and the
suggestion card's buttons and its "Change teams" form become `SuggestionAnswer` events.

The translation is pure (recorded payload shapes in the tests). Whether a message is
watched is decided before it is stored, from the event alone: the channel's id, the
envelope's `is_ext_shared_channel` (Slack's word that the channel is shared with another
organisation, on every event, no call needed) and the author's team (`user_team`, or the
message's `team`) against the org's `slack_team_ids`. Anything else is dropped unstored.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Literal

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import forms, render, translate
from bot.core.clock import from_epoch
from bot.core.events import SuggestionAnswer, WatchedMessage
from bot.core.refs import ChannelRef, MessageRef, Platform, UserRef, WorkspaceRef
from bot.handlers import listen, suggest
from bot.runtime import Runtime

S = Platform.SLACK
SUGGESTION_FORM = "ct_suggestion_form"
ANSWERS: dict[str, Literal["flag", "dismiss"]] = {suggest.FLAG: "flag", suggest.DISMISS: "dismiss"}


def _bot_user(body: dict[str, Any]) -> str | None:
    auths = body.get("authorizations") or [{}]
    user = auths[0].get("user_id") if isinstance(auths[0], dict) else None
    return str(user) if user else None


@translate.tolerant
def watched_message(body: dict[str, Any], own_teams: frozenset[str]) -> WatchedMessage | None:
    """A new message (top level or a reply) as listening sees it; None for edits, deletions,
    joins and other subtypes, and for a message addressed to Crosstalk (a command)."""
    event = body["event"]
    if event.get("subtype") not in translate.NEW_MESSAGE_SUBTYPES or not event.get("ts"):
        return None
    text = str(event.get("text") or "")
    bot = _bot_user(body)
    if bot and f"<@{bot}" in text:
        return None
    ts = str(event["ts"])
    thread = event.get("thread_ts")
    author_team = event.get("user_team") or event.get("team")
    return WatchedMessage(
        workspace=WorkspaceRef(S, translate.workspace_id(body) or ""),
        message=MessageRef(
            ChannelRef(S, str(event["channel"])),
            ts,
            str(thread) if thread and thread != ts else None,
        ),
        author=UserRef(
            S, str(event.get("user") or event.get("bot_id") or ""), is_bot=bool(event.get("bot_id"))
        ),
        text=translate.plain_text(text),
        at=from_epoch(ts),
        external=bool(author_team) and str(author_team) not in own_teams,
    )


def is_shared(body: dict[str, Any]) -> bool:
    return body.get("is_ext_shared_channel") is True


@translate.tolerant
def suggestion_button(body: dict[str, Any]) -> SuggestionAnswer | None:
    action = body["actions"][0]
    kind = ANSWERS.get(str(action.get("action_id", "")))
    if kind is None or not str(action.get("value", "")).isdigit():
        return None
    return SuggestionAnswer(
        workspace=WorkspaceRef(S, translate.workspace_id(body) or ""),
        user=UserRef(S, str(body["user"]["id"])),
        suggestion_id=int(action["value"]),
        action=kind,
        at=from_epoch(action.get("action_ts") or 0),
    )


@translate.tolerant
def suggestion_form(body: dict[str, Any], at: datetime) -> SuggestionAnswer:
    """The flag form opened by "Change teams", submitted: flag to the chosen teams."""
    meta = json.loads(body["view"]["private_metadata"])
    chosen: list[str] = []
    for block in body["view"]["state"]["values"].values():
        picked = (block.get("teams") or {}).get("selected_options") or []
        chosen.extend(str(o["value"]) for o in picked)
    return SuggestionAnswer(
        workspace=WorkspaceRef(S, translate.workspace_id(body) or ""),
        user=UserRef(S, str(body["user"]["id"])),
        suggestion_id=int(meta["suggestion"]),
        action="flag",
        at=at,
        teams=tuple(chosen),
    )


async def on_message(runtime: Runtime, body: dict[str, Any]) -> bool:
    """Store a watched message for scoring; False when listening does not want it."""
    listening = runtime.config.listening
    if not listening.on:
        return False
    event = watched_message(body, frozenset(runtime.config.org.slack_team_ids))
    if event is None or not listen.wants(listening, event, is_shared(body)):
        return False
    await runtime.submit(translate.event_key(body), event)
    return True


def register_listening(app: AsyncApp, runtime: Runtime) -> None:
    org = runtime.org

    async def tell(respond: AsyncRespond, message: str | None) -> None:
        if message:
            await respond(text=message, response_type="ephemeral", replace_original=False)

    async def change_teams(body: dict[str, Any], respond: AsyncRespond, client: Any) -> None:
        suggestion_id = int(body["actions"][0]["value"])
        found = await runtime.query(
            lambda s: suggest.find(session=s, org=org, suggestion_id=suggestion_id)
        )
        if isinstance(found, str):
            await tell(respond, found)
            return
        prefill = [team for team, _ in suggest.teams_of(found)]
        view = forms.flag_modal(
            org.config, prefill, {"suggestion": suggestion_id}, render.escape(found.text)
        )
        view["callback_id"] = SUGGESTION_FORM
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(re.compile(r"^ct_sg_"))
    async def on_suggestion_button(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        action = body["actions"][0]
        if action.get("action_id") == suggest.CHANGE and str(action.get("value", "")).isdigit():
            await change_teams(body, respond, client)
            return
        event = suggestion_button(body)
        if event is None:
            return
        answer = await runtime.handle_now(translate.interaction_key(body), event)
        if answer is not None:
            await tell(respond, answer.message)

    @app.view(SUGGESTION_FORM)
    async def on_suggestion_form(ack: AsyncAck, body: dict[str, Any]) -> None:
        event = suggestion_form(body, runtime.clock.now())
        if not event.teams:
            await ack(response_action="errors", errors={"teams": "Choose at least one team."})
            return
        await ack()
        await runtime.submit(f"slack:view:{body['view']['id']}", event)
