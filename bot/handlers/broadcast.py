"""Broadcast (SPEC "Broadcast"): one card per routed team, in the team's channel, and one
notice in the origin thread (or the flagger's DM when the origin is shared with another
organisation). Both are outbox rows in the flag's transaction: they are posted once the
flag is committed, exactly once, by whichever replica gets to them."""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session

from bot.handlers.context import OrgContext
from bot.listening import labels as feedback
from config.schema import TeamConfig
from store import broadcasts
from store.models import Flag
from store.queue import enqueue_outbox


def team_channel(team: TeamConfig, origin_platform: str) -> tuple[str, str]:
    """Where a team reads its cards: its Slack channel, or its Teams channel; a team in
    both gets a Teams flag in Teams."""
    if team.slack_channel and not (origin_platform == "teams" and team.teams_channel):
        return "slack", team.slack_channel
    return "teams", team.teams_channel or ""


def broadcast(
    *,
    session: Session,
    org: OrgContext,
    flag: Flag,
    teams: tuple[str, ...],
    now: datetime,
    teaches: bool = True,
) -> None:
    """`teaches`: whether the teams were chosen (by a rule, the model or a person) and so
    are labels for routing; the default teams are not (they would teach themselves)."""
    assert flag.id is not None
    for key in teams:
        team = org.config.team(key)
        assert team is not None
        platform, channel = team_channel(team, flag.platform)
        b = broadcasts.add(
            session=session,
            org_id=org.org_id,
            flag_id=flag.id,
            team_id=org.ids.team_ids[key],
            platform=platform,
            channel_id=channel,
            now=now,
        )
        enqueue_outbox(
            session,
            org_id=org.org_id,
            dedupe_key=f"card:{b.id}",
            kind="card_post",
            platform=platform,
            subject_id=b.id,
            now=now,
        )
    feedback.flagged(session, flag=flag, teams=teams if teaches else (), at=now)
    if teams:
        enqueue_outbox(
            session,
            org_id=org.org_id,
            dedupe_key=f"notice:{flag.id}",
            kind="notice",
            platform=flag.platform,
            subject_id=flag.id,
            now=now,
            target=json.dumps({"dm": flag.origin_shared}),
        )
