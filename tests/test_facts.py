"""Facts come from the platforms, not from the shape of ids: a Slack private channel with a
C id (every one made since 2021) keeps its flags private; a Teams person whose id equals
a Slack manager's is not that manager."""

from __future__ import annotations

from sqlmodel import select

from bot.demo.standins import slack_requests as sr
from bot.demo.standins import teams_activities as ta
from bot.demo.standins.bot_connector import BotConnector
from bot.demo.standins.harness import Server
from store.models import Flag
from tests.adapters.teams.test_teams_capture import install, seed, teams_server
from tests.adapters.teams.test_teams_commands import ask

REFUND = "Please refund the invoice, you charged me twice."


async def test_a_private_channel_with_a_c_id_is_private(db_url: str) -> None:
    async with Server(db_url, run_worker=False) as server:
        server.slack.add_channel("C0VIPS", "vip-customers", is_private=True)
        public = server.slack.add_message("C0CUSTOMERS", REFUND, user="U0SAM")
        private = server.slack.add_message("C0VIPS", REFUND, user="U0SAM")
        for channel, ts in (("C0CUSTOMERS", public), ("C0VIPS", private)):
            reaction = sr.event_reaction_added(
                "T0001", "U0ANN", "mega", channel, ts, "U0SAM", server.now_ts()
            )
            assert (await server.send(reaction)).status == 200
        await server.settle()
        flags = {f.channel_id: f.is_public for f in server.query(select(Flag))}
        assert flags == {"C0CUSTOMERS": True, "C0VIPS": False}


async def test_a_teams_user_with_a_slack_manager_s_id_gets_no_figures(db_url: str) -> None:
    async with BotConnector() as connector:
        seed(connector)
        async with teams_server(db_url, connector) as server:
            await install(server, connector)
            impostor = await ask(server, connector, "roi", "U0MGR")  # Slack's manager id
            assert "Only managers" in impostor.text and impostor.card is None
            manager = await ask(server, connector, "roi", ta.MGR)
            assert manager.card is not None


async def test_the_flag_form_for_a_message_of_many_short_lines_opens(db_url: str) -> None:
    """Quoting adds "> " to every line: the excerpt is cut after it is quoted, so the
    section stays within Slack's 3,000 characters and views.open accepts the form."""
    async with Server(db_url, run_worker=False) as server:
        text = "\n".join(f"{i}" for i in range(1500))
        ts = server.slack.add_message("C0CUSTOMERS", text, user="U0SAM")
        shortcut = sr.message_shortcut(
            "T0001",
            "U0ANN",
            "C0CUSTOMERS",
            ts,
            text,
            "U0SAM",
            "flag_for_stakeholders",
            sr.new_trigger_id(),
            server.slack.response_url("shortcut"),
            server.now_ts(),
        )
        assert (await server.send(shortcut)).status == 200
        (opened,) = server.slack.calls_to("views.open")
        assert opened.ok
        section = opened.args["view"]["blocks"][0]["text"]["text"]
        assert section.startswith("> 0\n> 1\n") and len(section) <= 3000
