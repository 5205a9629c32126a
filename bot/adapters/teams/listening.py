"""Listening on Teams: channel messages of watched channels become `WatchedMessage` events;
the suggestion card's buttons (Action.Execute) and its "Change teams" dialog become
`SuggestionAnswer` events.

A message's author belongs to another organisation when Teams names their home tenant
(`from.tenantId`, as TeamsChannelAccount carries it for people of other tenants in a
shared channel) and it is not one of the org's `teams_tenant_ids`; a sender without one
counts as the org's (never scored as a customer: the safe side). The channel is shared
when the activity says so (`channelData.channel.membershipType`). Decided from the
activity alone, before anything is stored.
"""

from __future__ import annotations

from typing import Any, Literal

from bot.adapters.teams import forms, translate
from bot.core.events import SuggestionAnswer, WatchedMessage
from bot.core.refs import ChannelRef, MessageRef, Platform, WorkspaceRef
from bot.handlers import listen, suggest
from bot.runtime import Runtime

T = Platform.TEAMS
Answer = dict[str, Any]
ANSWERS: dict[str, Literal["flag", "dismiss"]] = {suggest.FLAG: "flag", suggest.DISMISS: "dismiss"}


def _sender_tenant(activity: translate.Activity) -> str | None:
    tenant = (activity.get("from") or {}).get("tenantId")
    return str(tenant) if tenant else None


def watched_message(
    activity: translate.Activity, own_tenants: frozenset[str]
) -> WatchedMessage | None:
    """A new channel message (a post or a reply) as listening sees it; None elsewhere."""
    where = translate.place(activity)
    if activity.get("type") != "message" or where.channel_id is None or not activity.get("id"):
        return None
    if translate.bot_mentioned(activity) or isinstance(activity.get("value"), dict):
        return None  # a command, or a card's button on an older client
    tenant = _sender_tenant(activity)
    message_id = str(activity["id"])
    root = where.thread_id or activity.get("replyToId")
    return WatchedMessage(
        workspace=WorkspaceRef(T, translate.tenant_of(activity) or ""),
        message=MessageRef(
            ChannelRef(T, where.channel_id),
            message_id,
            str(root) if root and root != message_id else None,
        ),
        author=translate.sender(activity),
        text=translate.html_to_text(str(activity.get("text") or "")),
        at=translate.timestamp(activity),
        external=tenant is not None and tenant not in own_tenants,
    )


def is_shared(activity: translate.Activity) -> bool:
    return translate.place(activity).membership_type == "shared"


async def on_message(runtime: Runtime, activity: translate.Activity) -> bool:
    """Store a watched message for scoring; False when listening does not want it."""
    listening = runtime.config.listening
    if not listening.on:
        return False
    event = watched_message(activity, frozenset(runtime.config.org.teams_tenant_ids))
    if event is None or not listen.wants(listening, event, is_shared(activity)):
        return False
    await runtime.submit(translate.dedupe_key(activity), event)
    return True


def suggestion_button(activity: translate.Activity) -> SuggestionAnswer | None:
    found = translate.button(activity)
    kind = ANSWERS.get(found[0]) if found else None
    if found is None or kind is None:
        return None
    return SuggestionAnswer(
        workspace=WorkspaceRef(T, translate.tenant_of(activity) or ""),
        user=translate.sender(activity),
        suggestion_id=found[1],
        action=kind,
        at=translate.timestamp(activity),
    )


async def press(runtime: Runtime, activity: translate.Activity) -> str | None:
    """**Flag** or **Not a flag**: handled in the request; None for other buttons."""
    event = suggestion_button(activity)
    if event is None:
        return None
    answer = await runtime.handle_now(translate.dedupe_key(activity), event)
    return (answer.message if answer else None) or "Done."


async def dialog(runtime: Runtime, activity: translate.Activity) -> Answer | None:
    """task/fetch of **Change teams**: the flag form with the suggested teams chosen."""
    found = translate.button(activity)
    if found is None or found[0] != suggest.CHANGE:
        return None
    suggestion_id = found[1]
    org = runtime.org
    s = await runtime.query(lambda x: suggest.find(session=x, org=org, suggestion_id=suggestion_id))
    if isinstance(s, str):
        return forms.message(s)
    prefill = [team for team, _ in suggest.teams_of(s)]
    data = {"ct": suggest.CHANGE, "value": str(suggestion_id)}
    return forms.flag_task(org.config, prefill, s.text, data=data)


async def submitted(runtime: Runtime, activity: translate.Activity) -> Answer | None:
    """task/submit of the form **Change teams** opened: flag to the chosen teams."""
    data = translate.task_data(activity)
    value = str(data.get("value", ""))
    if data.get("ct") != suggest.CHANGE or not value.isdigit():
        return None
    chosen = tuple(t.strip() for t in str(data.get("teams") or "").split(",") if t.strip())
    if not chosen:
        return forms.message("Choose at least one team.")
    event = SuggestionAnswer(
        workspace=WorkspaceRef(T, translate.tenant_of(activity) or ""),
        user=translate.sender(activity),
        suggestion_id=int(value),
        action="flag",
        at=translate.timestamp(activity),
        teams=chosen,
    )
    answer = await runtime.handle_now(translate.dedupe_key(activity), event)
    return forms.message((answer.message if answer else None) or "Done.")
