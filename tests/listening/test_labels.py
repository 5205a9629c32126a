"""Feedback stored as labels (SPEC "Listening"): the store's insert-or-ignore on both
databases, and the labels the real handlers write over HTTP — a flag's final teams,
"Not for us", and a team's answer."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from bot.demo.standins import slack_requests as sr
from bot.demo.standins.harness import Server
from bot.listening.model import Example
from store import labels
from store.db import make_engine, session_scope, upgrade
from store.models import Org
from store.models_listening import ListeningLabel
from tests.fakes.core_loop import (
    CUSTOMERS,
    T,
    broadcast_in,
    card,
    click,
    customer_says,
    flag_by_reaction,
    reaction,
    reply,
    the_flag,
    ts,
)

AT = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
THREE_TEAMS = "You charged me twice and the export is broken."  # billing, product, engineering
ONE_TEAM = "Please refund the invoice"  # billing


def stored(server: Server) -> list[tuple[str, str | None, bool | None, bool, str]]:
    rows = server.query(select(ListeningLabel).order_by(col(ListeningLabel.id)))
    return [(r.ref, r.team, r.flag, r.team_ok, r.source) for r in rows]


def _add(session: Session, org_id: int, ref: str, **kw: object) -> bool:
    values: dict[str, object] = {
        "text": "refund please",
        "flag": True,
        "team": "billing",
        "team_ok": True,
        "source": "manual",
        "at": AT,
        **kw,
    }
    return labels.add(session, org_id=org_id, ref=ref, **values)  # type: ignore[arg-type]


def test_add_ignores_a_repeated_ref_without_failing_the_transaction(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    try:
        with session_scope(engine) as s:
            acme, other = Org(name="Acme"), Org(name="Other")
            s.add_all([acme, other])
            s.flush()
            assert acme.id is not None and other.id is not None
            org, org2 = acme.id, other.id
            assert _add(s, org, "flag:1:billing") is True
            assert _add(s, org, "flag:1:billing", team="legal") is False  # the first one stays
            # The transaction goes on after the duplicate: later writes commit with it.
            assert _add(s, org, "notforus:7", team="billing", team_ok=False, source="not_for_us")
            assert _add(s, org2, "flag:1:billing") is True  # refs are unique per org only
        with session_scope(engine) as s:
            first = labels.last_id(s, org_id=org)
            assert _add(s, org, "answered:9", text="the export", team="product", source="answered")
            assert _add(s, org, "suggestion:3", text="fine thanks", flag=False, team=None,
                        source="not_a_flag")  # fmt: skip
        with session_scope(engine) as s:
            assert labels.count(s, org_id=org) == 4
            assert labels.count(s, org_id=org, since_id=first) == 2
            assert labels.count(s, org_id=org2) == 1
            assert labels.by_source(s, org_id=org) == {
                "manual": 1,
                "not_for_us": 1,
                "answered": 1,
                "not_a_flag": 1,
            }
            assert labels.examples(s, org_id=org) == [
                Example("refund please", True, "billing", True),
                Example("refund please", True, "billing", False),
                Example("the export", True, "product", True),
                Example("fine thanks", False, None, True),
            ]
            assert labels.remove(s, org_id=org, refs=["flag:1:billing", "nope"]) == 1
            assert labels.count(s, org_id=org) == 3 and labels.count(s, org_id=org2) == 1
            assert labels.last_id(s, org_id=999) is None
    finally:
        engine.dispose()


async def test_a_flag_is_a_positive_for_each_of_its_teams_once(db_url: str) -> None:
    async with Server(db_url) as server:
        message_ts = await flag_by_reaction(server, THREE_TEAMS)
        flag = the_flag(server)
        expected = [
            (f"flag:{flag.id}:{team}", team, True, True, "manual")
            for team in ("billing", "product", "engineering")
        ]
        assert stored(server) == expected
        (texts,) = {r.text for r in server.query(select(ListeningLabel))}
        assert texts == flag.excerpt  # what the flag keeps, nothing new

        # Slack redelivers the reaction, and someone else flags the same message.
        await server.send(reaction(message_ts, T - 60))
        await server.send(reaction(message_ts, T - 30, user="U0CAL"))
        await server.settle()
        assert stored(server) == expected


async def test_the_teams_chosen_in_the_form_are_the_labels(db_url: str) -> None:
    async with Server(db_url) as server:
        slack = server.slack
        message_ts = customer_says(slack, ONE_TEAM, T - 600)
        opened = await server.send(
            sr.message_shortcut("T0001", "U0BOB", CUSTOMERS, message_ts, ONE_TEAM, "U0SAM",
                                "flag_for_stakeholders", sr.new_trigger_id(),
                                slack.response_url("shortcut"), ts(T - 30))
        )  # fmt: skip
        assert opened.status == 200
        (call,) = slack.calls_to("views.open")
        chosen = [{"text": {"type": "plain_text", "text": "Legal"}, "value": "legal"}]
        state = {"teams": {"teams": {"type": "multi_static_select", "selected_options": chosen}}}
        view = call.args["view"]
        sent = await server.send(
            sr.view_submission("T0001", "U0BOB", "ct_flag_form", view["private_metadata"], state)
        )
        assert sent.status == 200
        await server.settle()
        flag = the_flag(server)
        assert stored(server) == [(f"flag:{flag.id}:legal", "legal", True, True, "manual")]


async def test_not_for_us_turns_the_teams_positive_into_a_negative(db_url: str) -> None:
    async with Server(db_url) as server:
        await flag_by_reaction(server, THREE_TEAMS)
        flag, billing = the_flag(server), broadcast_in(server, "C0BILLING")
        # Bob (billing) answers first, then sends the flag back.
        answered = reply("C0BILLING", billing.message_id or "", "U0BOB", "Refund sent.", T + 60)
        await server.send(answered)
        await server.settle()
        assert (f"answered:{billing.id}", "billing", True, True, "answered") in stored(server)

        billing_card = card(server.slack, "C0BILLING")
        for at_ in (T + 120, T + 130):  # pressed twice: one negative
            await server.send(click(server, billing_card, "U0BOB", "ct_not_for_us", at_))
            await server.settle()
        assert stored(server) == [
            (f"flag:{flag.id}:product", "product", True, True, "manual"),
            (f"flag:{flag.id}:engineering", "engineering", True, True, "manual"),
            (f"notforus:{billing.id}", "billing", True, False, "not_for_us"),
        ]


async def test_only_the_teams_own_answer_is_a_positive_for_it(db_url: str) -> None:
    async with Server(db_url) as server:
        await flag_by_reaction(server, ONE_TEAM)  # billing only
        billing = broadcast_in(server, "C0BILLING")
        root = billing.message_id or ""
        for user, text, at_ in (
            ("U0ANN", "More details: order 42.", T + 10),  # the flagger
            ("U0EVE", "Engineering here, nothing for us.", T + 20),  # another team's member
        ):
            await server.send(reply("C0BILLING", root, user, text, at_))
        await server.settle()
        assert [r[0] for r in stored(server)] == [f"flag:{the_flag(server).id}:billing"]

        await server.send(reply("C0BILLING", root, "U0BEA", "We refunded it.", T + 30))
        await server.send(reply("C0BILLING", root, "U0BOB", "Confirmed.", T + 40))
        await server.settle()
        assert stored(server)[1:] == [(f"answered:{billing.id}", "billing", True, True, "answered")]
