"""`@Crosstalk dashboard` in Teams: the manager's link comes in a 1:1 chat, never in the
channel where it was asked; anyone else is refused where they asked."""

from __future__ import annotations

from bot.demo.standins import slack_requests as sr
from bot.demo.standins import teams_activities as ta
from bot.demo.standins.bot_connector import BotConnector
from tests.adapters.teams.test_teams_capture import install, seed, teams_server
from tests.adapters.teams.test_teams_commands import ask
from tests.web.seed import PUBLIC_URL, get, local, session_cookie, sign_in, submit_login

LINK = PUBLIC_URL + "/dashboard/login?token="


async def test_a_manager_gets_the_link_in_a_chat(db_url: str) -> None:
    async with BotConnector() as connector:
        seed(connector)
        env = {"CROSSTALK_PUBLIC_URL": PUBLIC_URL}
        async with teams_server(db_url, connector, env=env) as server:
            await install(server, connector)
            answer = await ask(server, connector, "dashboard", ta.MGR)
            assert "1:1 chat" in answer.text and LINK not in answer.text

            def sent() -> list[str]:
                return [m.text for m in connector.messages.values() if LINK in m.text]

            await connector.wait_for(sent)
            [text] = sent()
            [chat] = [m.channel for m in connector.messages.values() if LINK in m.text]
            assert chat != ta.CUSTOMERS
            signed = await submit_login(server, local(server, text.split(": ", 1)[1]))
            assert signed.status == 303
            assert (await get(server, "/dashboard", session_cookie(signed))).status == 200

            refused = await ask(server, connector, "dashboard", ta.LIZ)
            assert "Only managers" in refused.text
            assert len(sent()) == 1


async def test_a_flag_page_shows_slack_and_teams_answers_side_by_side(db_url: str) -> None:
    async with BotConnector() as connector:
        seed(connector)
        env = {"CROSSTALK_PUBLIC_URL": PUBLIC_URL}
        async with teams_server(db_url, connector, env=env) as server:
            await install(server, connector)
            ts = server.slack.add_message("C0CUSTOMERS", "Your export feature is broken", "U0SAM")
            reaction = sr.event_reaction_added(
                "T0001", "U0ANN", "mega", "C0CUSTOMERS", ts, "U0SAM", server.now_ts()
            )
            assert (await server.send(reaction)).status == 200
            await server.settle()
            [card] = connector.threads(ta.PRODUCT)  # Product lives in Teams only
            teams_reply = ta.channel_message(
                connector.service_url, ta.PRODUCT, "A fix ships this sprint.", user=ta.PAM,
                root=card.id,
            )  # fmt: skip
            assert (await server.send_activity(teams_reply))[0] == 200
            [eng] = server.slack.posted("C0ENG")  # Engineering gets it on the flag's platform
            text = "The export job times out on big files."
            reply_ts = server.slack.add_message("C0ENG", text, "U0EVE", thread_ts=eng["ts"])
            said = sr.event_message("T0001", "C0ENG", "U0EVE", text, reply_ts, eng["ts"])
            assert (await server.send(said)).status == 200
            await server.settle()
            page = (await get(server, "/dashboard/flags/1", await sign_in(server))).text
            product = page.index('Product <span class="muted">on Teams</span>')
            engineering = page.index('Engineering <span class="muted">on Slack</span>')
            assert page.index("A fix ships this sprint.") > product
            assert page.index("The export job times out") > engineering
            assert "Posted to Product on Teams" in page
