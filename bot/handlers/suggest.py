"""Answers to a suggestion card (SPEC "Listening"): **Flag**, **Not a flag**, **Change teams**.

**Flag** makes a normal flag through the flag path (`via = "suggestion"`, the presser as
flagger), to the teams the card shows, which are the rules' teams where a rule matched and
the model's otherwise (bot.handlers.listen); **Change teams** opens the flag form with
those teams chosen, and its submission flags to the teams chosen there. The flag's labels
(a positive per final team) are written by the flag path itself (bot.listening.labels).
**Not a flag** is a negative label. The first answer stands: a second press, or a press
on another replica, changes nothing and is told who answered first; two **Flag** presses
make one flag (the flag's unique key on the message decides).
"""

from __future__ import annotations

import json

from sqlmodel import Session

from bot.core.cards import Button, Card, Link, RichText
from bot.core.clock import Clock
from bot.core.events import FlagRequest, SuggestionAnswer
from bot.core.refs import ChannelRef, MessageRef, Platform, UserRef
from bot.handlers import flag
from bot.handlers.context import Gateways, OrgContext
from bot.handlers.listen import UPDATE, card_key
from store import flags, labels, suggestions
from store.db import Database
from store.models_listening import Suggestion
from store.queue import enqueue_outbox

FLAG, DISMISS, CHANGE = "ct_sg_flag", "ct_sg_dismiss", "ct_sg_teams"
GONE = "This suggestion is no longer known to Crosstalk."


def label_ref(suggestion_id: int) -> str:
    return f"suggestion:{suggestion_id}"


def teams_of(s: Suggestion) -> list[tuple[str, float | None]]:
    return [(str(t), None if c is None else float(c)) for t, c in json.loads(s.teams)]


def _team_list(s: Suggestion, org: OrgContext) -> str:
    shown = []
    for key, confidence in teams_of(s):
        team = org.config.team(key)
        name = team.name if team else key
        shown.append(f"{name} {confidence:.0%}" if confidence is not None else name)
    return ", ".join(shown) or "none (the default teams)"


def _user(s: Suggestion, user_id: str | None) -> UserRef | str:
    return UserRef(Platform(s.platform), user_id) if user_id else "someone"


def suggestion_card(s: Suggestion, org: OrgContext) -> Card:
    """The card in the triage channel, as the suggestion stands now."""
    assert s.id is not None
    facts: list[tuple[str, RichText]] = [
        ("From", (_user(s, s.author_id),)),
        ("Suggested teams", (_team_list(s, org),)),
        ("Likely a flag", (f"{s.score:.0%}",)),
    ]
    if s.permalink:
        facts.append(("Original", (Link(s.permalink, "open the message"),)))
    notes: tuple[RichText, ...] = ()
    buttons: tuple[Button, ...] = ()
    state = ""
    value = str(s.id)
    if s.state == "flagged":
        state = " — flagged"
        notes = (("Flagged by ", _user(s, s.answered_by)),)
    elif s.state == "dismissed":
        state = " — not a flag"
        notes = (("Marked not a flag by ", _user(s, s.answered_by)),)
    else:
        buttons = (
            Button("Flag", FLAG, value, "primary"),
            Button("Not a flag", DISMISS, value, "danger"),
            Button("Change teams", CHANGE, value),
        )
    return Card(
        title=f"💡 Suggested flag{state}",
        summary=f"Suggested flag: {s.text[:120]}",
        quote=s.text,
        facts=tuple(facts),
        notes=notes,
        buttons=buttons,
    )


def find(*, session: Session, org: OrgContext, suggestion_id: int) -> Suggestion | str:
    """The open suggestion a button or form is about, or what to tell the presser."""
    s = suggestions.get(session=session, org_id=org.org_id, suggestion_id=suggestion_id)
    if s is None:
        return GONE
    if s.state != "open":
        return _already(s)
    return s


