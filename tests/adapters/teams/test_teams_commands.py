"""`@Crosstalk roi` and help in Teams: the answer comes in the thread, off the request."""

from __future__ import annotations

from bot.demo.standins import teams_activities as ta
from bot.demo.standins.bot_connector import BotConnector, Message
from tests.adapters.teams.test_teams_capture import install, seed, teams_server


async def ask(server: object, connector: BotConnector, text: str, user: str) -> Message:
    post = ta.channel_message(
        connector.service_url, ta.CUSTOMERS, text, user=user, mention_bot=True
    )
    status, _ = await server.send_activity(post)  # type: ignore[attr-defined]
    assert status == 200
    await connector.wait_for(lambda: connector.replies(ta.CUSTOMERS, post["id"]))
    [answer] = connector.replies(ta.CUSTOMERS, post["id"])
    return answer


async def test_roi_for_managers_refusal_and_usage_for_others(db_url: str) -> None:
    async with BotConnector() as connector:
        seed(connector)
        async with teams_server(db_url, connector) as server:
            await install(server, connector)
            report = await ask(server, connector, "roi 30d billing", ta.MGR)
            assert report.card is not None
            assert report.card["body"][0]["text"].startswith("/roi Acme")
            assert "Social ROI" in str(report.card)

            refused = await ask(server, connector, "roi", ta.LIZ)
            assert "Only managers" in refused.text and refused.card is None

            usage = await ask(server, connector, "roi fortnight", ta.MGR)
            assert "Usage:" in usage.text

            helped = await ask(server, connector, "hello", ta.LIZ)
            assert "Flag for stakeholders" in helped.text
            again = ta.channel_message(
                connector.service_url, ta.CUSTOMERS, "hello", user=ta.LIZ, mention_bot=True
            )
            await server.send_activity(again)
            await server.send_activity(again)  # redelivered: answered once
            await connector.wait_for(lambda: connector.replies(ta.CUSTOMERS, again["id"]))
            top_level = await ask(server, connector, "flag", ta.LIZ)  # not in a reply
            assert "reply to it with @Crosstalk flag" in top_level.text
            assert len(connector.replies(ta.CUSTOMERS, again["id"])) == 1


async def test_in_a_personal_chat_no_mention_is_needed(db_url: str) -> None:
    async with BotConnector() as connector:
        seed(connector)
        async with teams_server(db_url, connector) as server:
            await install(server, connector)
            chat = ta.channel_message(connector.service_url, ta.CUSTOMERS, "roi", user=ta.LIZ)
            chat["conversation"] = {
                "conversationType": "personal",
                "tenantId": ta.TENANT,
                "id": "a:1personalchat",
            }
            chat["channelData"] = {"tenant": {"id": ta.TENANT}}
            assert (await server.send_activity(chat))[0] == 200
            await connector.wait_for(
                lambda: [m for m in connector.messages.values() if m.channel == "a:1personalchat"]
            )
            [answer] = [m for m in connector.messages.values() if m.channel == "a:1personalchat"]
            assert "Only managers" in answer.text
