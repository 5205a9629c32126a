"""Listening (SPEC "Listening"): each message of a watched channel is scored by the org's
model; above the threshold it becomes one suggestion, posted as a card in the internal
triage channel (never in the watched channel, which a customer may read).

What is watched: in a channel shared with another organisation (Slack Connect, a Teams
shared channel) only the other organisation's people, the customers, and their thread
replies too (customers answer in threads); in a listed internal channel such as
#customer-feedback, where employees paste what customers said, every human message at the
top level (the replies under it are colleagues discussing it). Never a bot, an edit or a
deletion.

Privacy: a message that is not suggested leaves nothing but a count in
`listening_counters` (and its inbox row's payload is erased once handled, store/queue.py).
Scoring runs on a database thread, off the event loop, so it never delays an ack.
"""

from __future__ import annotations

import json
import logging

from sqlmodel import Session

from bot.core.clock import Clock
from bot.core.events import WatchedMessage
from bot.handlers.context import OrgContext
from bot.handlers.redact import redact
from bot.listening.current import current
from bot.listening.routing import routing_for, rule_keywords
from config.listening import ListeningConfig
from store import suggestions
from store.db import Database
from store.models_listening import Suggestion
from store.queue import enqueue_outbox

log = logging.getLogger("crosstalk.listening")
CARD = "suggestion_card"
UPDATE = "suggestion_update"
TEXT_LIMIT = 4000

Suggested = tuple[float, list[tuple[str, float | None]]]  # (score, [(team, confidence)])


def wants(listening: ListeningConfig, event: WatchedMessage, shared: bool) -> bool:
    """Whether a message is one to score; set lookups only (it runs before every ack).
    `shared`: the platform says the channel is shared with another organisation."""
    if event.author.is_bot or not event.text.strip():
        return False
    listed = event.message.channel.id in listening.watched
    if shared or event.external:
        return event.external and (listed or listening.shared_channels)
    return listed and event.message.thread_id is None


def card_key(suggestion_id: int) -> str:
    return f"suggestion:{suggestion_id}"


def _score(session: Session, org: OrgContext, event: WatchedMessage) -> Suggested | None:
    """The score and teams of a message worth suggesting; None for the rest."""
    listener = current(session, org.org_id, rule_keywords(org.config))
    listener = listener.with_threshold(org.config.listening.threshold)
    score = listener.score(event.text)
    if not listener.suggests(score):
        return None
    # The teams a flag of it would reach: the rules' where they match, else the model's
    # once it is confident, else the default teams; shown with the model's confidence.
    routing = routing_for(
        session=session, org=org, text=event.text, channel_id=event.message.channel.id
    )
    confidence = dict(score.teams)
    return score.flag, [(team, confidence.get(team)) for team in routing.teams]


def _record(
    session: Session,
    *,
    org: OrgContext,
    event: WatchedMessage,
    suggested: Suggested | None,
    triage: str,
    clock: Clock,
) -> int | None:
    """Count the message; above the threshold, its one suggestion and the card's post."""
    now = clock.now()
    if suggested is None:
        suggestions.count(session=session, org_id=org.org_id, day=now.date())
        return None
    score, teams = suggested
    text = redact(event.text) if org.config.broadcast.redact_pii else event.text
    m = event.message
    new_id = suggestions.add(
        session=session,
        suggestion=Suggestion(
            org_id=org.org_id,
            platform=m.platform.value,
            channel_id=m.channel.id,
            message_id=m.id,
            thread_id=m.thread_id,
            message_at=event.at,
            author_id=event.author.id or None,
            text=text[:TEXT_LIMIT],
            score=score,
            teams=json.dumps(teams),
            triage_channel=triage,
            created_at=now,
        ),
    )
    suggestions.count(
        session=session, org_id=org.org_id, day=now.date(), suggested=int(new_id is not None)
    )
    if new_id is not None:
        enqueue_outbox(
            session,
            org_id=org.org_id,
            dedupe_key=card_key(new_id),
            kind=CARD,
            platform=m.platform.value,
            now=now,
            subject_id=new_id,
            target=json.dumps({"channel": triage}),
        )
        org.wake_outbox()
    return new_id


async def on_watched(
    *, event: WatchedMessage, db: Database, org: OrgContext, clock: Clock
) -> int | None:
    """Score a watched message; the new suggestion's id when it is suggested."""
    triage = org.config.listening.triage(event.message.platform.value)
    if triage is None:  # `config check` requires one: a config changed under a queued event
        log.warning("listening: no triage channel for %s: not scored", event.message.platform)
        return None
    suggested = await db.run(lambda s: _score(s, org, event), read_only=True)
    return await db.run(
        lambda s: _record(s, org=org, event=event, suggested=suggested, triage=triage, clock=clock)
    )
