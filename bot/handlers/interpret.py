"""Interpretations (SPEC "Broadcast", METRICS "Time figures"): human replies in broadcast
threads and "Add interpretation" forms, attributed to the author's team, mirrored to the
origin, with edits and deletions followed."""

from __future__ import annotations

import json
import uuid

from sqlmodel import Session

from bot.core.clock import Clock
from bot.core.events import IncomingMessage, InterpretationForm
from bot.handlers.context import OrgContext
from bot.handlers.timing import refresh_broadcast
from bot.listening import labels as feedback
from config.schema import TeamConfig
from store import broadcasts, flags, interpretations
from store.models import Broadcast, Flag, Interpretation
from store.orgs import teams_of
from store.queue import enqueue_outbox


def _card_of_thread(session: Session, org: OrgContext, msg: IncomingMessage) -> Broadcast | None:
    thread = msg.message.thread_id
    if not thread:
        return None
    return broadcasts.by_card(
        session=session,
        org_id=org.org_id,
        platform=msg.message.platform.value,
        channel_id=msg.message.channel.id,
        message_id=thread,
    )


def _author_team(
    session: Session, org: OrgContext, platform: str, user_id: str, prefer: int
) -> int | None:
    teams = teams_of(session, org.org_id, platform, user_id)
    if prefer in teams:
        return prefer
    return teams[0] if teams else None


def _is_cross_team(flag: Flag, author_team: int | None) -> bool:
    # A person outside every team is a team of their own (METRICS "Network figures"),
    # and the author is never the flagger, so two unaffiliated people are two teams.
    return author_team is None or author_team != flag.flagger_team_id


def _enqueue_mirrors(
    session: Session,
    org: OrgContext,
    interp: Interpretation,
    flag: Flag,
    clock: Clock,
    suffix: str = "",
) -> None:
    mode = org.config.broadcast.mirror
    if mode == "none":
        return
    now = clock.now()
    kind = "mirror_update" if suffix else "mirror"
    enqueue_outbox(
        session,
        org_id=org.org_id,
        dedupe_key=f"mirror:{interp.id}:origin{suffix}",
        kind=kind,
        platform=flag.platform,
        subject_id=interp.id,
        now=now,
        target=json.dumps({"to": "origin", "dm": flag.origin_shared}),
    )
    if mode == "all":
        others = broadcasts.active_others(
            session=session, flag_id=flag.id or 0, but=interp.broadcast_id
        )
        for b in others:
            enqueue_outbox(
                session,
                org_id=org.org_id,
                dedupe_key=f"mirror:{interp.id}:b{b.id}{suffix}",
                kind=kind,
                platform=b.platform,
                subject_id=interp.id,
                now=now,
                target=json.dumps({"to": "broadcast", "broadcast_id": b.id}),
            )


def on_message(
    *, event: IncomingMessage, session: Session, org: OrgContext, clock: Clock
) -> int | None:
    """A message in a channel: an interpretation when it is a human reply in a broadcast
    thread by someone other than the flagger. Returns the interpretation id."""
    if event.author.is_bot:
        return None
    if event.change != "new":
        return _follow_change(session, event, org, clock)
    broadcast = _card_of_thread(session, org, event)
    if broadcast is None or broadcast.id is None:
        return None
    flag = flags.get(session=session, flag_id=broadcast.flag_id)
    assert flag is not None and flag.id is not None
    if flags.is_flagger(session=session, flag_id=flag.id, user_id=event.author.id):
        return None
    platform = event.message.platform.value
    exists = interpretations.by_message(
        session=session,
        platform=platform,
        channel_id=event.message.channel.id,
        message_id=event.message.id,
    )
    if exists is not None:
        return exists.id
    team = _author_team(session, org, platform, event.author.id, broadcast.team_id)
    interp = Interpretation(
        org_id=org.org_id,
        flag_id=flag.id,
        broadcast_id=broadcast.id,
        platform=platform,
        channel_id=event.message.channel.id,
        message_id=event.message.id,
        author_id=event.author.id,
        author_team_id=team,
        cross_team=_is_cross_team(flag, team),
        source="reply",
        text=event.text,
        created_at=event.at,
    )
    interpretations.save(session=session, interpretation=interp)
    refresh_broadcast(session, broadcast, org)
    _answered(session, org, flag, broadcast, interp)
    _mark_progress(session, flag, org, clock)
    _enqueue_mirrors(session, org, interp, flag, clock)
    return interp.id


