"""Capture and broadcast on Slack (SPEC "Capture", "Broadcast"), end to end: signed requests
to the real server, assertions on what FakeSlack received and what the database holds."""

from __future__ import annotations

import json

from sqlmodel import func, select

from bot.demo.standins import slack_requests as sr
from bot.demo.standins.harness import Server
from bot.demo.standins.slack_api import FakeSlack
from bot.demo.standins.slack_requests import SignedRequest
from store.models import Broadcast, Flag, FlagFlagger, InboxEvent, OutboxMessage
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
    customer_says,
    fields,
    flag_by_reaction,
    flaggers,
    quote,
    reaction,
    reply,
    team_keys,
    the_flag,
    thread,
    topics,
    ts,
)

THREE_TEAMS = "You charged me twice and the export is broken."  # billing, product, engineering
ONE_TEAM = "Please refund the invoice"  # billing
TEAM_CHANNELS = {"billing": "C0BILLING", "product": "C0PRODUCT", "engineering": "C0ENG"}
ALL_TEAM_CHANNELS = ("C0SUCCESS", "C0BILLING", "C0PRODUCT", "C0ENG", "C0LEGAL")


def count(server: Server, model: type) -> int:
    return int(server.query(select(func.count()).select_from(model))[0])


def posted_anywhere(slack: FakeSlack) -> list[dict[str, object]]:
    return [c.args for c in slack.calls_to("chat.postMessage")]


# ---------------------------------------------------------------------------- reaction


async def test_mega_reaction_flags_once_and_broadcasts_to_each_routed_team(db_url: str) -> None:
    async with Server(db_url) as server:
        message_ts = await flag_by_reaction(server, THREE_TEAMS, flagged_at=T - 60)

        flag = the_flag(server)
        assert (flag.channel_id, flag.message_id, flag.thread_id) == (CUSTOMERS, message_ts, None)
        assert (flag.flagger_id, flag.via, flag.author_id) == ("U0ANN", "reaction", "U0SAM")
        assert flag.flagged_at == at(T - 60)  # the reaction's event_ts
        assert flag.excerpt == THREE_TEAMS
        assert (flag.sentiment, flag.sentiment_score) == ("negative", -0.599)
        assert flag.permalink == server.slack.permalink(CUSTOMERS, message_ts)
        assert flag.status == "open" and flag.origin_shared is False
        assert team_keys(server, [b.team_id for b in broadcasts(server)]) == [
            "billing",
            "product",
            "engineering",
        ]
        assert flaggers(server) == [("U0ANN", "reaction")]

        for key, channel in TEAM_CHANNELS.items():
            posted = card(server.slack, channel)
            b = next(b for b in broadcasts(server) if b.channel_id == channel)
            assert (b.message_id, b.posted_at) == (posted["ts"], at(float(posted["ts"])))
            assert [btn["value"] for btn in buttons(posted)] == [str(b.id)] * 5, key
        for channel in ("C0SUCCESS", "C0LEGAL"):
            assert cards_in(server.slack, channel) == []

        (notice,) = thread(server.slack, CUSTOMERS, message_ts)
        assert notice["text"] == (
            "📣 Flagged to Billing, Product, Engineering. Their interpretations will appear here."
        )
        assert fields(notice)["Flagged by"] == "<@U0ANN>"
        assert len(posted_anywhere(server.slack)) == 4  # three cards and the notice


async def test_another_reaction_does_nothing(db_url: str) -> None:
    async with Server(db_url) as server:
        message_ts = customer_says(server.slack, THREE_TEAMS, T - 600)
        for emoji in ("thumbsup", "eyes", "megaphone"):
            resp = await server.send(reaction(message_ts, T, emoji=emoji))
            assert resp.status == 200
        await server.settle()
        assert count(server, Flag) == 0
        assert count(server, OutboxMessage) == 0
        assert posted_anywhere(server.slack) == []
        # Only an acknowledgement reaction is kept to look for a card; it finds none.
        kinds = server.query(select(InboxEvent.kind, InboxEvent.status))
        assert kinds == [("reaction", "done")]


