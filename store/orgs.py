"""Bring the org, its teams and their members in the database in line with the config."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.core.refs import Platform, UserRef
from config.schema import CrosstalkConfig
from store.models import Member, Org, Team


@dataclass(frozen=True)
class OrgIds:
    org_id: int
    team_ids: dict[str, int]

    def team_key(self, team_id: int | None) -> str | None:
        if team_id is None:
            return None
        return next((k for k, v in self.team_ids.items() if v == team_id), None)


def sync_org(session: Session, config: CrosstalkConfig) -> OrgIds:
    org = session.exec(select(Org).where(Org.name == config.org.name)).first()
    if org is None:
        org = Org(name=config.org.name)
        session.add(org)
        session.flush()
    assert org.id is not None
    existing = {t.key: t for t in session.exec(select(Team).where(Team.org_id == org.id))}
    team_ids: dict[str, int] = {}
    for tc in config.teams:
        team = existing.pop(tc.key, None) or Team(
            org_id=org.id, key=tc.key, name=tc.name, sla_seconds=0, timezone="", business_hours=""
        )
        team.name = tc.name
        team.slack_channel = tc.slack_channel
        team.teams_channel = tc.teams_channel
        team.sla_seconds = tc.sla_seconds
        team.timezone = tc.zone.key
        team.business_hours = tc.business_hours or config.org.business_hours
        team.active = True
        session.add(team)
        session.flush()
        assert team.id is not None
        team_ids[tc.key] = team.id
        _sync_members(session, org.id, team.id, tc.member_refs)
    for gone in existing.values():
        gone.active = False
        session.add(gone)
    return OrgIds(org_id=org.id, team_ids=team_ids)


def _sync_members(
    session: Session,
    org_id: int,
    team_id: int,
    members: Iterable[UserRef],
    source: str = "config",
) -> None:
    """Make the team's members from one source exactly `members` (other sources stay)."""
    wanted = {(m.platform.value, m.id) for m in members}
    rows = session.exec(
        select(Member).where(Member.team_id == team_id, Member.source == source)
    ).all()
    have = {(m.platform, m.user_id): m for m in rows}
    for key, row in have.items():
        if key not in wanted:
            session.delete(row)
    for plat, user_id in wanted - have.keys():
        session.add(
            Member(org_id=org_id, team_id=team_id, platform=plat, user_id=user_id, source=source)
        )


def sync_group_members(
    session: Session, org_id: int, team_id: int, platform: str, members: list[str]
) -> None:
    """Members that come from a platform user group (a Slack user group)."""
    refs = [UserRef(Platform(platform), m) for m in members]
    _sync_members(session, org_id, team_id, refs, source="usergroup")


def teams_of(session: Session, org_id: int, platform: str, user_id: str) -> list[int]:
    """The teams a user belongs to, in config order (team id order)."""
    stmt = (
        select(Member.team_id)
        .where(Member.org_id == org_id, Member.platform == platform, Member.user_id == user_id)
        .distinct()
        .order_by(col(Member.team_id))
    )
    return list(session.exec(stmt).all())


def team(*, session: Session, team_id: int) -> Team | None:
    return session.get(Team, team_id)


def team_members(*, session: Session, team_id: int) -> set[tuple[str, str]]:
    """(platform, user id) of everyone in a team, from every source."""
    rows = session.exec(select(Member.platform, Member.user_id).where(Member.team_id == team_id))
    return set(rows.all())


def org_id_of(*, session: Session, name: str) -> int | None:
    org = session.exec(select(Org).where(Org.name == name)).first()
    return org.id if org is not None else None
