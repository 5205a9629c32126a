"""Privacy of listening (SPEC "Listening"): a message that is scored and not suggested is
forgotten. The database is read whole, every table, to prove its words are nowhere."""

from __future__ import annotations

from sqlmodel import select

from bot.demo.standins.harness import Server
from store.models import InboxEvent
from tests.fakes.core_loop import CUSTOMERS, T
from tests.listening.listening_steps import (
    CALM,
    UPSET,
    every_stored_value,
    listening_server,
    says,
    scored,
    suggestions,
)


async def watched(server: Server, text: str, at_: float, **kwargs: object) -> None:
    resp = await server.send(says(server, text, at_, **kwargs))  # type: ignore[arg-type]
    assert resp.status == 200
    await server.settle()


async def test_a_message_not_suggested_leaves_only_a_count(db_url: str) -> None:
    async with listening_server(db_url) as server:
        await watched(server, CALM, T - 600, event_id="Ev0CALM")  # a customer, Slack Connect
        await watched(server, CALM.replace("7", "8"), T - 500, channel=CUSTOMERS, team=None)

        assert scored(server) == (2, 0)
        assert suggestions(server) == []
        stored = every_stored_value(server)
        for words in ("zebra-lantern", "meeting tomorrow"):
            assert words not in stored
        # The inbox keeps each event's key (a redelivery is still recognised), not its words.
        rows = server.query(select(InboxEvent))
        assert [(r.kind, r.status, r.payload) for r in rows] == [("watched", "done", "{}")] * 2
        # Redelivered by Slack: recognised by its key, not scored again.
        await watched(server, CALM, T - 600, event_id="Ev0CALM", retry_num=1)
        assert scored(server) == (2, 0) and len(server.query(select(InboxEvent))) == 2


async def test_a_suggested_message_is_kept_only_as_its_suggestion(db_url: str) -> None:
    async with listening_server(db_url) as server:
        await watched(server, UPSET, T - 600)
        (s,) = suggestions(server)
        assert s.text == UPSET
        (row,) = server.query(select(InboxEvent))
        assert row.payload == "{}"  # the text lives in `suggestions`, not in the inbox too
        stored = every_stored_value(server)
        assert stored.count("This is unacceptable") == 1