async def test_reaction_on_a_file_is_ignored(db_url: str) -> None:
    async with Server(db_url) as server:
        request = reaction("1795193400.000100", T)
        body = json.loads(request.body)
        body["event"]["item"] = {"type": "file", "file": "F0CONTRACT"}
        raw = json.dumps(body).encode()
        resp = await server.send(SignedRequest(raw, sr.sign(sr.DEFAULT_SIGNING_SECRET, raw)))
        assert resp.status == 200
        await server.settle()
        assert count(server, InboxEvent) == 0 and count(server, Flag) == 0


# ---------------------------------------------------------------------------- shortcut


async def test_shortcut_opens_a_prefilled_form_and_the_flagger_chooses_the_teams(
    db_url: str,
) -> None:
    async with Server(db_url) as server:
        slack = server.slack
        message_ts = customer_says(slack, ONE_TEAM + ", I was charged twice.", T - 600)
        resp = await server.send(
            sr.message_shortcut(
                "T0001",
                "U0BOB",
                CUSTOMERS,
                message_ts,
                ONE_TEAM + ", I was charged twice.",
                "U0SAM",
                "flag_for_stakeholders",
                sr.new_trigger_id(),
                slack.response_url("shortcut"),
                ts(T - 30),
            )
        )
        assert resp.status == 200
        (opened,) = slack.calls_to("views.open")
        view = opened.args["view"]
        assert view["callback_id"] == "ct_flag_form"
        (teams_block,) = [b for b in view["blocks"] if b.get("block_id") == "teams"]
        select_ = teams_block["element"]
        assert [o["value"] for o in select_["options"]] == [
            "success",
            "billing",
            "product",
            "engineering",
            "legal",
        ]
        assert select_["initial_options"] == [
            {"text": {"type": "plain_text", "text": "Billing"}, "value": "billing"}
        ]
        assert count(server, Flag) == 0  # nothing is flagged until the form is sent

        chosen = [
            {"text": {"type": "plain_text", "text": "Product"}, "value": "product"},
            {"text": {"type": "plain_text", "text": "Legal"}, "value": "legal"},
        ]
        resp = await server.send(
            sr.view_submission(
                "T0001",
                "U0BOB",
                "ct_flag_form",
                view["private_metadata"],
                {
                    "teams": {"teams": {"type": "multi_static_select", "selected_options": chosen}},
                    "customer": {
                        "customer": {"type": "plain_text_input", "value": " Globex (ACME-42) "}
                    },
                    "note": {"note": {"type": "plain_text_input", "value": "Second time."}},
                },
            )
        )
        assert resp.status == 200
        await server.settle()

        flag = the_flag(server)
        assert (flag.message_id, flag.via, flag.flagger_id) == (message_ts, "shortcut", "U0BOB")
        assert flag.flagged_at == at(T - 30)  # the shortcut's action_ts
        assert (flag.customer, flag.note) == ("Globex (ACME-42)", "Second time.")
        assert team_keys(server, [b.team_id for b in broadcasts(server)]) == ["product", "legal"]
        # The rule's tag stays; the topics follow the teams actually reached.
        assert topics(server, flag.id or 0) == ["billing", "product", "legal"]
        assert [c for c in ALL_TEAM_CHANNELS if cards_in(slack, c)] == ["C0PRODUCT", "C0LEGAL"]
        assert fields(card(slack, "C0LEGAL"))["Customer"] == "Globex (ACME-42)"
        (notice,) = thread(slack, CUSTOMERS, message_ts)
        assert notice["text"].startswith("📣 Flagged to Product, Legal. ")
        assert fields(notice)["Flagged by"] == "<@U0BOB>"


# ---------------------------------------------------------------------------- mention


async def test_mention_in_a_thread_flags_the_thread_root(db_url: str) -> None:
    async with Server(db_url) as server:
        slack = server.slack
        root = customer_says(slack, ONE_TEAM, T - 600)
        slack.add_message(
            CUSTOMERS, "and the dashboard export is broken", "U0SAM", ts(T - 500), root
        )
        mention_ts = ts(T - 120)
        # Slack sends the mention twice: as a channel message and as app_mention.
        for request in (
            reply(CUSTOMERS, root, "U0ANN", "<@UBOT> flag", T - 120),
            sr.event_app_mention("T0001", CUSTOMERS, "U0ANN", "<@UBOT> flag", mention_ts, root),
        ):
            assert (await server.send(request)).status == 200
        slack.set_now(T)
        await server.settle()

        flag = the_flag(server)
        assert (flag.message_id, flag.thread_id, flag.via) == (root, None, "mention")
        assert flag.flagged_at == at(T - 120)  # the mention's ts
        assert flag.excerpt == ONE_TEAM  # the root, not the reply
        assert [b.channel_id for b in broadcasts(server)] == ["C0BILLING"]
        (notice,) = thread(slack, CUSTOMERS, root)
        assert notice["text"].startswith("📣 Flagged to Billing. ")


