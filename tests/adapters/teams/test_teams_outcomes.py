"""The "Record outcome" dialog in Teams, over HTTP: the same answers submitted twice (two
activities, a double press or a client retry) record one outcome."""

from __future__ import annotations

from sqlmodel import select

from bot.core.clock import FakeClock
from bot.demo.standins import teams_activities as ta
from bot.demo.standins.bot_connector import BotConnector
from bot.demo.standins.serving import START
from store.models import Broadcast, Outcome
from tests.adapters.teams.test_teams_capture import install, seed, teams_server


async def test_the_same_outcome_submitted_twice_is_recorded_once(db_url: str) -> None:
    async with BotConnector() as connector:
        seed(connector)
        async with teams_server(db_url, connector, clock=FakeClock(START)) as server:
            await install(server, connector)
            submit = ta.flag_action(
                connector.service_url,
                "composeExtension/submitAction",
                ta.CUSTOMERS,
                ta.message_id(),
                "We will stay if the export is fixed",
                user=ta.LIZ,
                author=ta.PIA,
                data={"teams": "product"},
            )
            await server.send_activity(submit)
            await server.settle()
            [card] = connector.threads(ta.PRODUCT)
            [b] = server.query(select(Broadcast))
            answers = {
                "ct": "ct_outcome",
                "value": str(b.id),
                "kind": "retained",
                "amount": "12000",
                "currency": "EUR",
            }
            url = connector.service_url
            for _ in range(2):
                done = ta.task_invoke(url, ta.PRODUCT, card.id, "task/submit", answers, user=ta.PAM)
                status, answer = await server.send_activity(done)
                assert status == 200 and answer["task"]["type"] == "message"
            await server.settle()
            [outcome] = server.query(select(Outcome))
            assert (outcome.kind, outcome.amount, outcome.currency) == ("retained", 12000.0, "EUR")
