"""Listening on Teams, end to end: a customer of another tenant writes in a Teams shared
channel; the suggestion card appears in the Teams triage channel (read from the Bot
Connector stand-in), and its buttons flag or dismiss (SPEC "Listening")."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from bot.demo.standins import teams_activities as ta
from bot.demo.standins.bot_connector import BotConnector
from bot.demo.standins.harness import Server
from store.models import Broadcast, ConversationRef, Flag, InboxEvent
from store.models_listening import ListeningLabel, Suggestion

SHARED = "19:sharedglobex3d4e5f60718293a4b5c6d7e8f9a0@thread.tacv2"
TRIAGE = "19:triage4e5f60718293a4b5c6d7e8f9a0b1c2@thread.tacv2"
CUSTOMER = "8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"  # a Globex person, in Globex's tenant
UPSET = "You charged me twice and the export is broken. This is unacceptable!"
CONFIG = (
    ta.MIXED_ORG_TOML
    + f"""
[listening]
shared_channels = true
triage_channel = "C0TRIAGE"
teams_triage_channel = "{TRIAGE}"
"""
)


def seed(connector: BotConnector) -> None:
    channels = {
        ta.TEAM_ID: None,
        ta.PRODUCT: "Product",
        ta.ENGINEERING: "Eng",
        SHARED: "Globex",
        TRIAGE: "Triage",
    }
    connector.add_team(ta.TEAM_ID, ta.GROUP_ID, channels)
    for aad, name in ta.TEAMS_PEOPLE.items():
        connector.add_member(aad, name)


async def install(server: Server, connector: BotConnector) -> None:
    status, _ = await server.send_activity(ta.bot_added(connector.service_url))
    assert status == 200
    await connector.wait_for(lambda: len(server.query(select(ConversationRef))) >= 5)


def in_shared_channel(connector: BotConnector, text: str, *, user: str, tenant: str | None) -> Any:
    """A post in the shared channel; `tenant`: the sender's home tenant, when not ours."""
    activity = ta.channel_message(connector.service_url, SHARED, text, user=user)
    activity["channelData"]["channel"]["membershipType"] = "shared"
    if tenant is not None:
        activity["from"]["tenantId"] = tenant
    return activity


def suggestion_card(connector: BotConnector) -> tuple[str, dict[str, Any]]:
    (posted,) = connector.threads(TRIAGE)
    assert posted.card is not None
    return posted.id, posted.card


def texts(card: dict[str, Any]) -> str:
    facts = [f"{f['title']}: {f['value']}" for b in card["body"] for f in b.get("facts", [])]
    blocks = [str(b.get("text", "")) for b in card["body"]]
    quoted = [str(i.get("text")) for b in card["body"] for i in b.get("items", [])]
    return "\n".join(blocks + quoted + facts)


async def test_shared_channel_message_from_another_tenant_is_suggested_and_flagged(
    db_url: str,
) -> None:
    async with BotConnector() as connector:
        seed(connector)
        async with Server(db_url, config_toml=CONFIG, teams=connector) as server:
            await install(server, connector)
            said = in_shared_channel(connector, UPSET, user=CUSTOMER, tenant=ta.OTHER_TENANT)
            status, _ = await server.send_activity(said)
            assert status == 200
            await server.settle()

            (s,) = server.query(select(Suggestion))
            assert (s.platform, s.channel_id, s.message_id) == ("teams", SHARED, said["id"])
            assert (s.author_id, s.triage_channel, s.state) == (CUSTOMER, TRIAGE, "open")
            card_id, card = suggestion_card(connector)
            assert s.card_message_id == card_id
            shown = texts(card)
            assert UPSET in shown and "Suggested teams: Billing 50%, Product 50%" in shown
            assert "https://teams.microsoft.com/l/message/" in shown  # the message's link
            actions = [(a["title"], a.get("verb") or a["data"]["ct"]) for a in card["actions"]]
            assert actions == [
                ("Flag", "ct_sg_flag"),
                ("Not a flag", "ct_sg_dismiss"),
                ("Change teams", "ct_sg_teams"),
            ]
            assert connector.threads(SHARED) == [] and connector.replies(SHARED, said["id"]) == []

            press = ta.card_invoke(
                connector.service_url, TRIAGE, card_id, "ct_sg_flag", str(s.id), user=ta.LIZ
            )
            status, answer = await server.send_activity(press)
            assert status == 200
            assert answer["value"] == "Flagged to Billing, Product, Engineering."
            await server.settle()

            (flag,) = server.query(select(Flag))
            assert (flag.platform, flag.via, flag.flagger_id) == ("teams", "suggestion", ta.LIZ)
            assert flag.origin_shared is True  # Teams said so: the notice is no reply there
            assert flag.message_at == s.message_at is not None  # time to flag is measured
            channels = server.query(select(Broadcast.channel_id).order_by(col(Broadcast.id)))
            assert channels == ["C0BILLING", ta.PRODUCT, ta.ENGINEERING]
            assert len(connector.threads(ta.PRODUCT)) == 1
            assert connector.replies(SHARED, said["id"]) == []
            (s,) = server.query(select(Suggestion))
            assert (s.state, s.answered_by, s.flag_id) == ("flagged", ta.LIZ, flag.id)
            assert len([c for c in connector.updates() if card_id in c.path]) == 1
            _, redrawn = suggestion_card(connector)
            assert "actions" not in redrawn and "flagged" in texts(redrawn)


