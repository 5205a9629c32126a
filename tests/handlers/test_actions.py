"""The buttons on a broadcast card (SPEC "Broadcast", "Routing"), pressed over HTTP: who may
press them, what the database records, and that every card is updated in place."""

from __future__ import annotations

from sqlmodel import select

from bot.demo.standins.harness import Server
from bot.demo.standins.slack_api import FakeSlack
from store.models import RoutingFeedback
from tests.fakes.core_loop import (
    T,
    at,
    broadcast_in,
    buttons,
    card,
    click,
    fields,
    flag_by_reaction,
    reaction,
    team_keys,
    the_flag,
)

ONE_TEAM = "Please refund the invoice"  # billing
THREE_TEAMS = "You charged me twice and the export is broken."  # billing, product, engineering
CHANNELS = ("C0BILLING", "C0PRODUCT", "C0ENG")
MONDAY_10_LONDON = T + 234_000  # Mon 2026-11-23 10:00 Europe/London


def updates(slack: FakeSlack, channel: str) -> list[dict[str, object]]:
    return [c.args for c in slack.calls_to("chat.update") if c.args["channel"] == channel]


def labels(message: dict[str, object]) -> list[str]:
    return [b["text"]["text"] for b in buttons(message)]


ALL_BUTTONS = ["Acknowledge", "Add interpretation", "Record outcome", "Not for us", "Resolve"]


async def test_acknowledge_by_a_member_records_it_and_updates_the_card(db_url: str) -> None:
    async with Server(db_url) as server:
        slack = server.slack
        await flag_by_reaction(server, ONE_TEAM, card_at=T)
        before = card(slack, "C0BILLING")
        resp = await server.send(click(server, before, "U0BEA", "ct_ack", T + 300))
        assert resp.status == 200
        await server.settle()

        b = broadcast_in(server, "C0BILLING")
        assert (b.acknowledged_at, b.acknowledged_by, b.tta_seconds) == (
            at(T + 300),
            "U0BEA",
            300.0,
        )
        assert the_flag(server).status == "acknowledged"
        (update,) = updates(slack, "C0BILLING")
        assert update["ts"] == before["ts"]
        after = card(slack, "C0BILLING")  # the same message, changed in place
        assert after["ts"] == before["ts"]
        assert fields(after)["Status"] == "Acknowledged by <@U0BEA> in 5m. "
        assert fields(before)["Status"] == "Waiting for a first response (SLA 4h)."
        assert labels(after) == ALL_BUTTONS
        assert slack.responses["hook"] == []

        # A second press changes nothing and says so, to that user only.
        await server.send(click(server, after, "U0BOB", "ct_ack", T + 400, hook="again"))
        (answer,) = await slack.wait_for_response("again")
        assert answer == {
            "text": "Already acknowledged.",
            "response_type": "ephemeral",
            "replace_original": False,
        }
        await server.settle()
        b = broadcast_in(server, "C0BILLING")
        assert (b.acknowledged_at, b.acknowledged_by) == (at(T + 300), "U0BEA")
        assert len(updates(slack, "C0BILLING")) == 1


async def test_acknowledge_by_a_non_member_is_refused(db_url: str) -> None:
    async with Server(db_url) as server:
        slack = server.slack
        await flag_by_reaction(server, ONE_TEAM)
        billing = card(slack, "C0BILLING")
        resp = await server.send(click(server, billing, "U0PAM", "ct_ack", T + 300, hook="pam"))
        assert resp.status == 200
        (answer,) = await slack.wait_for_response("pam")
        assert answer == {
            "text": "Only members of Billing can do that on this card.",
            "response_type": "ephemeral",
            "replace_original": False,
        }
        await server.settle()
        b = broadcast_in(server, "C0BILLING")
        assert (b.acknowledged_at, b.acknowledged_by, b.tta_seconds) == (None, None, None)
        assert the_flag(server).status == "open"
        assert updates(slack, "C0BILLING") == []
        # Not for us by a non-member is refused the same way.
        await server.send(click(server, billing, "U0PAM", "ct_not_for_us", T + 310, hook="pam"))
        await slack.wait_for_response("pam", 2)
        await server.settle()
        assert broadcast_in(server, "C0BILLING").status == "active"
        assert server.query(select(RoutingFeedback)) == []


async def test_an_ack_reaction_on_the_card_acknowledges(db_url: str) -> None:
    async with Server(db_url) as server:
        await flag_by_reaction(server, ONE_TEAM, card_at=T)
        billing = card(server.slack, "C0BILLING")
        # A non-member's :eyes: does not count; a member's does.
        for user, when in (("U0PAM", T + 100), ("U0BOB", T + 240)):
            request = reaction(billing["ts"], when, user=user, emoji="eyes", channel="C0BILLING")
            await server.send(request)
            await server.settle()
        b = broadcast_in(server, "C0BILLING")
        assert (b.acknowledged_at, b.acknowledged_by, b.tta_seconds) == (
            at(T + 240),
            "U0BOB",
            240.0,
        )
        assert len(updates(server.slack, "C0BILLING")) == 1


