"""Teams over HTTP, the edges: the same "Record outcome" answers submitted twice (two
activities, a double press or a client retry) record one outcome; a deleted reply that its
author brings back (undeleteMessage) counts again; a just-in-time install's submit without
the message gets the form again."""

from __future__ import annotations

from sqlmodel import select

from bot.core.clock import FakeClock
from bot.demo.standins import teams_activities as ta
from bot.demo.standins.bot_connector import BotConnector
from bot.demo.standins.serving import START
from store.models import Broadcast, Outcome
from tests.adapters.teams.test_teams_capture import install, seed, teams_server
from tests.adapters.teams.test_teams_reliability import flag_for_product


async def test_the_same_outcome_submitted_twice_is_recorded_once(db_url: str) -> None:
    async with BotConnector() as connector:
        seed(connector)
        async with teams_server(db_url, connector, clock=FakeClock(START)) as server:
            await flag_for_product(server, connector)
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


async def test_a_deleted_reply_brought_back_counts_again(db_url: str) -> None:
    from store.models import Interpretation

    async with BotConnector() as connector:
        seed(connector)
        async with teams_server(db_url, connector, clock=FakeClock(START)) as server:
            await flag_for_product(server, connector)
            [card] = connector.threads(ta.PRODUCT)
            url = connector.service_url
            reply = ta.channel_message(url, ta.PRODUCT, "Fix is due", user=ta.PAM, root=card.id)
            await server.send_activity(reply)
            await server.settle()
            data = {**reply["channelData"]}
            for kind, event_type in (
                ("messageDelete", "softDeleteMessage"),
                ("messageUpdate", "undeleteMessage"),
            ):
                change = {
                    **reply,
                    "id": reply["id"],
                    "type": kind,
                    "channelData": {**data, "eventType": event_type},
                }
                change["timestamp"] = reply["timestamp"]
                status, _ = await server.send_activity({**change, "replyToId": card.id})
                assert status == 200
                await server.settle()
                [interp] = server.query(select(Interpretation))
                assert (interp.deleted_at is None) == (event_type == "undeleteMessage")
            assert interp.text == "Fix is due"


async def test_a_just_in_time_install_gets_the_form_again(db_url: str) -> None:
    async with BotConnector() as connector:
        seed(connector)
        async with teams_server(db_url, connector) as server:
            await install(server, connector)
            submit = ta.flag_action(
                connector.service_url,
                "composeExtension/submitAction",
                ta.CUSTOMERS,
                ta.message_id(),
                "",
                user=ta.LIZ,
                author=ta.PIA,
                data={"msteams": {"justInTimeInstall": True}},
            )
            del submit["value"]["messagePayload"]
            status, answer = await server.send_activity(submit)
            assert status == 200 and answer["task"]["type"] == "continue"
            assert server.query(select(Outcome)) == []
