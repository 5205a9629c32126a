"""Interpretations and response times (SPEC "Broadcast", METRICS "Time figures"), end to end
over HTTP: replies in broadcast threads, the "Add interpretation" form, edits, deletions,
and the figures computed from Slack's own timestamps."""

from __future__ import annotations

from sqlmodel import select

from bot.core.clock import FakeClock
from bot.demo.standins import slack_requests as sr
from bot.demo.standins.harness import Server
from store.models import Broadcast, Interpretation, OutboxMessage
from tests.fakes.core_loop import (
    CUSTOMERS,
    T,
    at,
    broadcast_in,
    card,
    click,
    flag_by_reaction,
    interpretations,
    reaction,
    reply,
    team_keys,
    thread,
    ts,
)

ONE_TEAM = "Please refund the invoice"  # billing (Europe/London, Mon-Fri 09:00-17:30)
PRODUCT_ONLY = "the dashboard export fails"  # product (America/New_York, Mon-Fri 09:00-17:00)
BILLING_AND_PRODUCT = "I was charged twice and the dashboard export fails"
MONDAY_10_LONDON = T + 234_000  # Mon 2026-11-23 10:00 Europe/London
FRIDAY_16_NEW_YORK = T + 14_400  # Fri 2026-11-20 16:00 America/New_York (21:00 UTC)
MONDAY_10_NEW_YORK = FRIDAY_16_NEW_YORK + 237_600


def mirrors(server: Server, root: str) -> list[str]:
    """The texts Crosstalk wrote in the origin thread after its notice."""
    return [m["text"] for m in thread(server.slack, CUSTOMERS, root)[1:]]


# ---------------------------------------------------------------------------- replies


async def test_a_reply_is_attributed_to_the_broadcast_team_of_a_two_team_member(
    db_url: str,
) -> None:
    async with Server(db_url) as server:
        root = await flag_by_reaction(server, BILLING_AND_PRODUCT)
        product, billing = card(server.slack, "C0PRODUCT"), card(server.slack, "C0BILLING")
        # U0CAL is in Customer Success and Product; the flagger U0ANN is in Customer Success.
        await server.send(reply("C0PRODUCT", product["ts"], "U0CAL", "On the roadmap.", T + 600))
        await server.settle()
        await server.send(reply("C0BILLING", billing["ts"], "U0CAL", "Refunded.", T + 700))
        await server.settle()

        on_product, on_billing = interpretations(server)
        assert team_keys(server, [on_product.author_team_id, on_billing.author_team_id]) == [
            "product",
            "success",
        ]
        assert (on_product.cross_team, on_billing.cross_team) == (True, False)
        assert (on_product.source, on_product.text, on_product.author_id) == (
            "reply",
            "On the roadmap.",
            "U0CAL",
        )
        assert (on_product.channel_id, on_product.message_id) == ("C0PRODUCT", ts(T + 600))
        assert on_product.created_at == at(T + 600)
        assert on_product.broadcast_id == broadcast_in(server, "C0PRODUCT").id
        assert mirrors(server, root) == [
            "💬 Product — <@U0CAL>: On the roadmap.",
            "💬 Customer Success — <@U0CAL>: Refunded.",
        ]


async def test_bots_the_flagger_and_other_threads_are_not_interpretations(db_url: str) -> None:
    async with Server(db_url) as server:
        root = await flag_by_reaction(server, ONE_TEAM, user="U0ANN")
        billing = card(server.slack, "C0BILLING")
        await server.send(reaction(root, T + 30, user="U0BEA"))  # a second flagger, in Billing
        await server.settle()
        for request in (
            reply("C0BILLING", billing["ts"], "U0ANN", "Any news?", T + 60),  # the flagger
            reply("C0BILLING", billing["ts"], "U0BEA", "+1, any news?", T + 70),
            reply("C0BILLING", billing["ts"], "U0XBOT", "Ticket #12 created", T + 90, bot_id="B0X"),
            sr.event_message(
                "T0001",
                "C0BILLING",
                "U0BOB",
                "Bot said hi",
                ts(T + 95),
                billing["ts"],
                subtype="bot_message",
            ),
            reply(CUSTOMERS, root, "U0BOB", "Looking now", T + 100),  # the origin thread
            sr.event_message("T0001", "C0BILLING", "U0BOB", "top level", ts(T + 110)),
        ):
            assert (await server.send(request)).status == 200
        await server.settle()
        assert interpretations(server) == []
        b = broadcast_in(server, "C0BILLING")
        assert (b.first_response_at, b.ttfr_seconds, b.cross_ttfr_seconds) == (None, None, None)
        assert mirrors(server, root) == []