async def test_mention_outside_a_thread_gets_a_hint_and_flags_nothing(db_url: str) -> None:
    async with Server(db_url) as server:
        slack = server.slack
        slack.channels[CUSTOMERS]["members"].append("U0ANN")
        resp = await server.send(
            sr.event_app_mention("T0001", CUSTOMERS, "U0ANN", "<@UBOT> flag", ts(T))
        )
        assert resp.status == 200
        await server.settle()
        (hint,) = slack.ephemeral
        assert (hint["channel"], hint["user"]) == (CUSTOMERS, "U0ANN")
        assert "`@Crosstalk flag` in its thread" in hint["text"] and ":mega:" in hint["text"]
        assert count(server, Flag) == 0 and count(server, InboxEvent) == 0
        assert posted_anywhere(slack) == []

        # When Slack refuses the hint, the event is still answered 200 (no redelivery storm).
        slack.fail_next("chat.postEphemeral", error="user_not_in_channel")
        resp = await server.send(
            sr.event_app_mention("T0001", CUSTOMERS, "U0ANN", "<@UBOT> flag!", ts(T + 1))
        )
        assert resp.status == 200
        assert [c.error for c in slack.calls_to("chat.postEphemeral")] == [
            None,
            "user_not_in_channel",
        ]
        assert len(slack.ephemeral) == 1


# ---------------------------------------------------------------------------- flagged twice


async def test_flagging_the_same_message_again_adds_the_flagger(db_url: str) -> None:
    async with Server(db_url) as server:
        slack = server.slack
        message_ts = await flag_by_reaction(server, THREE_TEAMS, user="U0ANN")
        posts = len(posted_anywhere(slack))
        assert posts == 4

        # A second reaction (another user), then the shortcut and its form (a third).
        assert (await server.send(reaction(message_ts, T + 5, user="U0BOB"))).status == 200
        await server.settle()
        shortcut = sr.message_shortcut(
            "T0001",
            "U0CAL",
            CUSTOMERS,
            message_ts,
            THREE_TEAMS,
            "U0SAM",
            "flag_for_stakeholders",
            sr.new_trigger_id(),
            slack.response_url("s"),
            ts(T + 9),
        )
        assert (await server.send(shortcut)).status == 200
        view = slack.calls_to("views.open")[0].args["view"]
        chosen = [{"text": {"type": "plain_text", "text": "Legal"}, "value": "legal"}]
        submit = sr.view_submission(
            "T0001",
            "U0CAL",
            "ct_flag_form",
            view["private_metadata"],
            {"teams": {"teams": {"type": "multi_static_select", "selected_options": chosen}}},
        )
        assert (await server.send(submit)).status == 200
        await server.settle()

        assert count(server, Flag) == 1
        assert flaggers(server) == [
            ("U0ANN", "reaction"),
            ("U0BOB", "reaction"),
            ("U0CAL", "shortcut"),
        ]
        assert count(server, FlagFlagger) == 3
        assert count(server, Broadcast) == 3
        assert len(posted_anywhere(slack)) == posts  # no second set of cards, no second notice
        assert cards_in(slack, "C0LEGAL") == []
        assert the_flag(server).flagger_id == "U0ANN"


# ---------------------------------------------------------------------------- card content


