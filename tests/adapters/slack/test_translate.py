"""Slack payloads -> neutral events, on recorded payload shapes (the signed-request builders
follow Slack's documented samples; the hand-written ones are copied from Slack's docs)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.adapters.slack import translate
from bot.core.clock import from_epoch
from bot.core.events import (
    CardAction,
    Command,
    FlagRequest,
    IncomingMessage,
    InterpretationForm,
    Reaction,
)
from bot.core.refs import ChannelRef, MessageRef, Platform, UserRef, WorkspaceRef
from bot.demo.standins import slack_requests as sr

S = Platform.SLACK
WS = WorkspaceRef(S, "T0001")
BILLING = ChannelRef(S, "C0BILLING")
CUSTOMERS = ChannelRef(S, "C0CUSTOMERS")
ROOT = "1795194000.000100"
REPLY = "1795194900.000200"
NOW = from_epoch(1795199999)


def ann(is_bot: bool = False) -> UserRef:
    return UserRef(S, "U0ANN", is_bot=is_bot)


# ---------------------------------------------------------------------------- messages


def test_a_thread_reply_is_a_new_message() -> None:
    body = sr.event_message("T0001", "C0BILLING", "U0ANN", "We refund it.", REPLY, ROOT).payload()
    assert translate.message_event(body) == IncomingMessage(
        workspace=WS,
        message=MessageRef(BILLING, REPLY, ROOT),
        author=ann(),
        text="We refund it.",
        at=from_epoch(REPLY),
        change="new",
    )


def test_a_reply_also_sent_to_the_channel_counts_as_a_reply() -> None:
    body = sr.event_message(
        "T0001", "C0BILLING", "U0ANN", "Heads up", REPLY, ROOT, subtype="thread_broadcast"
    ).payload()
    event = translate.message_event(body)
    assert event is not None and (event.message.id, event.change) == (REPLY, "new")


@pytest.mark.parametrize(
    ("thread_ts", "subtype"),
    [
        (None, None),  # a top-level post
        (REPLY, None),  # a thread's parent, shown with its own ts as thread_ts
        (ROOT, "channel_join"),
        (ROOT, "channel_topic"),
        (ROOT, "pinned_item"),
    ],
    ids=["top-level", "thread-parent", "channel_join", "channel_topic", "pinned_item"],
)
def test_messages_that_are_not_replies_are_ignored(
    thread_ts: str | None, subtype: str | None
) -> None:
    body = sr.event_message(
        "T0001",
        "C0BILLING",
        "U0ANN",
        "<@U0ANN> has joined the channel",
        REPLY,
        thread_ts,
        subtype=subtype,
    ).payload()
    if thread_ts == REPLY:
        body["event"]["thread_ts"] = REPLY
    assert translate.message_event(body) is None


def test_bot_messages_are_marked_as_bots() -> None:
    other_app = sr.event_message(
        "T0001", "C0BILLING", "U0XBOT", "Ticket created", REPLY, ROOT, "B0X"
    ).payload()
    assert "subtype" not in other_app["event"]  # another app's bot: no subtype, a bot_id
    event = translate.message_event(other_app)
    assert event is not None and event.author == UserRef(S, "U0XBOT", is_bot=True)

    # The legacy shape from the docs: subtype bot_message, a bot_id and no user.
    legacy = {
        "team_id": "T0001",
        "event_id": "Ev0LEGACY",
        "event": {
            "type": "message",
            "subtype": "bot_message",
            "ts": REPLY,
            "thread_ts": ROOT,
            "text": "Pushing is the answer",
            "bot_id": "BB12033",
            "username": "github",
            "channel": "C0BILLING",
            "event_ts": REPLY,
        },
    }
    event = translate.message_event(legacy)
    assert event is not None and event.author == UserRef(S, "BB12033", is_bot=True)


def test_an_edit_of_a_reply() -> None:
    body = sr.event_message_changed(
        "T0001",
        "C0BILLING",
        "U0ANN",
        REPLY,
        "Refund sent",
        "Refnud sent",
        ROOT,
        "1795195000.000300",
    ).payload()
    assert translate.message_event(body) == IncomingMessage(
        workspace=WS,
        message=MessageRef(BILLING, REPLY, ROOT),
        author=ann(),
        text="Refund sent",
        at=from_epoch("1795195000.000300"),
        change="edited",
    )
    top_level = sr.event_message_changed(
        "T0001", "C0BILLING", "U0ANN", REPLY, "b", "a", None, "1795195000.000300"
    ).payload()
    assert translate.message_event(top_level) is None


def test_a_deletion_of_a_reply() -> None:
    body = sr.event_message_deleted(
        "T0001", "C0BILLING", "U0ANN", REPLY, "Refund sent", ROOT, "1795195100.000400"
    ).payload()
    assert translate.message_event(body) == IncomingMessage(
        workspace=WS,
        message=MessageRef(BILLING, REPLY, ROOT),
        author=ann(),
        text="Refund sent",
        at=from_epoch("1795195100.000400"),
        change="deleted",
    )


def test_message_text_becomes_plain_text() -> None:
    raw = (
        "R&amp;D says &lt;3 &gt; <@U0PAM> see <https://x.io/a?b=1&amp;c=2|the docs>, "
        "<https://x.io/b>, <#C0ENG|eng-triage>, <!here>, <!subteam^S0LEGAL|@legal>, "
        "<mailto:jane@example.com|jane@example.com>"
    )
    body = sr.event_message("T0001", "C0BILLING", "U0ANN", raw, REPLY, ROOT).payload()
    event = translate.message_event(body)
    assert event is not None
    assert event.text == (
        "R&D says <3 > @U0PAM see the docs (https://x.io/a?b=1&c=2), https://x.io/b, "
        "#eng-triage, @here, @legal, jane@example.com"
    )
    assert translate.plain_text("<@U0BOB|bob> and <#C0ENG>") == "@bob and #C0ENG"


# ---------------------------------------------------------------------------- reactions


def test_a_reaction_on_a_message() -> None:
    body = sr.event_reaction_added(
        "T0001", "U0ANN", ":mega:", "C0CUSTOMERS", ROOT, "U0SAM", "1795194060.000500"
    ).payload()
    assert translate.reaction_event(body) == Reaction(
        workspace=WS,
        message=MessageRef(CUSTOMERS, ROOT),
        user=ann(),
        emoji="mega",
        at=from_epoch("1795194060.000500"),
    )


def test_a_skin_tone_is_the_same_emoji() -> None:
    body = sr.event_reaction_added(
        "T0001", "U0ANN", "thumbsup::skin-tone-3", "C0CUSTOMERS", ROOT, "U0SAM", ROOT
    ).payload()
    event = translate.reaction_event(body)
    assert event is not None and event.emoji == "thumbsup"


def test_a_reaction_on_a_file_is_ignored() -> None:
    body = sr.event_reaction_added(
        "T0001", "U0ANN", "mega", "C0CUSTOMERS", ROOT, "U0SAM", ROOT
    ).payload()
    body["event"]["item"] = {"type": "file", "file": "F0CONTRACT"}
    assert translate.reaction_event(body) is None
    body["event"]["item"] = {"type": "file_comment", "file_comment": "Fc0", "file": "F0"}
    assert translate.reaction_event(body) is None


# ---------------------------------------------------------------------------- mentions


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("<@UBOT> flag", ["flag"]),
        ("<@UBOT|crosstalk>  Flag  THIS", ["flag", "this"]),
        ("hey <@UBOT> roi 30d billing", ["hey", "roi", "30d", "billing"]),
        ("<@UBOT> flag.", ["flag"]),
        ("<@UBOT> Flag!", ["flag"]),
        ("<@UBOT> roi 2026-10-01..2026-10-31.", ["roi", "2026-10-01..2026-10-31"]),
        ("<@UBOT>", []),
        ("<@UBOT> <@U0ANN>", []),
    ],
)
def test_mention_words(text: str, words: list[str]) -> None:
    assert translate.mention_words(text) == words


def test_flag_in_a_thread_flags_its_root_at_the_mention_time() -> None:
    body = sr.event_app_mention(
        "T0001", "C0CUSTOMERS", "U0ANN", "<@UBOT> flag please", REPLY, ROOT
    ).payload()
    assert translate.mention_event(body) == FlagRequest(
        workspace=WS,
        message=MessageRef(CUSTOMERS, ROOT),
        flagger=ann(),
        at=from_epoch(REPLY),
        via="mention",
    )


def test_flag_outside_a_thread_asks_for_the_hint() -> None:
    body = sr.event_app_mention("T0001", "C0CUSTOMERS", "U0ANN", "<@UBOT> flag", ROOT).payload()
    assert translate.mention_event(body) == Command(
        workspace=WS, user=ann(), channel=CUSTOMERS, name="flag-help"
    )


def test_other_mentions_are_commands() -> None:
    body = sr.event_app_mention(
        "T0001", "C0CUSTOMERS", "U0ANN", "<@UBOT> ROI 30d Billing", REPLY, ROOT
    ).payload()
    assert translate.mention_event(body) == Command(
        workspace=WS, user=ann(), channel=CUSTOMERS, name="roi", args=("30d", "billing")
    )
    empty = sr.event_app_mention("T0001", "C0CUSTOMERS", "U0ANN", "<@UBOT>", ROOT).payload()
    assert translate.mention_event(empty) is None


# ---------------------------------------------------------------------------- forms


def shortcut(thread_ts: str | None = None, bot_id: str | None = None) -> dict[str, Any]:
    return sr.message_shortcut(
        "T0001",
        "U0ANN",
        "C0CUSTOMERS",
        REPLY,
        "refund please",
        "U0SAM",
        "flag_for_stakeholders",
        sr.new_trigger_id(),
        "https://hooks.slack.com/x",
        "1795195555.000600",
        thread_ts,
        message_bot_id=bot_id,
    ).payload()


def submitted(meta: dict[str, Any], values: dict[str, Any], user: str = "U0ANN") -> Any:
    return sr.view_submission("T0001", user, "ct_flag_form", json.dumps(meta), values).payload()


TEAMS_CHOSEN = {
    "teams": {
        "teams": {
            "type": "multi_static_select",
            "selected_options": [
                {"text": {"type": "plain_text", "text": "Legal"}, "value": "legal"},
                {"text": {"type": "plain_text", "text": "Billing"}, "value": "billing"},
            ],
        }
    }
}


def test_the_shortcut_remembers_the_message_and_the_action_time() -> None:
    assert translate.shortcut_target(shortcut()) == {
        "channel": "C0CUSTOMERS",
        "ts": REPLY,
        "thread_ts": None,
        "author": "U0SAM",
        "author_is_bot": False,
        "action_ts": "1795195555.000600",
    }
    in_thread = translate.shortcut_target(shortcut(thread_ts=ROOT, bot_id="B0X"))
    assert (in_thread["thread_ts"], in_thread["author_is_bot"]) == (ROOT, True)


def test_flag_form_with_teams_customer_and_note() -> None:
    meta = translate.shortcut_target(shortcut(thread_ts=ROOT))
    values = {
        **TEAMS_CHOSEN,
        "customer": {"customer": {"type": "plain_text_input", "value": "  Globex  "}},
        "note": {"note": {"type": "plain_text_input", "value": "Urgent"}},
    }
    assert translate.flag_form(submitted(meta, values), NOW) == FlagRequest(
        workspace=WS,
        message=MessageRef(CUSTOMERS, REPLY, ROOT),  # the message itself, in its thread
        flagger=ann(),
        at=from_epoch("1795195555.000600"),
        via="shortcut",
        author=UserRef(S, "U0SAM"),
        teams=("legal", "billing"),
        customer="Globex",
        note="Urgent",
    )


def test_flag_form_with_blank_fields_and_no_action_time() -> None:
    meta = {**translate.shortcut_target(shortcut()), "action_ts": None}
    values = {
        **TEAMS_CHOSEN,
        "customer": {"customer": {"type": "plain_text_input", "value": "   "}},
        "note": {"note": {"type": "plain_text_input", "value": None}},
    }
    event = translate.flag_form(submitted(meta, values), NOW)
    assert (event.customer, event.note, event.at) == (None, None, NOW)
    assert event.message == MessageRef(CUSTOMERS, REPLY)


def interpret_values(**fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "interpretation": {"interpretation": {"type": "plain_text_input", "value": "Known bug"}},
        "impact": {"impact": {"type": "static_select", "selected_option": None}},
        "action": {"action": {"type": "plain_text_input", "value": None}},
        "owner": {"owner": {"type": "users_select", "selected_user": None}},
    }
    for key, value in fields.items():
        values[key] = {key: value}
    return values


def test_interpret_form_extraction() -> None:
    values = interpret_values(
        impact={
            "type": "static_select",
            "selected_option": {"text": {"type": "plain_text", "text": "High"}, "value": "high"},
        },
        action={"type": "plain_text_input", "value": " Refund and fix "},
        owner={"type": "users_select", "selected_user": "U0BOB"},
    )
    body = sr.view_submission(
        "T0001", "U0BEA", "ct_interpret_form", '{"broadcast_id": 7}', values
    ).payload()
    assert translate.interpret_form(body, NOW) == InterpretationForm(
        workspace=WS,
        user=UserRef(S, "U0BEA"),
        broadcast_id=7,
        text="Known bug",
        impact="high",
        action="Refund and fix",
        owner=UserRef(S, "U0BOB"),
        at=NOW,
    )
    bare = sr.view_submission(
        "T0001", "U0BEA", "ct_interpret_form", '{"broadcast_id": 7}', interpret_values()
    ).payload()
    event = translate.interpret_form(bare, NOW)
    assert (event.text, event.impact, event.action, event.owner) == ("Known bug", None, None, None)
    forged = interpret_values(
        impact={"type": "static_select", "selected_option": {"value": "catastrophic"}}
    )
    body = sr.view_submission(
        "T0001", "U0BEA", "ct_interpret_form", '{"broadcast_id": 7}', forged
    ).payload()
    assert translate.interpret_form(body, NOW).impact is None


# ---------------------------------------------------------------------------- buttons


def button(action_id: str, value: str) -> dict[str, Any]:
    return sr.block_action(
        "T0001",
        "U0BOB",
        "C0BILLING",
        ROOT,
        action_id,
        value,
        sr.new_trigger_id(),
        "https://hooks.slack.com/actions/x",
        "1795194300.000700",
    ).payload()


@pytest.mark.parametrize(
    ("action_id", "kind"),
    [("ct_ack", "acknowledge"), ("ct_not_for_us", "not_for_us"), ("ct_resolve", "resolve")],
)
def test_card_buttons(action_id: str, kind: str) -> None:
    assert translate.card_action(button(action_id, "42")) == CardAction(
        workspace=WS,
        user=UserRef(S, "U0BOB"),
        broadcast_id=42,
        action=kind,  # type: ignore[arg-type]
        at=from_epoch("1795194300.000700"),
    )


@pytest.mark.parametrize(
    ("action_id", "value"),
    [("ct_interpret", "42"), ("ct_ack", "42; drop table"), ("ct_ack", ""), ("other", "1")],
)
def test_other_buttons_are_not_card_actions(action_id: str, value: str) -> None:
    assert translate.card_action(button(action_id, value)) is None


def test_workspace_of_every_kind_of_request() -> None:
    event = sr.event_reaction_added("T0001", "U0ANN", "mega", "C0X", ROOT, "U0SAM", ROOT)
    command = sr.slash_command(
        "T0002", "U0ANN", "C0X", "/roi", "", "https://hooks.slack.com/c", "1.2.3"
    )
    assert translate.workspace_id(event.payload()) == "T0001"
    assert translate.workspace_id(command.payload()) == "T0002"
    assert translate.workspace_id(button("ct_ack", "1")) == "T0001"
    assert translate.workspace_id({"user": {"id": "U0ANN", "team_id": "T0003"}}) == "T0003"
    assert translate.workspace_id({"type": "url_verification"}) is None
