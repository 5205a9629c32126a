"""Capture in Teams over real HTTP (emulator mode on loopback, no tokens): the bot added
to a team keeps a conversation reference; the message action and `@Crosstalk flag` in a
reply make a flag; a redelivered activity is handled once; an unclaimed tenant leaves no
trace."""

from __future__ import annotations

import json

from sqlmodel import func, select

from bot.demo.standins import teams_activities as ta
from bot.demo.standins.bot_connector import TENANT, BotConnector
from bot.demo.standins.harness import Server
from store.models import ConversationRef, Flag, FlagFlagger, InboxEvent

SAYS = "You charged me twice and the export is broken, I want a refund."


def teams_server(db_url: str, connector: BotConnector, **kwargs: object) -> Server:
    return Server(db_url, config_toml=ta.MIXED_ORG_TOML, teams=connector, **kwargs)  # type: ignore[arg-type]


def seed(connector: BotConnector) -> None:
    connector.add_team(
        ta.TEAM_ID,
        ta.GROUP_ID,
        {ta.TEAM_ID: None, ta.PRODUCT: "Product", ta.ENGINEERING: "Eng", ta.CUSTOMERS: "Customers"},
    )
    for aad, name in ta.TEAMS_PEOPLE.items():
        connector.add_member(aad, name)


async def install(server: Server, connector: BotConnector) -> None:
    status, _ = await server.send_activity(ta.bot_added(connector.service_url))
    assert status == 200
    await connector.wait_for(lambda: len(server.query(select(ConversationRef))) >= 4)


async def test_install_keeps_a_reference_for_each_channel_of_the_team(db_url: str) -> None:
    async with BotConnector() as connector:
        seed(connector)
        async with teams_server(db_url, connector) as server:
            await install(server, connector)
            refs = {r.channel_id: r for r in server.query(select(ConversationRef))}
            assert set(refs) == {ta.TEAM_ID, ta.PRODUCT, ta.ENGINEERING, ta.CUSTOMERS}
            product = refs[ta.PRODUCT]
            assert (product.tenant_id, product.team_id) == (TENANT, ta.TEAM_ID)
            assert product.service_url == connector.service_url
            stored = json.loads(product.reference)
            assert stored["conversation"]["id"] == ta.PRODUCT
            assert stored["bot"]["id"] == ta.BOT_ID
            assert stored["crosstalk"]["aadGroupId"] == ta.GROUP_ID
            assert stored["crosstalk"]["channelName"] == "Product"
            # Installing again refreshes, never doubles.
            await server.send_activity(ta.bot_added(connector.service_url))
            await server.settle()
            assert len(server.query(select(ConversationRef))) == 4


async def test_message_action_opens_the_form_and_flags(db_url: str) -> None:
    async with BotConnector() as connector:
        seed(connector)
        async with teams_server(db_url, connector) as server:
            await install(server, connector)
            message = ta.message_id()
            fetch = ta.flag_action(
                connector.service_url,
                "composeExtension/fetchTask",
                ta.CUSTOMERS,
                message,
                SAYS,
                user=ta.LIZ,
                author=ta.PIA,
            )
            status, answer = await server.send_activity(fetch)
            assert status == 200
            form = answer["task"]["value"]["card"]["content"]
            teams_input = next(i for i in form["body"] if i.get("id") == "teams")
            # Prefilled from routing: refund -> billing, export -> product, broken -> eng.
            assert set(teams_input["value"].split(",")) == {"billing", "product", "engineering"}
            assert not server.query(select(Flag))

            submit = ta.flag_action(
                connector.service_url,
                "composeExtension/submitAction",
                ta.CUSTOMERS,
                message,
                SAYS,
                user=ta.LIZ,
                author=ta.PIA,
                data={"teams": "billing,product", "customer": "Globex", "note": "urgent"},
            )
            status, answer = await server.send_activity(submit)
            assert status == 200
            await server.settle()
            [flag] = server.query(select(Flag))
            assert (flag.platform, flag.channel_id, flag.message_id) == (
                "teams",
                ta.CUSTOMERS,
                message,
            )
            assert flag.via == "action" and flag.flagger_id == ta.LIZ
            assert flag.author_id == ta.PIA and flag.customer == "Globex"
            assert "charged me twice" in flag.excerpt
            assert flag.permalink and flag.permalink.startswith("https://teams.microsoft.com/l/")


async def test_flag_by_mention_in_a_reply_flags_the_root(db_url: str) -> None:
    async with BotConnector() as connector:
        seed(connector)
        async with teams_server(db_url, connector) as server:
            await install(server, connector)
            root = connector.add_message(ta.CUSTOMERS, "Your invoice is wrong again", author=ta.PIA)
            mention = ta.channel_message(
                connector.service_url,
                ta.CUSTOMERS,
                "flag",
                user=ta.LIZ,
                root=root,
                mention_bot=True,
            )
            status, _ = await server.send_activity(mention)
            assert status == 200
            # Teams redelivers an activity it thinks failed: handled once.
            status, _ = await server.send_activity(mention)
            assert status == 200
            await server.settle()
            [flag] = server.query(select(Flag))
            assert (flag.message_id, flag.via, flag.author_id) == (root, "mention", ta.PIA)
            assert flag.excerpt == "Your invoice is wrong again"
            assert len(server.query(select(InboxEvent))) == 1
            assert len(server.query(select(FlagFlagger))) == 1


async def test_an_unclaimed_tenant_is_ignored_and_stored_nowhere(db_url: str) -> None:
    async with BotConnector() as connector:
        seed(connector)
        async with teams_server(db_url, connector) as server:
            other = ta.OTHER_TENANT
            assert (await server.send_activity(ta.bot_added(connector.service_url, tenant=other)))[
                0
            ] == 200
            message = ta.message_id()
            submit = ta.flag_action(
                connector.service_url,
                "composeExtension/submitAction",
                ta.CUSTOMERS,
                message,
                SAYS,
                user=ta.LIZ,
                author=ta.PIA,
                data={"teams": "billing"},
                tenant=other,
            )
            status, answer = await server.send_activity(submit)
            assert (status, answer) == (200, {})
            await server.settle()
            for model in (ConversationRef, InboxEvent, Flag):
                assert server.query(select(func.count()).select_from(model)) == [0]
            assert not connector.calls


async def test_from_a_shared_channel_the_notice_goes_to_the_flagger_privately(
    db_url: str,
) -> None:
    async with BotConnector() as connector:
        seed(connector)
        async with teams_server(db_url, connector) as server:
            await install(server, connector)
            message = ta.message_id()
            submit = ta.flag_action(
                connector.service_url,
                "composeExtension/submitAction",
                ta.CUSTOMERS,
                message,
                "Our lawyer asks about the DPA",
                user=ta.LIZ,
                author=ta.PIA,
                data={"teams": "legal"},
            )
            submit["channelData"]["channel"]["membershipType"] = "shared"
            assert (await server.send_activity(submit))[0] == 200
            await server.settle()
            [flag] = server.query(select(Flag))
            assert flag.origin_shared
            assert not connector.replies(ta.CUSTOMERS, message)  # nothing where guests read
            [notice] = connector.chat(ta.LIZ)
            assert "Legal" in json.dumps(notice.card)