async def test_each_card_shows_the_flag_and_names_the_other_teams(db_url: str) -> None:
    async with Server(db_url) as server:
        slack = server.slack
        message_ts = await flag_by_reaction(server, THREE_TEAMS)
        link = slack.permalink(CUSTOMERS, message_ts)
        names = {"billing": "Billing", "product": "Product", "engineering": "Engineering"}
        slas = {"billing": "4h", "product": "1d", "engineering": "4h"}
        for key, channel in TEAM_CHANNELS.items():
            posted = card(slack, channel)
            b = next(b for b in broadcasts(server) if b.channel_id == channel)
            facts = fields(posted)
            assert quote(posted) == "> " + THREE_TEAMS
            assert facts["Sentiment"] == "🔴 negative -0.60"
            assert facts["Topics"] == "billing, reliability, product, engineering"
            assert facts["Flagged by"] == "<@U0ANN>"
            assert facts["Original"] == f"<{link}|open the conversation>"
            others = [n for k, n in names.items() if k != key]
            assert facts["Also sent to"] == ", ".join(others), key
            assert facts["Customer"] == "not named"
            assert facts["Status"] == f"Waiting for a first response (SLA {slas[key]})."
            assert [
                (btn["text"]["text"], btn["action_id"], btn["value"]) for btn in buttons(posted)
            ] == [
                ("Acknowledge", "ct_ack", str(b.id)),
                ("Add interpretation", "ct_interpret", str(b.id)),
                ("Record outcome", "ct_outcome", str(b.id)),
                ("Not for us", "ct_not_for_us", str(b.id)),
                ("Resolve", "ct_resolve", str(b.id)),
            ]
            assert (
                posted["blocks"][0]["text"]["text"] == f"📣 Customer conversation for {names[key]}"
            )


async def test_customer_pii_is_redacted_in_every_card_and_notice(db_url: str) -> None:
    text = (
        "I was charged twice on card 4111 1111 1111 1111 and the export is broken. "
        "Mail <mailto:jane.doe@example.com|jane.doe@example.com> or call +44 20 7946 0958."
    )
    redacted = (
        "I was charged twice on card [card] and the export is broken. Mail [email] or call [phone]."
    )
    async with Server(db_url) as server:
        slack = server.slack
        message_ts = await flag_by_reaction(server, text)
        assert the_flag(server).excerpt == redacted
        shown = [card(slack, c) for c in TEAM_CHANNELS.values()]
        shown += thread(slack, CUSTOMERS, message_ts)
        assert len(shown) == 4
        for message in shown:
            everything = all_text(message)
            for secret in ("4111", "jane.doe", "example.com", "7946", "0958"):
                assert secret not in everything, (secret, message["channel"])
        for c in TEAM_CHANNELS.values():
            assert quote(card(slack, c)) == "> " + redacted
        for call in slack.calls:  # nothing sent to Slack carried it either
            assert "4111 1111" not in json.dumps(call.args)


async def test_slack_connect_origin_gets_the_notice_and_mirrors_by_dm(db_url: str) -> None:
    async with Server(db_url) as server:
        slack = server.slack
        message_ts = await flag_by_reaction(server, ONE_TEAM, channel=SHARED)
        flag = the_flag(server)
        assert flag.origin_shared is True and flag.channel_id == SHARED
        (opened,) = slack.calls_to("conversations.open")
        assert opened.args["users"] == "U0ANN"
        (dm,) = [c for c, info in slack.channels.items() if info.get("user") == "U0ANN"]
        assert slack.channels[dm]["is_im"] is True
        (notice,) = slack.posted(dm)
        assert notice["text"].startswith("📣 Flagged to Billing. ")
        assert fields(notice)["Flagged by"] == "<@U0ANN>"

        billing = card(slack, "C0BILLING")
        await server.send(reply("C0BILLING", billing["ts"], "U0BOB", "Refund issued.", T + 600))
        await server.settle()
        notice_, mirror = slack.posted(dm)
        assert notice_["ts"] == notice["ts"]
        assert mirror["text"] == "💬 Billing — <@U0BOB>: Refund issued."
        # Nothing Crosstalk wrote ever reached the channel the customer can read.
        assert slack.posted(SHARED) == []
        assert [m["ts"] for m in slack.messages(SHARED)] == [message_ts]
        assert all(
            c.args.get("channel") != SHARED
            for c in slack.calls
            if c.method in ("chat.postMessage", "chat.update", "chat.postEphemeral")
        )


async def test_the_excerpt_is_shown_as_the_customer_wrote_it(db_url: str) -> None:
    async with Server(db_url) as server:
        # The customer wrote: Refund R&D <now> please (Slack escapes & < > in text).
        await flag_by_reaction(server, "Refund R&amp;D &lt;now&gt; please")
        assert the_flag(server).excerpt == "Refund R&D <now> please"
        assert quote(card(server.slack, "C0BILLING")) == "> Refund R&amp;D &lt;now&gt; please"