def _already(s: Suggestion) -> str:
    done = "flagged" if s.state == "flagged" else "marked not a flag"
    return f"Already {done}."


def _updated(session: Session, s: Suggestion, org: OrgContext, clock: Clock) -> None:
    assert s.id is not None
    enqueue_outbox(
        session,
        org_id=org.org_id,
        dedupe_key=f"{card_key(s.id)}:answered",
        kind=UPDATE,
        platform=s.platform,
        now=clock.now(),
        subject_id=s.id,
    )
    org.wake_outbox()


def _dismiss(session: Session, event: SuggestionAnswer, org: OrgContext, clock: Clock) -> str:
    found = find(session=session, org=org, suggestion_id=event.suggestion_id)
    if isinstance(found, str):
        return found
    won = suggestions.answer(
        session=session,
        org_id=org.org_id,
        suggestion_id=event.suggestion_id,
        state="dismissed",
        by=event.user.id,
        at=event.at,
    )
    if not won:
        return "Already answered."
    labels.add(
        session,
        org_id=org.org_id,
        ref=label_ref(event.suggestion_id),
        text=found.text,
        flag=False,
        team=None,
        team_ok=True,
        source="not_a_flag",
        at=event.at,
    )
    _updated(session, found, org, clock)
    return "Marked not a flag: Crosstalk learns from it."


def _request(s: Suggestion, event: SuggestionAnswer) -> FlagRequest:
    platform = Platform(s.platform)
    teams = event.teams if event.teams is not None else tuple(t for t, _ in teams_of(s))
    return FlagRequest(
        workspace=event.workspace,
        message=MessageRef(ChannelRef(platform, s.channel_id), s.message_id, s.thread_id),
        flagger=event.user,
        at=event.at,
        via="suggestion",
        text=s.text,
        author=UserRef(platform, s.author_id) if s.author_id else None,
        teams=teams,
    )


def _mark_flagged(
    session: Session,
    event: SuggestionAnswer,
    flag_id: int,
    org: OrgContext,
    clock: Clock,
) -> bool:
    s = suggestions.get(session=session, org_id=org.org_id, suggestion_id=event.suggestion_id)
    assert s is not None
    teams = None
    if event.teams is not None:  # the form's choice replaces the suggested teams
        confidence = dict(teams_of(s))
        teams = json.dumps([(t, confidence.get(t)) for t in event.teams])
    won = suggestions.answer(
        session=session,
        org_id=org.org_id,
        suggestion_id=event.suggestion_id,
        state="flagged",
        by=event.user.id,
        at=event.at,
        flag_id=flag_id,
        teams=teams,
    )
    if won:
        flagged = flags.get(session=session, flag_id=flag_id, org_id=org.org_id)
        if flagged is not None and flagged.message_at is None:  # time to flag (METRICS)
            flagged.message_at = s.message_at
        _updated(session, s, org, clock)
    return won


async def on_answer(
    *, event: SuggestionAnswer, db: Database, org: OrgContext, gateways: Gateways, clock: Clock
) -> str:
    """Handle a press (or the form); what the presser is told."""
    if event.action == "dismiss":
        return await db.run(lambda s: _dismiss(s, event, org, clock))
    found = await db.run(
        lambda s: find(session=s, org=org, suggestion_id=event.suggestion_id), read_only=True
    )
    if isinstance(found, str):
        return found
    if found.platform != event.user.platform.value:
        return "Flag this from the platform the message was posted on."
    result = await flag.flag_message(
        event=_request(found, event), db=db, org=org, gateways=gateways, clock=clock
    )
    if result is None:
        return "The message could not be read: it may have been deleted."
    won = await db.run(lambda s: _mark_flagged(s, event, result.flag_id, org, clock))
    if not won:
        return "Already answered."
    names = [t.name for k in result.teams if (t := org.config.team(k)) is not None]
    return f"Flagged to {', '.join(names)}." if names else "Flagged."
