"""Listening on Slack, end to end (SPEC "Listening"): signed events from watched channels to
the real server, suggestion cards read back from the Slack stand-in, their buttons pressed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlmodel import func, select

from bot.cli import main
from bot.core.clock import FakeClock
from bot.demo.org import ORG_TOML
from bot.demo.standins import slack_requests as sr
from bot.demo.standins.harness import Server
from store.models import Flag, InboxEvent, OutboxMessage
from store.models_listening import ListeningCounter, Suggestion
from tests.fakes.core_loop import (
    CUSTOMERS,
    SHARED,
    T,
    all_text,
    at,
    broadcasts,
    buttons,
    card,
    cards_in,
    click,
    fields,
    flaggers,
    quote,
    team_keys,
    the_flag,
    thread,
    ts,
)
from tests.listening.listening_steps import (
    CALM,
    CONFIG,
    CUSTOMER,
    TRIAGE,
    UPSET,
    labels,
    listening_server,
    says,
    scored,
    suggestions,
)

TEAM_CHANNELS = {"billing": "C0BILLING", "product": "C0PRODUCT", "engineering": "C0ENG"}


def count(server: Server, model: type) -> int:
    return int(server.query(select(func.count()).select_from(model))[0])


async def suggested(server: Server, text: str = UPSET, at_: float = T - 600) -> dict[str, object]:
    """The customer says `text` in the Slack Connect channel: its suggestion card."""
    resp = await server.send(says(server, text, at_))
    assert resp.status == 200
    await server.settle()
    return card(server.slack, TRIAGE)


async def test_customer_message_is_suggested_in_triage_then_flagged(db_url: str) -> None:
    async with listening_server(db_url) as server:
        slack = server.slack
        posted = await suggested(server)
        (s,) = suggestions(server)
        assert (s.channel_id, s.message_id, s.author_id, s.state) == (
            SHARED,
            ts(T - 600),
            CUSTOMER,
            "open",
        )
        # The card: the message quoted, its link, the teams with their confidence.
        assert quote(posted) == f"> {UPSET}"
        facts = fields(posted)
        assert facts["Suggested teams"] == "Billing 50%, Product 50%, Engineering 50%"
        assert facts["From"] == f"<@{CUSTOMER}>"
        assert slack.permalink(SHARED, ts(T - 600)) in facts["Original"]
        assert [(b["action_id"], b["value"]) for b in buttons(posted)] == [
            ("ct_sg_flag", str(s.id)),
            ("ct_sg_dismiss", str(s.id)),
            ("ct_sg_teams", str(s.id)),
        ]
        # Never into the watched channel, which the customer reads.
        assert slack.posted(SHARED) == []
        assert scored(server) == (1, 1)

        resp = await server.send(click(server, posted, "U0ANN", "ct_sg_flag", T - 60))
        assert resp.status == 200
        await server.settle()

        flag = the_flag(server)
        assert (flag.channel_id, flag.message_id, flag.via) == (SHARED, ts(T - 600), "suggestion")
        assert (flag.flagger_id, flag.author_id, flag.excerpt) == ("U0ANN", CUSTOMER, UPSET)
        assert flag.origin_shared is True
        keys = team_keys(server, [b.team_id for b in broadcasts(server)])
        assert keys == ["billing", "product", "engineering"]
        for key, channel in TEAM_CHANNELS.items():
            assert UPSET in all_text(card(slack, channel)), key
        # Shared with the customer: no notice in its thread (the flagger is told directly).
        assert thread(slack, SHARED, ts(T - 600)) == []
        (s,) = suggestions(server)
        assert (s.state, s.answered_by, s.flag_id) == ("flagged", "U0ANN", flag.id)
        redrawn = card(slack, TRIAGE)
        assert redrawn["ts"] == posted["ts"] and buttons(redrawn) == []
        assert "flagged" in redrawn["blocks"][0]["text"]["text"]
        assert "Flagged by <@U0ANN>" in all_text(redrawn)
        # The flag path labels the flag: a positive per final team, from a suggestion.
        assert {(x.team, x.flag, x.source) for x in labels(server)} == {
            ("billing", True, "suggestion"),
            ("product", True, "suggestion"),
            ("engineering", True, "suggestion"),
        }

        # Pressed again (a double click, someone else): one flag, and they are told.
        again = click(server, posted, "U0BOB", "ct_sg_flag", T - 30, hook="again")
        assert (await server.send(again)).status == 200
        await server.settle()
        assert count(server, Flag) == 1 and len(broadcasts(server)) == 3
        (told,) = slack.responses["again"]
        assert told["text"] == "Already flagged." and told["response_type"] == "ephemeral"
        assert ("U0BOB", "suggestion") not in flaggers(server)


async def test_not_a_flag_dismisses_and_stores_a_negative_label(db_url: str) -> None:
    async with listening_server(db_url) as server:
        posted = await suggested(server)
        resp = await server.send(click(server, posted, "U0ANN", "ct_sg_dismiss", T - 60))
        assert resp.status == 200
        await server.settle()

        (s,) = suggestions(server)
        assert (s.state, s.answered_by, s.flag_id) == ("dismissed", "U0ANN", None)
        assert count(server, Flag) == 0
        (label,) = labels(server)
        assert (label.flag, label.team, label.source, label.text) == (
            False,
            None,
            "not_a_flag",
            UPSET,
        )
        redrawn = card(server.slack, TRIAGE)
        assert buttons(redrawn) == [] and "not a flag" in redrawn["blocks"][0]["text"]["text"]
        # Flag pressed after: the first answer stands.
        await server.send(click(server, posted, "U0BOB", "ct_sg_flag", T - 30))
        await server.settle()
        assert count(server, Flag) == 0 and len(labels(server)) == 1


async def test_change_teams_opens_the_form_and_flags_to_the_chosen_teams(db_url: str) -> None:
    async with listening_server(db_url) as server:
        slack = server.slack
        posted = await suggested(server)
        resp = await server.send(click(server, posted, "U0ANN", "ct_sg_teams", T - 60))
        assert resp.status == 200
        (opened,) = slack.calls_to("views.open")
        view = opened.args["view"]
        assert view["callback_id"] == "ct_suggestion_form"
        (teams_block,) = [b for b in view["blocks"] if b.get("block_id") == "teams"]
        initial = [o["value"] for o in teams_block["element"]["initial_options"]]
        assert initial == ["billing", "product", "engineering"]
        assert count(server, Flag) == 0

        chosen = [{"text": {"type": "plain_text", "text": "Legal"}, "value": "legal"}]
        values = {"teams": {"teams": {"type": "multi_static_select", "selected_options": chosen}}}
        submit = sr.view_submission(
            "T0001", "U0ANN", "ct_suggestion_form", view["private_metadata"], values
        )
        assert (await server.send(submit)).status == 200
        await server.settle()

        flag = the_flag(server)
        assert (flag.via, flag.flagger_id) == ("suggestion", "U0ANN")
        assert team_keys(server, [b.team_id for b in broadcasts(server)]) == ["legal"]
        assert cards_in(slack, "C0BILLING") == [] and len(cards_in(slack, "C0LEGAL")) == 1
        (s,) = suggestions(server)
        assert s.state == "flagged" and s.teams == '[["legal", null]]'
        assert [(x.team, x.source) for x in labels(server)] == [("legal", "suggestion")]


async def test_an_employee_in_a_shared_channel_is_not_scored(db_url: str) -> None:
    async with listening_server(db_url) as server:
        resp = await server.send(says(server, UPSET, T - 600, user="U0ANN", team="T0001"))
        assert resp.status == 200
        await server.settle()
        assert suggestions(server) == [] and scored(server) == (0, 0)
        assert count(server, InboxEvent) == 0  # dropped before it was stored
        assert cards_in(server.slack, TRIAGE) == []


async def test_an_internal_watched_channel_scores_every_human_message(db_url: str) -> None:
    async with listening_server(db_url) as server:
        slack = server.slack
        # An employee pastes what a customer said: scored like a customer's own words.
        await server.send(says(server, UPSET, T - 600, channel=CUSTOMERS, user="U0ANN", team=None))
        await server.send(says(server, CALM, T - 500, channel=CUSTOMERS, user="U0BOB", team=None))
        # Not scored: another app's bot, and a colleague's reply under a message.
        await server.send(
            says(server, UPSET, T - 400, channel=CUSTOMERS, user="", team=None, bot_id="B0OTHER")
        )
        await server.send(
            says(
                server,
                "Ugh, charged twice again, this is broken!",
                T - 300,
                channel=CUSTOMERS,
                user="U0CAL",
                team=None,
                thread_ts=ts(T - 600),
            )
        )
        await server.settle()
        assert scored(server) == (2, 1)
        (s,) = suggestions(server)
        assert (s.channel_id, s.message_id, s.author_id) == (CUSTOMERS, ts(T - 600), "U0ANN")
        assert len(cards_in(slack, TRIAGE)) == 1
        assert slack.posted(CUSTOMERS) == []


async def test_a_retried_event_gives_one_suggestion(db_url: str) -> None:
    async with listening_server(db_url) as server:
        first = says(server, UPSET, T - 600, event_id="Ev0LISTEN01")
        for request in (first, says(server, UPSET, T - 600, event_id="Ev0LISTEN01", retry_num=1)):
            assert (await server.send(request)).status == 200
        # The same message under another event id (another delivery path): still one.
        await server.send(says(server, UPSET, T - 600, event_id="Ev0LISTEN02"))
        await server.settle()
        assert len(suggestions(server)) == 1
        assert len(cards_in(server.slack, TRIAGE)) == 1
        kinds = server.query(
            select(OutboxMessage.kind).where(OutboxMessage.kind.startswith("sugg"))
        )
        assert kinds == ["suggestion_card"]
        (counter,) = server.query(select(ListeningCounter))
        assert counter.suggested == 1  # the second delivery was scored, not suggested again
        assert server.query(select(func.count()).select_from(Suggestion)) == [1]


async def test_flag_pressed_twice_at_once_makes_one_flag(db_url: str) -> None:
    async with listening_server(db_url) as server:
        posted = await suggested(server)
        presses = [
            click(server, posted, user, "ct_sg_flag", T - 60, hook=user)
            for user in ("U0ANN", "U0BOB")
        ]
        answers = await asyncio.gather(*(server.send(p) for p in presses))
        assert [a.status for a in answers] == [200, 200]
        await server.settle()
        assert count(server, Flag) == 1 and len(broadcasts(server)) == 3
        told = sorted(server.slack.responses[u][0]["text"] for u in ("U0ANN", "U0BOB"))
        assert told[0] in ("Already answered.", "Already flagged.")
        assert told[1] == "Flagged to Billing, Product, Engineering."
        (s,) = suggestions(server)
        assert s.state == "flagged" and s.flag_id == the_flag(server).id
        assert len(server.slack.calls_to("chat.update")) == 1  # the card redrawn once


def test_config_check_names_the_listening_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "crosstalk.toml"
    path.write_text(ORG_TOML + '\n[listening]\nchannels = ["C0CUSTOMERS", "19:x@thread.tacv2"]\n')
    assert main(["config", "check", str(path)], clock=FakeClock(at(T))) == 2
    err = capsys.readouterr().err
    assert "listening.triage_channel: required while Slack channels are watched" in err
    assert "listening.teams_triage_channel: required while Teams channels are watched" in err

    path.write_text(
        ORG_TOML + '\n[listening]\nshared_channels = true\ntriage_channel = "C0SHARED"\n'
        'channels = ["C0SHARED"]\nthreshold = 0.65\n'
    )
    assert main(["config", "check", str(path)], clock=FakeClock(at(T))) == 2
    assert "listening.triage_channel: must not be a watched channel" in capsys.readouterr().err

    path.write_text(ORG_TOML + '\n[listening]\nchannels = ["#feedback"]\nthreshold = 1.2\n')
    assert main(["config", "check", str(path)], clock=FakeClock(at(T))) == 2
    err = capsys.readouterr().err
    assert "listening.channels[0]: '#feedback': listening needs the channel id" in err
    assert "listening.threshold: Input should be less than 1" in err

    path.write_text(CONFIG)
    assert main(["config", "check", str(path)], clock=FakeClock(at(T))) == 0
