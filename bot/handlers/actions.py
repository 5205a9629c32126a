"""Buttons on a broadcast card (Acknowledge, Not for us, Resolve) and ack reactions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from bot.core.clock import Clock
from bot.core.events import CardAction, Reaction
from bot.handlers.context import OrgContext
from bot.handlers.interpret import enqueue_card_updates
from bot.handlers.timing import refresh_broadcast, refresh_flag
from bot.listening import labels as feedback
from store import broadcasts, flags, orgs
from store.models import Broadcast, Flag, RoutingFeedback


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    message: str | None = None


def is_member(session: Session, team_id: int, platform: str, user_id: str) -> bool:
    members = orgs.team_members(session=session, team_id=team_id)
    # A team without listed members (e.g. one known only by its channel) accepts anyone.
    return not members or (platform, user_id) in members


def may_close(session: Session, flag: Flag, platform: str, user_id: str) -> bool:
    """The flagger, or a member of a team it was sent to, may resolve a flag."""
    assert flag.id is not None
    if flags.is_flagger(session=session, flag_id=flag.id, user_id=user_id):
        return True
    teams = broadcasts.team_ids_of_flag(session=session, flag_id=flag.id)
    return any(is_member(session, t, platform, user_id) for t in teams)


def _acknowledge(
    session: Session,
    org: OrgContext,
    broadcast: Broadcast,
    flag: Flag,
    user_id: str,
    at_: CardAction | Reaction,
) -> bool:
    if broadcast.acknowledged_at is not None:
        return False
    broadcast.acknowledged_at = at_.at
    broadcast.acknowledged_by = user_id
    refresh_broadcast(session, broadcast, org)
    if flag.status == "open":
        flag.status = "acknowledged"
    return True


def _resolve(session: Session, org: OrgContext, flag: Flag, event: CardAction) -> ActionResult:
    if not may_close(session, flag, event.user.platform.value, event.user.id):
        return ActionResult(
            False, "Only the flagger or a member of a team it was sent to can resolve it."
        )
    if flag.status == "resolved":
        return ActionResult(True, "Already resolved.")
    flag.status = "resolved"
    flag.resolved_at = event.at
    flag.resolved_by = event.user.id
    refresh_flag(session, flag, org.config.org)
    return ActionResult(True)


def _not_for_us(
    session: Session, org: OrgContext, broadcast: Broadcast, flag: Flag, event: CardAction
) -> ActionResult:
    """The team passes the flag on: recorded as routing feedback; a flag no team keeps is
    dismissed."""
    if broadcast.status == "not_for_us":
        team = org.team_by_id(broadcast.team_id)
        return ActionResult(True, f"Already marked not for {team.name if team else 'this team'}.")
    broadcast.status = "not_for_us"
    broadcast.not_for_us_at = event.at
    broadcast.not_for_us_by = event.user.id
    session.add(
        RoutingFeedback(
            org_id=org.org_id,
            flag_id=flag.id or 0,
            team_id=broadcast.team_id,
            user_id=event.user.id,
            at=event.at,
        )
    )
    team = org.team_by_id(broadcast.team_id)
    if team is not None:  # the labels follow the flag's teams
        feedback.not_for_us(session, flag=flag, broadcast=broadcast, team=team.key, at=event.at)
    session.flush()
    if not broadcasts.any_active(session=session, flag_id=flag.id or 0) and (
        flag.status != "resolved"
    ):
        flag.status = "dismissed"
    return ActionResult(True)


def on_card_action(
    *, event: CardAction, session: Session, org: OrgContext, clock: Clock
) -> ActionResult:
    broadcast = broadcasts.get(session=session, org_id=org.org_id, broadcast_id=event.broadcast_id)
    if broadcast is None:
        return ActionResult(False, "This card is no longer known to Crosstalk.")
    flag = flags.get(session=session, flag_id=broadcast.flag_id)
    assert flag is not None
    if event.action == "resolve":
        result = _resolve(session, org, flag, event)
    elif not is_member(session, broadcast.team_id, event.user.platform.value, event.user.id):
        team = org.team_by_id(broadcast.team_id)
        name = team.name if team else "this team"
        return ActionResult(False, f"Only members of {name} can do that on this card.")
    elif event.action == "acknowledge":
        acknowledged = _acknowledge(session, org, broadcast, flag, event.user.id, event)
        result = ActionResult(True) if acknowledged else ActionResult(True, "Already acknowledged.")
    else:
        result = _not_for_us(session, org, broadcast, flag, event)
    if result.ok and result.message is None:
        enqueue_card_updates(session, org, flag.id or 0, clock)
    return result


def on_ack_reaction(*, event: Reaction, session: Session, org: OrgContext, clock: Clock) -> bool:
    """An ack reaction (default :eyes: or :white_check_mark:) on a card acknowledges it."""
    if event.emoji not in org.config.flagging.ack_reactions:
        return False
    broadcast = broadcasts.by_card(
        session=session,
        org_id=org.org_id,
        platform=event.message.platform.value,
        channel_id=event.message.channel.id,
        message_id=event.message.id,
    )
    if broadcast is None:
        return False
    if not is_member(session, broadcast.team_id, event.user.platform.value, event.user.id):
        return False
    flag = flags.get(session=session, flag_id=broadcast.flag_id)
    assert flag is not None
    if not _acknowledge(session, org, broadcast, flag, event.user.id, event):
        return False
    enqueue_card_updates(session, org, flag.id or 0, clock)
    return True
