"""Team membership from Slack user groups (config `slack_usergroup`), refreshed at start
and on a schedule, so a team's members follow the group without editing the config."""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine

from bot.core.gateway import GatewayError
from bot.core.refs import Platform
from bot.handlers.context import Gateways, OrgContext
from store.db import session_scope
from store.orgs import sync_group_members

log = logging.getLogger("crosstalk.membership")


async def sync_usergroups(*, engine: Engine, org: OrgContext, gateways: Gateways) -> int:
    """Refresh every team that names a user group; returns how many teams were refreshed.
    A group that cannot be read keeps its last known members."""
    if not gateways.has(Platform.SLACK):
        return 0
    gateway = gateways.get(Platform.SLACK)
    refreshed = 0
    for team in org.config.teams:
        if not team.slack_usergroup:
            continue
        try:
            users = await gateway.group_members(team.slack_usergroup)
        except GatewayError as exc:
            log.warning(
                "user group %s of team %s not refreshed: %s", team.slack_usergroup, team.key, exc
            )
            continue
        with session_scope(engine) as session:
            sync_group_members(session, org.org_id, org.ids.team_ids[team.key], "slack", users)
        refreshed += 1
    return refreshed
