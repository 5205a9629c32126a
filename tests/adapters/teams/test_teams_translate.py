"""Pure translation and rendering, on activities shaped as the msteams docs show them."""

from __future__ import annotations

from bot.adapters.teams import render, translate
from bot.adapters.teams.gateway import is_channel
from bot.core.cards import Button, Card, Link
from bot.core.events import CardAction, Command, FlagRequest, RatingGiven
from bot.core.refs import Platform, UserRef
from bot.demo.standins import teams_activities as ta

URL = "https://smba.trafficmanager.net/emea/"
T = Platform.TEAMS


def test_conversation_ids_and_places() -> None:
    assert translate.split_conversation(f"{ta.PRODUCT};messageid=17") == (ta.PRODUCT, "17")
    assert translate.split_conversation(ta.PRODUCT) == (ta.PRODUCT, None)
    reply = ta.channel_message(URL, ta.PRODUCT, "hi", user=ta.PAM, root="17")
    where = translate.place(reply)
    assert (where.channel_id, where.thread_id, where.team_id) == (ta.PRODUCT, "17", ta.TEAM_ID)
    assert translate.tenant_of(reply) == ta.TENANT
    assert is_channel(ta.PRODUCT) and not is_channel("a:1xyz")


def test_replies_edits_and_deletions_become_messages() -> None:
    reply = ta.channel_message(URL, ta.PRODUCT, "We will fix it &amp; ship", user=ta.PAM, root="17")
    event = translate.message_event(reply)
    assert event is not None
    assert (event.message.channel.id, event.message.id, event.message.thread_id) == (
        ta.PRODUCT,
        reply["id"],
        "17",
    )
    assert event.author == UserRef(T, ta.PAM)  # the Entra object id, as the config lists
    assert event.text == "We will fix it & ship" and event.change == "new"
    top = ta.channel_message(URL, ta.PRODUCT, "A new post", user=ta.PAM)
    assert translate.message_event(top) is None
    edit = {**reply, "type": "messageUpdate", "channelData": {"eventType": "editMessage"}}
    edited = translate.message_event(edit)
    assert edited is not None and edited.change == "edited"
    gone = {**reply, "type": "messageDelete", "channelData": {"eventType": "softDeleteMessage"}}
    deleted = translate.message_event(gone)
    assert deleted is not None and deleted.change == "deleted"
    # An edit of the same message is a new event each time; a redelivery is not.
    later = {**edit, "timestamp": "2026-11-22T10:00:00.000Z"}
    assert len({translate.dedupe_key(a) for a in (reply, edit, later, dict(edit))}) == 3
    # Teams message ids are timestamps: the same id in two channels is two activities.
    other = {**reply, "conversation": {**reply["conversation"], "id": f"{ta.ENGINEERING};x"}}
    assert translate.dedupe_key(other) != translate.dedupe_key(reply)


def test_mentions_flag_the_root_or_are_commands() -> None:
    reply = ta.channel_message(URL, ta.CUSTOMERS, "flag", user=ta.LIZ, root="42", mention_bot=True)
    assert translate.bot_mentioned(reply)
    event = translate.mention_event(reply)
    assert isinstance(event, FlagRequest)
    assert (event.message.id, event.message.channel.id, event.via) == (
        "42",
        ta.CUSTOMERS,
        "mention",
    )
    roi = ta.channel_message(
        URL, ta.CUSTOMERS, "roi 2026-Q3 Billing", user=ta.MGR, mention_bot=True
    )
    command = translate.mention_event(roi)
    assert isinstance(command, Command)
    assert (command.name, command.args) == ("roi", ("2026-q3", "billing"))
    top = ta.channel_message(URL, ta.CUSTOMERS, "flag", user=ta.LIZ, mention_bot=True)
    assert isinstance(translate.mention_event(top), Command)
    assert not translate.bot_mentioned(ta.channel_message(URL, ta.CUSTOMERS, "hi", user=ta.LIZ))


def test_the_message_action_carries_the_message() -> None:
    submit = ta.flag_action(
        URL,
        "composeExtension/submitAction",
        ta.CUSTOMERS,
        "1611060744833",
        "Refund <b>now</b> &amp; quickly",
        user=ta.LIZ,
        author=ta.PIA,
        data={"teams": "billing,product", "customer": " Globex ", "note": ""},
    )
    event = translate.flag_submission(submit)
    assert event is not None
    assert (event.message.id, event.via, event.text) == (
        "1611060744833",
        "action",
        "Refund now & quickly",
    )
    assert (
        event.teams == ("billing", "product") and event.customer == "Globex" and event.note is None
    )
    assert event.author == UserRef(T, ta.PIA) and event.flagger == UserRef(T, ta.LIZ)
    unrouted = {**submit, "value": {**submit["value"], "data": {}}}
    flagged = translate.flag_submission(unrouted)
    assert flagged is not None and flagged.teams is None  # no choice: the rules route it


def test_buttons_and_ratings() -> None:
    press = ta.card_invoke(URL, ta.PRODUCT, "17", "ct_ack", "5", user=ta.PAM)
    assert isinstance(translate.card_action(press), CardAction)
    rate = ta.card_invoke(URL, ta.CUSTOMERS, "18", "ct_rate_4", "9", user=ta.LIZ)
    rating = translate.rating(rate)
    assert isinstance(rating, RatingGiven) and (rating.flag_id, rating.score) == (9, 4)
    assert (
        translate.card_action(ta.card_invoke(URL, ta.PRODUCT, "17", "ct_nope", "5", user=ta.PAM))
        is None
    )


def test_cards_render_with_real_mentions_for_teams_people_only() -> None:
    card = Card(
        title="📣 Customer conversation for Product",
        summary="Flagged for Product",
        quote="The export is broken",
        facts=(
            ("Flagged by", (UserRef(T, ta.LIZ),)),
            ("Seen by", (UserRef(Platform.SLACK, "U0ANN"),)),
            ("Original", (Link("https://x.example/1", "open [it]"),)),
        ),
        buttons=(
            Button("Acknowledge", "ct_ack", "5"),
            Button("Add interpretation", "ct_interpret", "5", "primary"),
        ),
    )
    names = {ta.LIZ: "Liz Moreau"}
    content = render.adaptive_card(card, names, marker="ct-12")
    assert content["version"] == "1.4" and content["body"][0]["id"] == "ct-12"
    facts = {f["title"]: f["value"] for f in content["body"][2]["facts"]}
    assert facts["Flagged by"] == "<at>Liz Moreau</at>"
    assert facts["Seen by"] == "someone"  # never a mention Teams cannot resolve
    assert facts["Original"] == "[open (it)](https://x.example/1)"
    assert content["msteams"]["entities"] == [
        {
            "type": "mention",
            "text": "<at>Liz Moreau</at>",
            "mentioned": {"id": ta.LIZ, "name": "Liz Moreau"},
        }
    ]
    ack, interpret = content["actions"]
    assert ack == {
        "type": "Action.Execute",
        "title": "Acknowledge",
        "verb": "ct_ack",
        "data": {"ct": "ct_ack", "value": "5"},
    }
    assert interpret["type"] == "Action.Submit" and interpret["data"]["msteams"] == {
        "type": "task/fetch"
    }
    assert interpret["style"] == "positive"
    text = render.message_activity(("Thanks ", UserRef(T, ta.PAM), "!"), {ta.PAM: "Pam"})
    assert (
        text["text"] == "Thanks <at>Pam</at>!" and text["entities"][0]["mentioned"]["id"] == ta.PAM
    )
