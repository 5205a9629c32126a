"""Learned routing over HTTP (SPEC "Listening"): with labels that teach "refund -> billing"
and no rule for "refund", a :mega: flag on a refund message reaches billing instead of the
default team; a rule that matches still wins; the shortcut's form (Slack and Teams) comes
with billing chosen; "Not for us" from billing stores negatives that, once the model is
retrained, send similar messages elsewhere; a team's answer is a positive for it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlmodel import Session, col, select

from bot.demo.org import ORG_TOML
from bot.demo.standins import slack_requests as sr
from bot.demo.standins import teams_activities as ta
from bot.demo.standins.bot_connector import BotConnector
from bot.demo.standins.harness import Server
from bot.handlers.route import route
from bot.listening import training
from bot.listening.model import ModelStats
from bot.listening.routing import rule_keywords
from config.load import parse_config
from store import labels
from store.models_listening import ListeningLabel
from tests.adapters.teams.test_teams_capture import install, seed
from tests.fakes.core_loop import (
    CUSTOMERS,
    T,
    at,
    broadcasts,
    cards_in,
    click,
    customer_says,
    flag_by_reaction,
    reply,
    team_keys,
    ts,
)

RULES = 'keywords = ["invoice", "refund", "charged", "billing", "card"]'
NO_REFUND_RULE = ORG_TOML.replace(RULES, 'keywords = ["invoice"]')
assert NO_REFUND_RULE != ORG_TOML

TEACH = {
    "billing": [
        "I would like a refund for my order", "Can I get a refund please",
        "When will my refund arrive", "Please refund my last payment",
        "I asked for a refund a week ago", "Still waiting for the refund",
        "Refund the annual plan, we downgraded", "How long does a refund take",
        "The refund never came through", "I need a refund for the duplicate payment",
        "Refund request for order 1234", "Where is my refund",
    ],
    "product": [
        "It would be great to have dark mode", "Please add a calendar view",
        "Can you support custom fields", "We would love a mobile app",
        "Any plans for a Gantt chart", "Please let us tag items with colours",
        "A bulk edit option would save us hours", "Could you add keyboard shortcuts",
        "We want saved filters", "Offline mode would be great",
        "Please add more login options", "Templates for projects please",
    ],
    "engineering": [
        "The app crashes when I log in", "I get an error page on save",
        "The page is very slow today", "Login fails with a timeout",
        "Uploads hang at 99 percent", "Sync stopped working overnight",
        "The API returns 500", "Notifications are not delivered",
        "Search gives no results since the update", "The mobile app freezes",
        "Images fail to load", "We see duplicate entries after sync",
    ],
    "legal": [
        "Where can I find your DPA", "We need the contract countersigned",
        "Our lawyer has questions on liability", "Is there a data processing addendum",
        "Please send the terms for review", "We need SOC 2 documents",
        "Who is your subprocessor list", "Our counsel wants changes to the MSA",
        "Please confirm GDPR compliance", "We need a signed NDA",
        "Where is data stored, legally speaking", "The indemnity clause needs changes",
    ],
}  # fmt: skip
CHATTER = ["thanks a lot", "great, works now", "see you tomorrow", "ok", "cheers", "lunch?"]
REFUNDS = [
    "Refund my order from May", "My refund for May is late", "Any news on my refund?",
    "I have not got my refund", "My refund is overdue", "Has my refund been sent?",
]  # fmt: skip


def teach(server: Server) -> None:
    """The org's earlier feedback: flags with their teams, and messages nobody flagged."""
    org_id, now = server.runtime.org.org_id, server.runtime.clock.now()

    def add(session: Session) -> None:
        for team, texts in TEACH.items():
            for i, text in enumerate(texts):
                labels.add(session, org_id=org_id, ref=f"earlier:{team}:{i}", text=text,
                           flag=True, team=team, team_ok=True, source="manual", at=now)  # fmt: skip
        for i, text in enumerate(CHATTER):
            labels.add(session, org_id=org_id, ref=f"earlier:no:{i}", text=text, flag=False,
                       team=None, team_ok=True, source="not_a_flag", at=now)  # fmt: skip

    server.runtime.db.transaction(add)


_FITTED: dict[tuple[object, ...], tuple[bytes, ModelStats]] = {}


async def retrain(server: Server) -> None:
    """The training job's steps (bot.listening.training), forced: plan from the org's
    labels, fit, store as the next version. A fit of the same labels is made once per
    run (on SQLite and PostgreSQL alike), since fitting is the slow part."""
    rt = server.runtime
    org_id, now = rt.org.org_id, rt.clock.now()
    keywords, teams = rule_keywords(rt.config), rt.config.team_keys
    digest = training.config_digest(keywords, teams)
    plan = rt.db.transaction(
        lambda s: training.plan(s, org_id=org_id, digest=digest, now=now, force=True)
    )
    assert plan is not None
    key = (digest, plan.version, *plan.examples)
    if key not in _FITTED:
        _FITTED[key] = await asyncio.to_thread(
            training.fit, plan.examples, keywords, teams, plan.version
        )
    blob, stats = _FITTED[key]
    stored = rt.db.transaction(
        lambda s: training.store(s, org_id=org_id, plan=plan, blob=blob, stats=stats, at=now)
    )
    assert stored


def routed(server: Server) -> list[list[str]]:
    """Each flag's teams, in order."""
    by_flag: dict[int, list[int]] = {}
    for b in broadcasts(server):
        by_flag.setdefault(b.flag_id, []).append(b.team_id)
    return [team_keys(server, ids) for _, ids in sorted(by_flag.items())]