# ---------------------------------------------------------------------------- time figures


async def test_response_times_come_from_slack_timestamps(db_url: str) -> None:
    async with Server(db_url) as server:
        await flag_by_reaction(server, ONE_TEAM, flagged_at=T - 60, card_at=T)
        billing = card(server.slack, "C0BILLING")
        thread_ts = billing["ts"]
        assert thread_ts == ts(T)
        requests = [
            reply("C0BILLING", thread_ts, "U0ANN", "Following up.", T + 60),  # the flagger
            reply("C0BILLING", thread_ts, "U0XBOT", "Auto-triaged", T + 120, bot_id="B0X"),
            click(server, billing, "U0BOB", "ct_ack", T + 300),
            reply("C0BILLING", thread_ts, "U0CAL", "CS here: known issue.", T + 900),
            reply("C0BILLING", thread_ts, "U0BEA", "Billing: refunding.", T + 1200),
            reply("C0BILLING", thread_ts, "U0BOB", "Done.", T + 1500),
        ]
        for request in requests:
            assert (await server.send(request)).status == 200
            await server.settle()

        b = broadcast_in(server, "C0BILLING")
        assert b.posted_at == at(T)
        assert (b.acknowledged_at, b.acknowledged_by) == (at(T + 300), "U0BOB")
        assert (b.first_response_at, b.first_response_by) == (at(T + 900), "U0CAL")
        assert (b.cross_first_response_at, b.cross_first_response_by) == (at(T + 1200), "U0BEA")
        # Friday 17:00-17:30 is inside the London schedule: business equals wall-clock.
        assert (b.tta_seconds, b.tta_business_seconds) == (300.0, 300.0)
        assert (b.ttfr_seconds, b.ttfr_business_seconds) == (900.0, 900.0)
        assert (b.cross_ttfr_seconds, b.cross_ttfr_business_seconds) == (1200.0, 1200.0)
        assert [i.author_id for i in interpretations(server)] == ["U0CAL", "U0BEA", "U0BOB"]


async def test_business_hours_skip_the_weekend_in_each_team_s_timezone(db_url: str) -> None:
    async with Server(db_url) as server:
        # Billing (London, 09:00-17:30): card Friday 17:00, first reply Monday 10:00.
        await flag_by_reaction(server, ONE_TEAM, card_at=T)
        # Product (New York, 09:00-17:00): card Friday 16:00 local, reply Monday 10:00 local.
        await flag_by_reaction(
            server, PRODUCT_ONLY, said_at=T + 100, flagged_at=T + 200, card_at=FRIDAY_16_NEW_YORK
        )
        billing, product = card(server.slack, "C0BILLING"), card(server.slack, "C0PRODUCT")
        assert (billing["ts"], product["ts"]) == (ts(T), ts(FRIDAY_16_NEW_YORK))
        await server.send(reply("C0BILLING", billing["ts"], "U0BOB", "Ok.", MONDAY_10_LONDON))
        await server.send(reply("C0PRODUCT", product["ts"], "U0PAM", "Ok.", MONDAY_10_NEW_YORK))
        await server.settle()

        b = broadcast_in(server, "C0BILLING")
        assert (b.ttfr_seconds, b.ttfr_business_seconds) == (234_000.0, 5_400.0)  # 0.5 h + 1 h
        assert (b.cross_ttfr_seconds, b.cross_ttfr_business_seconds) == (234_000.0, 5_400.0)
        p = broadcast_in(server, "C0PRODUCT")
        assert (p.ttfr_seconds, p.ttfr_business_seconds) == (237_600.0, 7_200.0)  # 1 h + 1 h
        assert (p.tta_seconds, p.tta_business_seconds) == (None, None)