async def test_not_for_us_removes_the_team_and_records_routing_feedback(db_url: str) -> None:
    async with Server(db_url) as server:
        slack = server.slack
        await flag_by_reaction(server, THREE_TEAMS)
        before = {c: card(slack, c) for c in CHANNELS}
        assert fields(before["C0PRODUCT"])["Also sent to"] == "Billing, Engineering"
        resp = await server.send(
            click(server, before["C0BILLING"], "U0BOB", "ct_not_for_us", T + 500)
        )
        assert resp.status == 200
        await server.settle()

        b = broadcast_in(server, "C0BILLING")
        assert (b.status, b.not_for_us_at, b.not_for_us_by) == ("not_for_us", at(T + 500), "U0BOB")
        (feedback,) = server.query(select(RoutingFeedback))
        assert (feedback.flag_id, feedback.user_id, feedback.verdict, feedback.at) == (
            the_flag(server).id,
            "U0BOB",
            "not_for_us",
            at(T + 500),
        )
        assert team_keys(server, [feedback.team_id]) == ["billing"]
        assert the_flag(server).status == "open"  # two teams still have it

        for channel in CHANNELS:  # every card is updated in place
            (update,) = updates(slack, channel)
            assert update["ts"] == before[channel]["ts"]
        billing = card(slack, "C0BILLING")
        assert (
            billing["blocks"][0]["text"]["text"]
            == "📣 Customer conversation for Billing — not for us"
        )
        assert fields(billing)["Status"] == "Not for us, said <@U0BOB>"
        assert labels(billing) == []
        assert fields(card(slack, "C0PRODUCT"))["Also sent to"] == "Engineering"
        assert fields(card(slack, "C0ENG"))["Also sent to"] == "Product"
        assert labels(card(slack, "C0PRODUCT")) == ALL_BUTTONS


async def test_not_for_us_by_every_team_dismisses_the_flag(db_url: str) -> None:
    async with Server(db_url) as server:
        await flag_by_reaction(server, ONE_TEAM)
        billing = card(server.slack, "C0BILLING")
        await server.send(click(server, billing, "U0BEA", "ct_not_for_us", T + 500))
        await server.settle()
        assert the_flag(server).status == "dismissed"
        assert card(server.slack, "C0BILLING")["blocks"][0]["text"]["text"] == (
            "📣 Customer conversation for Billing — not for us"
        )


async def test_resolve_closes_the_flag_with_its_time_to_resolution(db_url: str) -> None:
    async with Server(db_url) as server:
        slack = server.slack
        # Flagged Friday 16:59 London; resolved Monday 10:00 London.
        await flag_by_reaction(server, THREE_TEAMS, flagged_at=T - 60, card_at=T)
        before = {c: card(slack, c) for c in CHANNELS}
        resp = await server.send(
            click(server, before["C0PRODUCT"], "U0PIA", "ct_resolve", MONDAY_10_LONDON)
        )
        assert resp.status == 200
        await server.settle()

        flag = the_flag(server)
        assert (flag.status, flag.resolved_at, flag.resolved_by) == (
            "resolved",
            at(MONDAY_10_LONDON),
            "U0PIA",
        )
        assert flag.ttr_seconds == 234_060.0  # resolve time - flag time
        assert flag.ttr_business_seconds == 5_460.0  # Fri 16:59-17:30 + Mon 09:00-10:00
        for channel in CHANNELS:
            (update,) = updates(slack, channel)
            assert update["ts"] == before[channel]["ts"]
            after = card(slack, channel)
            assert after["blocks"][0]["text"]["text"].endswith(" — resolved")
            assert fields(after)["Status"] == "Resolved by <@U0PIA> after 2d 17h. "
            assert labels(after) == ["Add interpretation", "Record outcome"]

        # Resolving again only says so.
        await server.send(
            click(server, before["C0ENG"], "U0EVE", "ct_resolve", MONDAY_10_LONDON + 5, hook="r2")
        )
        (answer,) = await slack.wait_for_response("r2")
        assert answer["text"] == "Already resolved."
        await server.settle()
        assert the_flag(server).resolved_by == "U0PIA"


async def test_resolve_by_someone_outside_the_flag_is_refused(db_url: str) -> None:
    async with Server(db_url) as server:
        await flag_by_reaction(server, ONE_TEAM, user="U0ANN")
        billing = card(server.slack, "C0BILLING")
        await server.send(click(server, billing, "U0LEO", "ct_resolve", T + 60, hook="leo"))
        (answer,) = await server.slack.wait_for_response("leo")
        assert answer["text"] == (
            "Only the flagger or a member of a team it was sent to can resolve it."
        )
        await server.settle()
        assert the_flag(server).status == "open"
        # The flagger may, though not in the team it was sent to.
        await server.send(click(server, billing, "U0ANN", "ct_resolve", T + 120, hook="ann"))
        await server.settle()
        flag = the_flag(server)
        assert (flag.status, flag.resolved_by, flag.ttr_seconds) == ("resolved", "U0ANN", 180.0)
        assert server.slack.responses["ann"] == []