def stored(server: Server) -> list[ListeningLabel]:
    return server.query(
        select(ListeningLabel)
        .where(col(ListeningLabel.ref).not_like("earlier:%"))
        .order_by(col(ListeningLabel.id))
    )


async def shortcut_form(server: Server, text: str, said: float) -> Any:
    message_ts = customer_says(server.slack, text, said)
    request = sr.message_shortcut("T0001", "U0ANN", CUSTOMERS, message_ts, text, "U0SAM",
                                  "flag_for_stakeholders", sr.new_trigger_id(),
                                  server.slack.response_url("form"), ts(said + 30))  # fmt: skip
    assert (await server.send(request)).status == 200
    view = server.slack.calls_to("views.open")[-1].args["view"]
    (teams_block,) = [b for b in view["blocks"] if b.get("block_id") == "teams"]
    return [o["value"] for o in teams_block["element"].get("initial_options", [])]


async def test_the_model_routes_what_no_rule_matches_and_rules_still_win(db_url: str) -> None:
    async with Server(db_url, config_toml=NO_REFUND_RULE) as server:
        # Before any model: no rule for "refund", so the default team.
        assert await shortcut_form(server, "When do I get my refund?", T - 700) == ["success"]
        teach(server)
        await retrain(server)

        await flag_by_reaction(server, "I still have not received my refund", said_at=T - 600)
        # A rule matches (export -> product, broken -> engineering): the rules decide.
        await flag_by_reaction(server, "The refund page export is broken", said_at=T - 500,
                               flagged_at=T - 50)  # fmt: skip
        assert routed(server) == [["billing"], ["product", "engineering"]]
        assert len(cards_in(server.slack, "C0BILLING")) == 1
        assert await shortcut_form(server, "Where is my refund now?", T - 400) == ["billing"]


async def test_the_teams_form_is_prefilled_with_the_learned_teams(db_url: str) -> None:
    toml = ta.MIXED_ORG_TOML.replace(RULES, 'keywords = ["invoice"]')
    assert toml != ta.MIXED_ORG_TOML
    async with BotConnector() as connector:
        seed(connector)
        async with Server(db_url, config_toml=toml, teams=connector) as server:
            await install(server, connector)
            teach(server)
            await retrain(server)
            fetch = ta.flag_action(connector.service_url, "composeExtension/fetchTask",
                                   ta.CUSTOMERS, ta.message_id(), "Can I get my refund now?",
                                   user=ta.LIZ, author=ta.PIA)  # fmt: skip
            status, answer = await server.send_activity(fetch)
            assert status == 200
            form = answer["task"]["value"]["card"]["content"]
            (teams_input,) = [i for i in form["body"] if i.get("id") == "teams"]
            assert teams_input["value"] == "billing"


async def test_not_for_us_and_answers_teach_routing(db_url: str) -> None:
    async with Server(db_url, config_toml=NO_REFUND_RULE) as server:
        teach(server)
        await retrain(server)
        # Billing sends back every refund that reaches it: here refunds are Success's.
        for i, text in enumerate(REFUNDS):
            await flag_by_reaction(server, text, said_at=T - 3000 + i, flagged_at=T - 2000 + i,
                                   card_at=T + i)  # fmt: skip
            billing = cards_in(server.slack, "C0BILLING")[-1]
            await server.send(click(server, billing, "U0BOB", "ct_not_for_us", T + 100 + i))
            await server.settle()
        assert routed(server) == [["billing"]] * len(REFUNDS)
        negatives = stored(server)
        assert [(r.team, r.flag, r.team_ok, r.source) for r in negatives] == [
            ("billing", True, False, "not_for_us")
        ] * len(REFUNDS)
        assert {r.text for r in negatives} == set(REFUNDS)  # the flags' excerpts

        await retrain(server)
        await flag_by_reaction(server, "My refund has still not arrived", said_at=T + 200,
                               flagged_at=T + 300, card_at=T + 400)  # fmt: skip
        assert routed(server)[-1] == ["success"]  # no longer billing: the default team

        # The default team was nobody's choice: the flag is a positive without a team...
        # ...until Success answers it: then a positive for Success on that message.
        (success,) = cards_in(server.slack, "C0SUCCESS")
        await server.send(reply("C0SUCCESS", success["ts"], "U0CAL", "On it.", T + 500))
        await server.settle()
        answered = [(r.ref.split(":")[0], r.team, r.team_ok) for r in stored(server)][-2:]
        assert answered == [("flag", None, True), ("answered", "success", True)]
        assert stored(server)[-1].created_at == at(T + 500)  # the answer's own time


def test_route_asks_the_model_only_when_no_rule_matches() -> None:
    config = parse_config(NO_REFUND_RULE, "test.toml")
    asked: list[str] = []

    def model(teams: tuple[str, ...]) -> Callable[[], tuple[str, ...]]:
        def learned() -> tuple[str, ...]:
            asked.append(",".join(teams))
            return teams

        return learned

    def teams(text: str, learned: Callable[[], tuple[str, ...]]) -> tuple[str, ...]:
        return route(text=text, channel_id=CUSTOMERS, sentiment="neutral", config=config,
                     learned=learned).teams  # fmt: skip

    assert teams("a refund please", model(("billing",))) == ("billing",)
    assert teams("a refund please", model(())) == ("success",)  # not confident: the default
    # Teams the config no longer has are dropped; a repeat counts once.
    assert teams("a refund please", model(("finance", "legal", "legal"))) == ("legal",)
    assert teams("a refund please", model(("finance",))) == ("success",)
    assert len(asked) == 4
    assert teams("the invoice is wrong", model(("legal",))) == ("billing",)  # the rule wins
    assert len(asked) == 4  # and the model was not asked