async def test_not_a_flag_and_the_org_own_people_on_teams(db_url: str) -> None:
    async with BotConnector() as connector:
        seed(connector)
        async with Server(db_url, config_toml=CONFIG, teams=connector) as server:
            await install(server, connector)
            # One of the org's people in the shared channel: not scored, not stored.
            status, _ = await server.send_activity(
                in_shared_channel(connector, UPSET, user=ta.LIZ, tenant=None)
            )
            assert status == 200
            await server.settle()
            assert server.query(select(InboxEvent)) == []
            assert server.query(select(Suggestion)) == []

            said = in_shared_channel(connector, UPSET, user=CUSTOMER, tenant=ta.OTHER_TENANT)
            await server.send_activity(said)
            await server.settle()
            card_id, _ = suggestion_card(connector)
            (s,) = server.query(select(Suggestion))
            press = ta.card_invoke(
                connector.service_url, TRIAGE, card_id, "ct_sg_dismiss", str(s.id), user=ta.LIZ
            )
            status, answer = await server.send_activity(press)
            assert status == 200 and answer["value"].startswith("Marked not a flag")
            await server.settle()
            (s,) = server.query(select(Suggestion))
            assert s.state == "dismissed" and server.query(select(Flag)) == []
            (label,) = server.query(select(ListeningLabel))
            assert (label.flag, label.source) == (False, "not_a_flag")


async def test_change_teams_opens_the_flag_form_in_teams(db_url: str) -> None:
    async with BotConnector() as connector:
        seed(connector)
        async with Server(db_url, config_toml=CONFIG, teams=connector) as server:
            await install(server, connector)
            said = in_shared_channel(connector, UPSET, user=CUSTOMER, tenant=ta.OTHER_TENANT)
            await server.send_activity(said)
            await server.settle()
            card_id, card = suggestion_card(connector)
            (s,) = server.query(select(Suggestion))
            (change,) = [a for a in card["actions"] if a["title"] == "Change teams"]
            assert change["data"]["msteams"] == {"type": "task/fetch"}

            data = {k: v for k, v in change["data"].items() if k != "msteams"}
            fetch = ta.task_invoke(
                connector.service_url, TRIAGE, card_id, "task/fetch", data, user=ta.LIZ
            )
            status, answer = await server.send_activity(fetch)
            assert status == 200
            form = answer["task"]["value"]["card"]["content"]
            (teams_input,) = [i for i in form["body"] if i.get("id") == "teams"]
            assert teams_input["value"] == "billing,product,engineering"
            assert form["actions"][0]["data"] == {"ct": "ct_sg_teams", "value": str(s.id)}
            assert server.query(select(Flag)) == []

            submit = ta.task_invoke(
                connector.service_url,
                TRIAGE,
                card_id,
                "task/submit",
                {**form["actions"][0]["data"], "teams": "legal"},
                user=ta.LIZ,
            )
            status, answer = await server.send_activity(submit)
            assert (status, answer) == (
                200,
                {"task": {"type": "message", "value": "Flagged to Legal."}},
            )
            await server.settle()
            (flag,) = server.query(select(Flag))
            assert (flag.via, flag.flagger_id) == ("suggestion", ta.LIZ)
            assert server.query(select(Broadcast.channel_id)) == ["C0LEGAL"]