def _answered(
    session: Session, org: OrgContext, flag: Flag, broadcast: Broadcast, interp: Interpretation
) -> None:
    """A member of the broadcast's team answered it: a routing label for that team."""
    team = org.team_by_id(broadcast.team_id)
    if team is not None and interp.author_team_id == broadcast.team_id:
        feedback.answered(
            session, flag=flag, broadcast=broadcast, team=team.key, at=interp.created_at
        )


def _mark_progress(session: Session, flag: Flag, org: OrgContext, clock: Clock) -> None:
    """A flag someone responded to is no longer merely open; every card shows it."""
    if flag.status == "open":
        flag.status = "acknowledged"
        session.add(flag)
    enqueue_card_updates(session, org, flag.id or 0, clock)


def enqueue_card_updates(session: Session, org: OrgContext, flag_id: int, clock: Clock) -> None:
    now = clock.now()
    for b in broadcasts.of_flag(session=session, flag_id=flag_id):
        enqueue_outbox(
            session,
            org_id=org.org_id,
            dedupe_key=f"card-update:{b.id}:{uuid.uuid4().hex}",
            kind="card_update",
            platform=b.platform,
            subject_id=b.id,
            now=now,
        )


def _follow_change(
    session: Session, event: IncomingMessage, org: OrgContext, clock: Clock
) -> int | None:
    interp = interpretations.by_message(
        session=session,
        platform=event.message.platform.value,
        channel_id=event.message.channel.id,
        message_id=event.message.id,
    )
    if interp is None or (interp.deleted_at is not None) != (event.change == "restored"):
        return None  # unknown, a change to a deleted reply, or a restore of a live one
    if event.change == "edited":
        if interp.text == event.text:
            return interp.id
        interp.text = event.text
        interp.edited_at = event.at
    elif event.change == "restored":
        interp.deleted_at = None
        interp.text = event.text or interp.text
    else:
        interp.deleted_at = event.at
    interpretations.save(session=session, interpretation=interp)
    flag = flags.get(session=session, flag_id=interp.flag_id)
    assert flag is not None
    if interp.broadcast_id is not None:
        broadcast = broadcasts.get(
            session=session, org_id=org.org_id, broadcast_id=interp.broadcast_id
        )
        assert broadcast is not None
        refresh_broadcast(session, broadcast, org)
        enqueue_card_updates(session, org, flag.id or 0, clock)
    _enqueue_mirrors(
        session, org, interp, flag, clock, suffix=f":{event.change}:{event.at.timestamp()}"
    )
    return interp.id


def form_team(*, session: Session, org: OrgContext, broadcast_id: int) -> TeamConfig | None:
    """The team whose "Add interpretation" form a card's button opens."""
    b = broadcasts.get(session=session, org_id=org.org_id, broadcast_id=broadcast_id)
    return org.team_by_id(b.team_id) if b is not None else None


def on_form(
    *, event: InterpretationForm, session: Session, org: OrgContext, clock: Clock
) -> int | None:
    """The "Add interpretation" form: an interpretation with impact, action and owner."""
    broadcast = broadcasts.get(session=session, org_id=org.org_id, broadcast_id=event.broadcast_id)
    if broadcast is None:
        return None
    flag = flags.get(session=session, flag_id=broadcast.flag_id)
    assert flag is not None and flag.id is not None
    platform = event.user.platform.value
    team = _author_team(session, org, platform, event.user.id, broadcast.team_id)
    is_flagger = flags.is_flagger(session=session, flag_id=flag.id, user_id=event.user.id)
    interp = Interpretation(
        org_id=org.org_id,
        flag_id=flag.id,
        broadcast_id=None if is_flagger else broadcast.id,
        platform=platform,
        channel_id=broadcast.channel_id,
        message_id=f"form:{event.user.id}:{event.at.timestamp()}",
        author_id=event.user.id,
        author_team_id=team,
        cross_team=not is_flagger and _is_cross_team(flag, team),
        source="form",
        text=event.text,
        impact=event.impact,
        action=event.action,
        owner_id=event.owner.id if event.owner else None,
        created_at=event.at,
    )
    interpretations.save(session=session, interpretation=interp)
    refresh_broadcast(session, broadcast, org)
    if not is_flagger:
        _answered(session, org, flag, broadcast, interp)
    _mark_progress(session, flag, org, clock)
    _enqueue_mirrors(session, org, interp, flag, clock)
    return interp.id