# ---------------------------------------------------------------------------- the form


async def test_add_interpretation_form_stores_impact_action_and_owner(db_url: str) -> None:
    clock = FakeClock(at(T + 1800))
    async with Server(db_url, clock=clock) as server:
        root = await flag_by_reaction(server, ONE_TEAM)
        billing = card(server.slack, "C0BILLING")
        b = broadcast_in(server, "C0BILLING")
        resp = await server.send(click(server, billing, "U0BEA", "ct_interpret", T + 1700))
        assert resp.status == 200
        (opened,) = server.slack.calls_to("views.open")
        view = opened.args["view"]
        assert view["callback_id"] == "ct_interpret_form"
        assert view["private_metadata"] == f'{{"broadcast_id": {b.id}}}'
        assert "What this means for Billing" in view["blocks"][0]["elements"][0]["text"]

        values = {
            "interpretation": {
                "interpretation": {"type": "plain_text_input", "value": "Double charge bug."}
            },
            "impact": {
                "impact": {
                    "type": "static_select",
                    "selected_option": {
                        "text": {"type": "plain_text", "text": "High"},
                        "value": "high",
                    },
                }
            },
            "action": {"action": {"type": "plain_text_input", "value": "Refund and fix"}},
            "owner": {"owner": {"type": "users_select", "selected_user": "U0BOB"}},
        }
        submit = sr.view_submission(
            "T0001", "U0BEA", "ct_interpret_form", view["private_metadata"], values
        )
        assert (await server.send(submit)).status == 200
        await server.settle()

        (interp,) = interpretations(server)
        assert (interp.source, interp.text, interp.impact, interp.action, interp.owner_id) == (
            "form",
            "Double charge bug.",
            "high",
            "Refund and fix",
            "U0BOB",
        )
        assert (interp.author_id, interp.broadcast_id, interp.cross_team) == ("U0BEA", b.id, True)
        assert team_keys(server, [interp.author_team_id]) == ["billing"]
        assert interp.created_at == at(T + 1800)  # the server's clock: forms carry no ts
        b = broadcast_in(server, "C0BILLING")
        assert (b.ttfr_seconds, b.first_response_by) == (1800.0, "U0BEA")
        assert mirrors(server, root) == [
            "💬 Billing — <@U0BEA>: Double charge bug.  [impact: high; action: Refund and fix]"
        ]


async def test_an_empty_form_is_refused_with_a_field_error(db_url: str) -> None:
    async with Server(db_url) as server:
        await flag_by_reaction(server, ONE_TEAM)
        b = broadcast_in(server, "C0BILLING")
        values = {"interpretation": {"interpretation": {"type": "plain_text_input", "value": " "}}}
        assert server.http is not None
        request = sr.view_submission(
            "T0001", "U0BEA", "ct_interpret_form", f'{{"broadcast_id": {b.id}}}', values
        )
        async with server.http.post(
            server.url + "/slack/events", data=request.body, headers=request.headers
        ) as resp:
            assert resp.status == 200
            assert await resp.json() == {
                "response_action": "errors",
                "errors": {"interpretation": "Say what this means for your team."},
            }
        await server.settle()
        assert interpretations(server) == []


# ---------------------------------------------------------------------------- edits, deletions


async def test_an_edit_updates_the_text_and_the_mirror(db_url: str) -> None:
    async with Server(db_url) as server:
        root = await flag_by_reaction(server, ONE_TEAM)
        thread_ts = card(server.slack, "C0BILLING")["ts"]
        await server.send(reply("C0BILLING", thread_ts, "U0BOB", "Refnud sent", T + 600))
        await server.settle()
        (mirror,) = thread(server.slack, CUSTOMERS, root)[1:]
        assert mirror["text"] == "💬 Billing — <@U0BOB>: Refnud sent"

        edit = sr.event_message_changed(
            "T0001",
            "C0BILLING",
            "U0BOB",
            ts(T + 600),
            "Refund sent",
            "Refnud sent",
            thread_ts,
            ts(T + 650),
        )
        assert (await server.send(edit)).status == 200
        await server.settle()
        (interp,) = interpretations(server)
        assert (interp.text, interp.edited_at, interp.created_at) == (
            "Refund sent",
            at(T + 650),
            at(T + 600),
        )
        updates = [
            c.args for c in server.slack.calls_to("chat.update") if c.args["channel"] == CUSTOMERS
        ]
        assert [(u["ts"], u["text"]) for u in updates] == [
            (mirror["ts"], "💬 Billing — <@U0BOB>: Refund sent (edited)")
        ]
        (after,) = thread(server.slack, CUSTOMERS, root)[1:]
        assert (after["ts"], after["text"]) == (mirror["ts"], updates[0]["text"])
        assert broadcast_in(server, "C0BILLING").ttfr_seconds == 600.0  # the reply's own time


