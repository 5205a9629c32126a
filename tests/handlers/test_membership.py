"""Team members from a Slack user group are synced at start and count for attribution."""

from __future__ import annotations

from sqlmodel import select

from bot.demo.org import ORG_TOML
from bot.demo.standins.harness import Server
from bot.demo.standins.slack_api import FakeSlack
from store.models import Member, Team
from store.orgs import teams_of

CONFIG = ORG_TOML.replace(
    'key = "legal"\nname = "Legal"\nslack_channel = "C0LEGAL"\nmembers = ["U0LEO"]',
    'key = "legal"\nname = "Legal"\nslack_channel = "C0LEGAL"\nmembers = ["U0LEO"]\n'
    'slack_usergroup = "S0LEGAL"',
)


async def test_usergroup_members_join_the_team(db_url: str) -> None:
    assert "S0LEGAL" in CONFIG
    slack = FakeSlack()
    await slack.start()
    slack.add_usergroup("S0LEGAL", ["U0LIZ", "U0LEO"])
    try:
        async with Server(db_url, config_toml=CONFIG, slack=slack) as server:
            rows = server.query(
                select(Member.user_id, Member.source).join(Team).where(Team.key == "legal")
            )
            assert sorted(rows) == [
                ("U0LEO", "config"),
                ("U0LEO", "usergroup"),
                ("U0LIZ", "usergroup"),
            ]
            from store.db import session_scope

            with session_scope(server.runtime.engine) as session:
                legal = server.runtime.org.ids.team_ids["legal"]
                assert teams_of(session, server.runtime.org.org_id, "slack", "U0LIZ") == [legal]
                assert teams_of(session, server.runtime.org.org_id, "slack", "U0LEO") == [legal]
            assert [c.args["usergroup"] for c in slack.calls_to("usergroups.users.list")] == [
                "S0LEGAL"
            ]
    finally:
        await slack.stop()


async def test_group_change_is_followed_on_restart(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    slack = FakeSlack()
    await slack.start()
    try:
        slack.add_usergroup("S0LEGAL", ["U0LIZ"])
        async with Server(url, config_toml=CONFIG, slack=slack):
            pass
        slack.add_usergroup("S0LEGAL", ["U0LOU"])
        async with Server(url, config_toml=CONFIG, slack=slack) as server:
            rows = server.query(
                select(Member.user_id).where(Member.source == "usergroup").order_by(Member.user_id)
            )
            assert rows == ["U0LOU"]
    finally:
        await slack.stop()
