"""The "Record outcome" button and form in Slack, over signed requests against the real
server and FakeSlack: who may open it, how a bad amount is refused inside the form, and
what a recorded outcome changes (the flag resolved for TTR, its CRM ref, every card, the
CRM webhook)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from bot.core.clock import FakeClock
from bot.demo.org import ORG_TOML
from bot.demo.standins import slack_requests as sr
from bot.demo.standins.crm import FakeCrm
from bot.demo.standins.harness import Server
from bot.demo.standins.serving import START
from bot.demo.standins.slack_requests import SignedRequest
from store.models import Broadcast, Flag, InboxEvent, Outcome

CUSTOMERS = "C0CUSTOMERS"
SECRET = "whsec-slack-flow"


def press(server: Server, user: str, b: Broadcast, action_id: str, name: str) -> SignedRequest:
    assert b.message_id is not None
    return sr.block_action(
        "T0001", user, b.channel_id, b.message_id, action_id, str(b.id), sr.new_trigger_id(),
        server.slack.response_url(name), server.now_ts(),
    )  # fmt: skip


def submission(
    view: dict[str, Any],
    user: str,
    *,
    kind: str | None = "retained",
    amount: str | None = None,
    currency: str | None = "USD",
    crm_ref: str | None = None,
    note: str | None = None,
) -> SignedRequest:
    def text(value: str | None) -> dict[str, Any]:
        return {"type": "plain_text_input", "value": value}

    option = {"text": {"type": "plain_text", "text": kind}, "value": kind} if kind else None
    state = {
        "kind": {"kind": {"type": "static_select", "selected_option": option}},
        "amount": {"amount": text(amount)},
        "currency": {"currency": text(currency)},
        "crm_ref": {"crm_ref": text(crm_ref)},
        "note": {"note": text(note)},
    }
    return sr.view_submission(
        "T0001", user, view["callback_id"], view["private_metadata"], state, view_id=view["id"]
    )


async def answer_of(server: Server, request: SignedRequest) -> tuple[int, Any]:
    assert server.http is not None
    async with server.http.post(
        server.url + "/slack/events", data=request.body, headers=request.headers
    ) as resp:
        text = await resp.text()
        return resp.status, json.loads(text) if text.strip() else None


def button_ids(message: dict[str, Any]) -> list[str]:
    return [
        e["action_id"] for block in message["blocks"] if block["type"] == "actions"
        for e in block["elements"]
    ]  # fmt: skip


async def flag_for_billing(server: Server) -> tuple[Flag, Broadcast]:
    ts = server.slack.add_message(CUSTOMERS, "You charged me twice, refund please", user="U0SAM")
    reaction = sr.event_reaction_added(
        "T0001", "U0ANN", "mega", CUSTOMERS, ts, "U0SAM", server.now_ts()
    )
    assert (await server.send(reaction)).status == 200
    await server.settle()
    (flag,) = server.query(select(Flag))
    (b,) = server.query(select(Broadcast))
    return flag, b


async def open_form(server: Server, user: str, b: Broadcast) -> dict[str, Any]:
    opened = len(server.slack.calls_to("views.open"))
    assert (await server.send(press(server, user, b, "ct_outcome", "open"))).status == 200
    calls = server.slack.calls_to("views.open")
    assert len(calls) == opened + 1
    assert calls[-1].ok
    view: dict[str, Any] = list(server.slack.views.values())[-1]  # the one just opened
    return view


async def test_record_outcome_from_the_card(db_url: str) -> None:
    clock = FakeClock(START)
    async with FakeCrm(SECRET, clock=clock) as crm:  # it checks the signed timestamp's age
        server = Server(
            db_url,
            config_toml=ORG_TOML + f'crm_webhook_url = "{crm.url}"\n',
            env={"CROSSTALK_CRM_WEBHOOK_SECRET": SECRET},
            clock=clock,
            run_worker=False,
        )
        async with server:
            _, b = await flag_for_billing(server)
            card = server.slack.get_message("C0BILLING", b.message_id or "")
            assert card is not None
            assert button_ids(card) == [
                "ct_ack", "ct_interpret", "ct_outcome", "ct_not_for_us", "ct_resolve",
            ]  # fmt: skip

            clock.advance(timedelta(hours=2))
            view = await open_form(server, "U0BOB", b)  # a member of Billing
            assert view["callback_id"] == "ct_outcome_form"
            blocks = {blk.get("block_id"): blk for blk in view["blocks"]}
            assert len(blocks["kind"]["element"]["options"]) == 7
            assert blocks["currency"]["element"]["initial_value"] == "USD"  # roi.currency

            # A bad amount is shown in the form, and nothing is recorded.
            for amount in ("-5", "lots", "1,5", "nan", "1e400"):
                status, body = await answer_of(server, submission(view, "U0BOB", amount=amount))
                assert status == 200 and body["response_action"] == "errors", amount
                assert set(body["errors"]) == {"amount"}, amount
            status, body = await answer_of(
                server, submission(view, "U0BOB", kind=None, amount="5", currency="US1")
            )
            assert set(body["errors"]) == {"kind", "currency"}
            assert server.query(select(InboxEvent).where(InboxEvent.kind == "outcome_form")) == []

            request = submission(
                view, "U0BOB", amount="12,500.50", currency="eur", crm_ref="OPP-7", note="renewed"
            )
            status, body = await answer_of(server, request)
            assert (status, body) == (200, None)  # the modal closes
            submitted_at = clock.now()
            await server.settle()
            (outcome,) = server.query(select(Outcome))
            assert (outcome.kind, outcome.amount, outcome.currency) == ("retained", 12500.5, "EUR")
            assert (outcome.crm_ref, outcome.note, outcome.source, outcome.recorded_by) == (
                "OPP-7", "renewed", "button", "U0BOB",
            )  # fmt: skip
            (after,) = server.query(select(Flag))
            assert (after.status, after.resolved_at, after.resolved_by) == (
                "resolved", submitted_at, "U0BOB",
            )  # fmt: skip
            assert after.ttr_seconds == (submitted_at - after.flagged_at).total_seconds()
            assert after.crm_ref == "OPP-7"
            card = server.slack.get_message("C0BILLING", b.message_id or "")
            assert card is not None
            shown = json.dumps(card["blocks"])
            assert "resolved" in shown and "retained 12,500.50 EUR" in shown
            assert button_ids(card) == ["ct_interpret", "ct_outcome"]
            sent = crm.accepted[f"webhook:outcome:{outcome.id}"]
            assert sent["outcome"]["source"] == "button" and sent["flag"]["crm_ref"] == "OPP-7"

            # The same submission again (same view id) is not a second outcome.
            assert (await answer_of(server, request))[0] == 200
            # A later outcome keeps the flag's first resolution and its CRM ref.
            clock.advance(timedelta(hours=1))
            view = await open_form(server, "U0ANN", b)  # the flagger may too
            status, body = await answer_of(
                server, submission(view, "U0ANN", kind="product_fix", crm_ref="OPP-8")
            )
            await server.settle()
            rows = server.query(select(Outcome).order_by(col(Outcome.id)))
            assert [(o.kind, o.amount, o.currency) for o in rows] == [
                ("retained", 12500.5, "EUR"),
                ("product_fix", 0.0, "USD"),
            ]
            (after,) = server.query(select(Flag))
            assert (after.resolved_at, after.crm_ref) == (submitted_at, "OPP-7")
            card = server.slack.get_message("C0BILLING", b.message_id or "")
            assert card is not None
            assert "retained 12,500.50 EUR; product fix" in json.dumps(card["blocks"])
            assert len(crm.deliveries) == 3  # the flag and two outcomes, once each


async def test_only_the_flagger_or_the_teams_may_record_an_outcome(db_url: str) -> None:
    async with Server(db_url, run_worker=False) as server:
        _, b = await flag_for_billing(server)
        assert (await server.send(press(server, "U0PAM", b, "ct_outcome", "pam"))).status == 200
        (refusal,) = await server.slack.wait_for_response("pam")
        assert refusal["response_type"] == "ephemeral"
        assert "record an outcome" in refusal["text"]
        assert server.slack.calls_to("views.open") == []

        # A form submitted by someone who may not (a stale modal, a crafted request).
        view = await open_form(server, "U0BEA", b)
        assert (await answer_of(server, submission(view, "U0PAM", amount="10")))[0] == 200
        await server.settle()
        assert server.query(select(Outcome)) == []
        (after,) = server.query(select(Flag))
        assert after.status == "open"