async def test_a_deletion_recomputes_the_times_from_the_remaining_interpretations(
    db_url: str,
) -> None:
    async with Server(db_url) as server:
        root = await flag_by_reaction(server, ONE_TEAM)
        thread_ts = card(server.slack, "C0BILLING")["ts"]
        await server.send(reply("C0BILLING", thread_ts, "U0CAL", "Seen this before", T + 900))
        await server.settle()
        await server.send(reply("C0BILLING", thread_ts, "U0BOB", "Refund sent", T + 1200))
        await server.settle()
        b = broadcast_in(server, "C0BILLING")
        assert (b.ttfr_seconds, b.first_response_by, b.cross_ttfr_seconds) == (
            900.0,
            "U0CAL",
            1200.0,
        )

        delete = sr.event_message_deleted(
            "T0001", "C0BILLING", "U0CAL", ts(T + 900), "Seen this before", thread_ts, ts(T + 2000)
        )
        assert (await server.send(delete)).status == 200
        await server.settle()
        first, second = interpretations(server)
        assert (first.deleted_at, second.deleted_at) == (at(T + 2000), None)
        b = broadcast_in(server, "C0BILLING")
        assert (b.first_response_at, b.first_response_by) == (at(T + 1200), "U0BOB")
        assert (b.ttfr_seconds, b.ttfr_business_seconds) == (1200.0, 1200.0)
        assert (b.cross_ttfr_seconds, b.cross_first_response_by) == (1200.0, "U0BOB")
        assert mirrors(server, root) == [
            "💬 Customer Success: (interpretation deleted by its author)",
            "💬 Billing — <@U0BOB>: Refund sent",
        ]

        # Deleting the last one leaves no response at all.
        delete = sr.event_message_deleted(
            "T0001", "C0BILLING", "U0BOB", ts(T + 1200), "Refund sent", thread_ts, ts(T + 2100)
        )
        await server.send(delete)
        await server.settle()
        b = broadcast_in(server, "C0BILLING")
        assert (b.first_response_at, b.ttfr_seconds, b.cross_ttfr_seconds) == (None, None, None)
        rows = server.query(select(OutboxMessage.status).where(OutboxMessage.kind == "mirror"))
        assert rows == ["done", "done"]
        assert server.query(select(Broadcast.status)) == ["active"]
        assert server.query(select(Interpretation.deleted_at)) == [at(T + 2000), at(T + 2100)]


async def test_a_reply_is_mirrored_as_written_escaped_once(db_url: str) -> None:
    async with Server(db_url) as server:
        root = await flag_by_reaction(server, ONE_TEAM)
        thread_ts = card(server.slack, "C0BILLING")["ts"]
        # What Slack sends for: R&D says <3, ask @Pam, see the docs (a link).
        text = (
            "R&amp;D says &lt;3, ask <@U0PAM>, see <https://docs.acme.com/r?a=1&amp;b=2|the docs>"
        )
        await server.send(reply("C0BILLING", thread_ts, "U0BOB", text, T + 600))
        await server.settle()
        (interp,) = interpretations(server)
        assert (
            interp.text == "R&D says <3, ask @U0PAM, see the docs (https://docs.acme.com/r?a=1&b=2)"
        )
        assert mirrors(server, root) == [
            "💬 Billing — <@U0BOB>: R&amp;D says &lt;3, ask @U0PAM, see the docs"
            " (https://docs.acme.com/r?a=1&amp;b=2)"
        ]
