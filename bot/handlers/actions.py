"""Buttons on a broadcast card (Acknowledge, Not for us, Resolve) and ack reactions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.clock import Clock
from bot.core.events import CardAction, Reaction
from bot.handlers.context import OrgContext
from bot.handlers.interpret import enqueue_card_updates
from bot.handlers.timing import refresh_broadcast, refresh_flag
from store.db import session_scope
from store.models import Broadcast, Flag, FlagFlagger, Member, RoutingFeedback


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    message: str | None = None


def _is_member(session: Session, team_id: int, platform: str, user_id: str) -> bool:
    members = session.exec(
        select(Member.platform, Member.user_id).where(Member.team_id == team_id)
    ).all()
    # A team without listed members (e.g. one known only by its channel) accepts anyone.
    return not members or (platform, user_id) in set(members)


def _can_resolve(session: Session, flag: Flag, platform: str, user_id: str) -> bool:
    flagger = session.exec(
        select(FlagFlagger.id).where(FlagFlagger.flag_id == flag.id, FlagFlagger.user_id == user_id)
    ).first()
    if flagger is not None:
        return True
    teams = session.exec(select(Broadcast.team_id).where(Broadcast.flag_id == flag.id)).all()
    return any(_is_member(session, t, platform, user_id) for t in teams)


def _acknowledge(
    session: Session, broadcast: Broadcast, flag: Flag, user_id: str, at_: CardAction | Reaction
) -> bool:
    if broadcast.acknowledged_at is not None:
        return False
    broadcast.acknowledged_at = at_.at
    broadcast.acknowledged_by = user_id
    refresh_broadcast(session, broadcast)
    if flag.status == "open":
        flag.status = "acknowledged"
        session.add(flag)
    return True


def on_card_action(
    *, event: CardAction, engine: Engine, org: OrgContext, clock: Clock
) -> ActionResult:
    platform = event.user.platform.value
    with session_scope(engine) as session:
        broadcast = session.get(Broadcast, event.broadcast_id)
        if broadcast is None or broadcast.org_id != org.org_id:
            return ActionResult(False, "This card is no longer known to Crosstalk.")
        flag = session.get(Flag, broadcast.flag_id)
        assert flag is not None
        team = org.team_by_id(broadcast.team_id)
        team_name = team.name if team else "this team"
        if event.action == "resolve":
            if not _can_resolve(session, flag, platform, event.user.id):
                return ActionResult(
                    False, "Only the flagger or a member of a team it was sent to can resolve it."
                )
            if flag.status == "resolved":
                return ActionResult(True, "Already resolved.")
            flag.status = "resolved"
            flag.resolved_at = event.at
            flag.resolved_by = event.user.id
            refresh_flag(session, flag, org.config.org.business_hours, org.config.org.timezone)
        elif not _is_member(session, broadcast.team_id, platform, event.user.id):
            return ActionResult(False, f"Only members of {team_name} can do that on this card.")
        elif event.action == "acknowledge":
            if not _acknowledge(session, broadcast, flag, event.user.id, event):
                return ActionResult(True, "Already acknowledged.")
        else:
            if broadcast.status == "not_for_us":
                return ActionResult(True, f"Already marked not for {team_name}.")
            broadcast.status = "not_for_us"
            broadcast.not_for_us_at = event.at
            broadcast.not_for_us_by = event.user.id
            session.add(broadcast)
            session.add(
                RoutingFeedback(
                    org_id=org.org_id,
                    flag_id=flag.id or 0,
                    team_id=broadcast.team_id,
                    user_id=event.user.id,
                    at=event.at,
                )
            )
            active = session.exec(
                select(Broadcast.id).where(
                    Broadcast.flag_id == flag.id, Broadcast.status == "active"
                )
            ).first()
            if active is None and flag.status != "resolved":
                flag.status = "dismissed"
                session.add(flag)
        enqueue_card_updates(session, org, flag.id or 0, clock)
        return ActionResult(True)


def on_ack_reaction(*, event: Reaction, engine: Engine, org: OrgContext, clock: Clock) -> bool:
    """An ack reaction (default :eyes: or :white_check_mark:) on a card acknowledges it."""
    if event.emoji not in org.config.flagging.ack_reactions:
        return False
    with session_scope(engine) as session:
        broadcast = session.exec(
            select(Broadcast).where(
                Broadcast.platform == event.message.platform.value,
                Broadcast.channel_id == event.message.channel.id,
                Broadcast.message_id == event.message.id,
            )
        ).first()
        if broadcast is None or broadcast.org_id != org.org_id:
            return False
        if not _is_member(session, broadcast.team_id, event.user.platform.value, event.user.id):
            return False
        flag = session.get(Flag, broadcast.flag_id)
        assert flag is not None
        if not _acknowledge(session, broadcast, flag, event.user.id, event):
            return False
        enqueue_card_updates(session, org, flag.id or 0, clock)
        return True
