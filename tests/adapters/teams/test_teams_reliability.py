"""The Bot Connector failing as it does (429 with Retry-After, 412, 502 before or after
taking effect, 413): each card posted exactly once, a lost answer found again by the
card's marker through Graph. Time is a FakeClock; nothing sleeps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.core.clock import FakeClock
from bot.core.gateway import Unsupported
from bot.core.refs import ChannelRef, Platform, UserRef
from bot.demo.standins import teams_activities as ta
from bot.demo.standins.bot_connector import BotConnector
from bot.demo.standins.harness import Server
from bot.demo.standins.serving import START
from store.models import Broadcast, OutboxMessage
from tests.adapters.teams.test_teams_capture import install, seed


def card_row(server: Server) -> OutboxMessage:
    [row] = server.query(select(OutboxMessage).where(OutboxMessage.kind == "card_post"))
    return row


async def flag_for_product(server: Server, connector: BotConnector) -> None:
    await install(server, connector)
    submit = ta.flag_action(
        connector.service_url,
        "composeExtension/submitAction",
        ta.CUSTOMERS,
        ta.message_id(),
        "The dashboard export is missing a column",
        user=ta.LIZ,
        author=ta.PIA,
        data={"teams": "product"},
    )
    assert (await server.send_activity(submit))[0] == 200
    await server.settle()


def offline(db_url: str, connector: BotConnector) -> tuple[Server, FakeClock]:
    clock = FakeClock(START)
    server = Server(
        db_url, config_toml=ta.MIXED_ORG_TOML, teams=connector, run_worker=False, clock=clock
    )
    return server, clock


def creates(connector: BotConnector) -> list[int]:
    return [
        c.status for c in connector.calls if c.method == "POST" and c.path == "/v3/conversations"
    ]


async def test_429_waits_for_retry_after_and_412_is_retried(db_url: str) -> None:
    async with BotConnector() as connector:
        seed(connector)
        server, clock = offline(db_url, connector)
        async with server:
            connector.fail_next("create", 429, retry_after=3)
            connector.fail_next("create", 412)
            await flag_for_product(server, connector)
            row = card_row(server)
            assert (row.status, row.ambiguous) == ("pending", False)
            assert "HTTP 429" in (row.last_error or "")
            assert row.next_attempt_at - clock.now() == timedelta(seconds=3)
            clock.advance(timedelta(seconds=2.9))
            await server.settle()
            assert creates(connector) == [429]
            clock.set(card_row(server).next_attempt_at)
            await server.settle()
            clock.set(card_row(server).next_attempt_at)
            await server.settle()
            assert creates(connector) == [429, 412, 201]
            assert len(connector.threads(ta.PRODUCT)) == 1
            assert card_row(server).status == "done"


@pytest.mark.parametrize("after_effect", [True, False], ids=["lost-answer", "not-taken"])
async def test_502_is_retried_and_the_card_is_posted_once(db_url: str, after_effect: bool) -> None:
    async with BotConnector() as connector:
        seed(connector)
        server, clock = offline(db_url, connector)
        async with server:
            connector.fail_next("create", 502, after_effect=after_effect)
            await flag_for_product(server, connector)
            row = card_row(server)
            assert (row.status, row.ambiguous) == ("pending", True)
            assert len(connector.threads(ta.PRODUCT)) == (1 if after_effect else 0)
            clock.set(row.next_attempt_at)
            await server.settle()
            [card] = connector.threads(ta.PRODUCT)  # one, whichever way it went
            [b] = server.query(select(Broadcast))
            assert b.message_id == card.id
            assert card.card is not None and card.card["body"][0]["id"] == f"ct-{row.id}"
            lookups = [c for c in connector.calls if c.path.startswith("/graph/")]
            assert len(lookups) == 1  # looked for by its marker before posting again
            assert creates(connector) == ([502] if after_effect else [502, 201])


async def test_a_message_too_big_is_given_up(db_url: str) -> None:
    async with BotConnector() as connector:
        seed(connector)
        server, _ = offline(db_url, connector)
        async with server:
            connector.fail_next("create", 413)
            await flag_for_product(server, connector)
            row = card_row(server)
            assert row.status == "dead" and "too large" in (row.last_error or "")


async def test_charts_go_inline_and_big_files_are_unsupported(db_url: str) -> None:
    from bot.adapters.teams.package import color_icon

    async with BotConnector() as connector:
        seed(connector)
        async with Server(db_url, config_toml=ta.MIXED_ORG_TOML, teams=connector) as server:
            await install(server, connector)
            gateway = server.runtime.gateways.get(Platform.TEAMS)
            channel = ChannelRef(Platform.TEAMS, ta.PRODUCT)
            png = color_icon(64)
            await gateway.upload(
                channel, filename="trend.png", data=png, title="Maturity", comment="This week"
            )
            [posted] = connector.threads(ta.PRODUCT)
            assert posted.card is not None
            image = posted.card["body"][1]
            assert image["type"] == "Image" and image["url"].startswith("data:image/png;base64,")
            with pytest.raises(Unsupported, match="bots cannot upload"):
                await gateway.upload(
                    channel,
                    filename="big.png",
                    data=b"\x89PNG" + bytes(70_000),
                    title="",
                    comment="",
                )


async def test_a_slack_person_in_a_teams_message_is_named_not_mentioned(db_url: str) -> None:
    async with BotConnector() as connector:
        seed(connector)
        async with Server(db_url, config_toml=ta.MIXED_ORG_TOML, teams=connector) as server:
            await install(server, connector)
            server.slack.add_user("U0ANN", "ann", "Ann Lee", display_name="Ann Lee")
            gateway = server.runtime.gateways.get(Platform.TEAMS)
            text = (
                "Flagged by ",
                UserRef(Platform.SLACK, "U0ANN"),
                " for ",
                UserRef(Platform.TEAMS, ta.PAM),
            )
            await gateway.post(ChannelRef(Platform.TEAMS, ta.PRODUCT), text)
            [posted] = connector.threads(ta.PRODUCT)
            assert posted.text == "Flagged by Ann Lee for <at>Pam Reyes</at>"
            assert [e["mentioned"]["id"] for e in posted.current["entities"]] == [ta.PAM]


async def test_a_mirror_whose_answer_was_lost_is_found_not_doubled(db_url: str) -> None:
    """Text posts carry no marker Graph could read: one that may be posted again (a mirrored
    interpretation, a notice) goes as a one-block card whose id is the marker."""
    async with BotConnector() as connector:
        seed(connector)
        server, clock = offline(db_url, connector)
        async with server:
            await flag_for_product(server, connector)
            [card] = connector.threads(ta.PRODUCT)
            [origin] = {m.thread for m in connector.messages.values() if m.channel == ta.CUSTOMERS}
            before = len(connector.replies(ta.CUSTOMERS, origin))
            connector.fail_next("send", 502, after_effect=True)
            reply = ta.channel_message(
                connector.service_url, ta.PRODUCT, "On the roadmap", user=ta.PAM, root=card.id
            )
            assert (await server.send_activity(reply))[0] == 200
            await server.settle()
            [row] = server.query(select(OutboxMessage).where(OutboxMessage.kind == "mirror"))
            assert (row.status, row.ambiguous) == ("pending", True)
            clock.set(row.next_attempt_at)
            await server.settle()
            mirrors = connector.replies(ta.CUSTOMERS, origin)[before:]
            assert len(mirrors) == 1 and "On the roadmap" in mirrors[0].text
            [row] = server.query(select(OutboxMessage).where(OutboxMessage.kind == "mirror"))
            assert row.status == "done"
