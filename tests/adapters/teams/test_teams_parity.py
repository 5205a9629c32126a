"""One record across Slack and Teams, over real HTTP against FakeSlack and the Bot
Connector stand-in: a Slack flag reaches a Teams-only team as an Adaptive Card, and a
Teams reply in that thread counts on that flag (mirrored back to the Slack thread, by
name); a Teams flag reaches a Slack team the same way. Card buttons update the card in
place (PUT)."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from bot.core.clock import FakeClock
from bot.demo.standins import slack_requests as sr
from bot.demo.standins import teams_activities as ta
from bot.demo.standins.bot_connector import BotConnector, Message
from bot.demo.standins.harness import Server
from bot.demo.standins.serving import START
from store.models import Broadcast, Flag, Interpretation
from tests.adapters.teams.test_teams_capture import install, seed, teams_server

CUSTOMERS = "C0CUSTOMERS"


def card_text(message: Message) -> str:
    return json.dumps(message.card, ensure_ascii=False)


def slack_names(server: Server) -> None:
    """Slack people with display names, as a real workspace has them."""
    for uid, name in {"U0ANN": "Ann Lee", "U0BOB": "Bob Stone"}.items():
        server.slack.add_user(uid, uid.lower(), name, display_name=name)


async def test_a_slack_flag_reaches_a_teams_only_team_and_its_reply_counts(db_url: str) -> None:
    async with BotConnector() as connector:
        seed(connector)
        async with teams_server(db_url, connector) as server:
            await install(server, connector)
            slack_names(server)
            ts = server.slack.add_message(CUSTOMERS, "Your export feature is broken", user="U0SAM")
            reaction = sr.event_reaction_added(
                "T0001", "U0ANN", "mega", CUSTOMERS, ts, "U0SAM", server.now_ts()
            )
            assert (await server.send(reaction)).status == 200
            await server.settle()

            [flag] = server.query(select(Flag))
            by_team = {b.team_id: b for b in server.query(select(Broadcast))}
            product = by_team[server.runtime.org.ids.team_ids["product"]]
            engineering = by_team[server.runtime.org.ids.team_ids["engineering"]]
            # Product lives only in Teams; Engineering has both and gets the flag's platform.
            assert (product.platform, product.channel_id) == ("teams", ta.PRODUCT)
            assert (engineering.platform, engineering.channel_id) == ("slack", "C0ENG")
            assert server.slack.posted("C0ENG")

            [card] = connector.threads(ta.PRODUCT)
            assert product.message_id == card.id
            assert card.card is not None and card.card["type"] == "AdaptiveCard"
            shown = card_text(card)
            assert "Your export feature is broken" in shown
            assert "Engineering" in shown  # which other teams also received it
            assert "Ann Lee" in shown and "U0ANN" not in shown  # a Slack flagger, by name
            verbs = {a.get("verb") or a["data"]["ct"] for a in card.card["actions"]}
            assert {"ct_ack", "ct_interpret", "ct_not_for_us", "ct_resolve"} <= verbs

            reply = ta.channel_message(
                connector.service_url,
                ta.PRODUCT,
                "We can ship a fix for the export this sprint.",
                user=ta.PAM,
                root=card.id,
            )
            assert (await server.send_activity(reply))[0] == 200
            await server.settle()

            [interp] = server.query(select(Interpretation))
            assert (interp.flag_id, interp.broadcast_id) == (flag.id, product.id)
            assert interp.author_id == ta.PAM
            assert interp.author_team_id == server.runtime.org.ids.team_ids["product"]
            assert interp.cross_team
            [product] = server.query(select(Broadcast).where(Broadcast.id == product.id))
            assert product.first_response_by == ta.PAM and product.ttfr_seconds is not None

            mirrored = server.slack.posted(CUSTOMERS, thread_ts=ts)
            texts = [m.get("text", "") for m in mirrored]
            assert any("We can ship a fix" in t and "Pam Reyes" in t for t in texts), texts
            assert not any(ta.PAM in t for t in texts)
            # The Teams card shows the first response, in place.
            assert card.versions and "First response from" in card_text(card)
            assert "<at>Pam Reyes</at>" in card_text(card)


async def test_a_teams_flag_reaches_a_slack_team_and_its_reply_counts(db_url: str) -> None:
    async with BotConnector() as connector:
        seed(connector)
        async with teams_server(db_url, connector) as server:
            await install(server, connector)
            slack_names(server)
            message = ta.message_id()
            submit = ta.flag_action(
                connector.service_url,
                "composeExtension/submitAction",
                ta.CUSTOMERS,
                message,
                "I was charged twice on my last invoice",
                user=ta.LIZ,
                author=ta.PIA,
                data={},
            )
            assert (await server.send_activity(submit))[0] == 200
            await server.settle()

            [flag] = server.query(select(Flag))
            [billing] = server.query(select(Broadcast))
            assert (billing.platform, billing.channel_id) == ("slack", "C0BILLING")
            [card] = server.slack.posted("C0BILLING")
            assert "charged twice" in str(card["blocks"])
            assert "Liz Moreau" in str(card["blocks"]) and ta.LIZ not in str(card["blocks"])
            # The notice goes back to the Teams thread of the flagged message.
            [notice] = connector.replies(ta.CUSTOMERS, message)
            assert "Billing" in card_text(notice) and "<at>Liz Moreau</at>" in card_text(notice)

            reply = sr.event_message(
                "T0001",
                "C0BILLING",
                "U0BOB",
                "Refund issued, sorry about that.",
                server.slack.next_ts(),
                thread_ts=card["ts"],
            )
            assert (await server.send(reply)).status == 200
            await server.settle()
            [interp] = server.query(select(Interpretation))
            assert (interp.flag_id, interp.author_id, interp.platform) == (
                flag.id,
                "U0BOB",
                "slack",
            )
            mirror = connector.replies(ta.CUSTOMERS, message)[-1]
            assert "Refund issued" in mirror.text and "Bob Stone" in mirror.text
            assert "U0BOB" not in mirror.text and "<at>" not in mirror.text


async def test_card_buttons_act_and_update_the_card_in_place(db_url: str) -> None:
    clock = FakeClock(START)
    async with BotConnector() as connector:
        seed(connector)
        async with teams_server(db_url, connector, clock=clock) as server:
            await install(server, connector)
            slack_names(server)
            message = ta.message_id()
            submit = ta.flag_action(
                connector.service_url,
                "composeExtension/submitAction",
                ta.CUSTOMERS,
                message,
                "Please add an export to the dashboard",
                user=ta.LIZ,
                author=ta.PIA,
                data={"teams": "product"},
            )
            await server.send_activity(submit)
            await server.settle()
            [card] = connector.threads(ta.PRODUCT)
            [b] = server.query(select(Broadcast))
            url = connector.service_url

            # Someone outside Product is told so, alone; nothing changes.
            press = ta.card_invoke(url, ta.PRODUCT, card.id, "ct_ack", str(b.id), user=ta.EVE)
            status, answer = await server.send_activity(press)
            assert status == 200 and "Only members of Product" in answer["value"]
            await server.settle()
            assert not connector.updates()

            press = ta.card_invoke(url, ta.PRODUCT, card.id, "ct_ack", str(b.id), user=ta.PAM)
            status, answer = await server.send_activity(press)
            assert (status, answer["statusCode"]) == (200, 200)
            await server.settle()
            [put] = connector.updates()
            assert put.path.endswith(f"/activities/{card.id}")
            assert "Acknowledged by" in card_text(card)
            [b] = server.query(select(Broadcast))
            assert b.acknowledged_by == ta.PAM

            clock.advance(timedelta(minutes=1))  # each person acts a little later
            # "Add interpretation" opens a dialog; an empty answer comes back with the error.
            data = {"ct": "ct_interpret", "value": str(b.id)}
            fetch = ta.task_invoke(url, ta.PRODUCT, card.id, "task/fetch", data, user=ta.PIA)
            status, answer = await server.send_activity(fetch)
            assert answer["task"]["type"] == "continue"
            form = answer["task"]["value"]["card"]["content"]
            assert any(i.get("id") == "interpretation" for i in form["body"])
            empty = ta.task_invoke(
                url,
                ta.PRODUCT,
                card.id,
                "task/submit",
                {**data, "interpretation": " "},
                user=ta.PIA,
            )
            status, answer = await server.send_activity(empty)
            assert answer["task"]["type"] == "continue"
            given = {**data, "interpretation": "On the roadmap for Q3", "impact": "high"}
            done = ta.task_invoke(url, ta.PRODUCT, card.id, "task/submit", given, user=ta.PIA)
            status, answer = await server.send_activity(done)
            assert answer["task"]["type"] == "message"
            await server.settle()
            [interp] = server.query(select(Interpretation))
            assert (interp.source, interp.impact, interp.author_id) == ("form", "high", ta.PIA)

            clock.advance(timedelta(minutes=1))
            press = ta.card_invoke(url, ta.PRODUCT, card.id, "ct_resolve", str(b.id), user=ta.LIZ)
            await server.send_activity(press)
            await server.settle()
            [flag] = server.query(select(Flag))
            assert flag.status == "resolved"
            assert "resolved" in card.card["body"][0]["text"]
            assert "actions" in card.card  # "Add interpretation" stays on a resolved card
