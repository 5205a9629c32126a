"""Neutral cards -> Block Kit within Slack's limits (50 blocks, 3,000 characters a section,
2,000 a field, 10 fields a section), with customer text escaped and never read as markup."""

from __future__ import annotations

import re
from typing import Any

from bot.adapters.slack.render import blocks, escape, message_args, mrkdwn, quote
from bot.core.cards import Button, Card, Link
from bot.core.refs import Platform, UserRef

ANN = UserRef(Platform.SLACK, "U0ANN")


def texts(rendered: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for block in rendered:
        if block.get("text", {}).get("type") == "mrkdwn":
            out.append(block["text"]["text"])
        out += [f["text"] for f in block.get("fields", [])]
        out += [e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return out


def full_card(**overrides: Any) -> Card:
    values: dict[str, Any] = {
        "title": "📣 Customer conversation for Billing",
        "summary": "Flagged for Billing: refund please",
        "quote": "refund please",
        "facts": (
            ("Sentiment", ("🔴 negative -0.60",)),
            ("Flagged by", (ANN,)),
            ("Original", (Link("https://acme.slack.com/archives/C0X/p1", "open"),)),
        ),
        "notes": (("Reply in this thread.",),),
        "buttons": (
            Button("Acknowledge", "ct_ack", "7"),
            Button("Add interpretation", "ct_interpret", "7", "primary"),
            Button("Not for us", "ct_not_for_us", "7", "danger"),
        ),
    }
    values.update(overrides)
    return Card(**values)


def test_a_card_renders_in_order_header_quote_facts_notes_buttons() -> None:
    assert blocks(full_card()) == [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": "📣 Customer conversation for Billing",
                "emoji": True,
            },
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": "> refund please"}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": "*Sentiment*\n🔴 negative -0.60"},
                {"type": "mrkdwn", "text": "*Flagged by*\n<@U0ANN>"},
                {
                    "type": "mrkdwn",
                    "text": "*Original*\n<https://acme.slack.com/archives/C0X/p1|open>",
                },
            ],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Reply in this thread."}]},
        {
            "type": "actions",
            "block_id": "ct_card_actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "ct_ack",
                    "value": "7",
                    "text": {"type": "plain_text", "text": "Acknowledge"},
                },
                {
                    "type": "button",
                    "action_id": "ct_interpret",
                    "value": "7",
                    "text": {"type": "plain_text", "text": "Add interpretation"},
                    "style": "primary",
                },
                {
                    "type": "button",
                    "action_id": "ct_not_for_us",
                    "value": "7",
                    "text": {"type": "plain_text", "text": "Not for us"},
                    "style": "danger",
                },
            ],
        },
    ]


def test_customer_text_is_escaped_everywhere_it_is_mrkdwn() -> None:
    card = full_card(
        summary="Flagged: <!channel> R&D",
        quote="Is 2 < 3 & 5 > 4? <@U0MGR> <!channel>",
        facts=(("Q&A <x>", ("a<b>&c", Link("https://x.io/?a=1&b=2", "R&D <docs>"))),),
        notes=(("Tom & Jerry <3",),),
    )
    rendered = blocks(card)
    assert texts(rendered) == [
        "> Is 2 &lt; 3 &amp; 5 &gt; 4? &lt;@U0MGR&gt; &lt;!channel&gt;",
        "*Q&amp;A &lt;x&gt;*\na&lt;b&gt;&amp;c<https://x.io/?a=1&b=2|R&amp;D &lt;docs&gt;>",
        "Tom &amp; Jerry &lt;3",
    ]
    # The header is plain_text: Slack shows it as written, so it is not escaped.
    assert rendered[0]["text"]["text"] == "📣 Customer conversation for Billing"
    # The notification text is mrkdwn too: a customer's "<!channel>" must not ping anyone.
    assert message_args(card)["text"] == "Flagged: &lt;!channel&gt; R&amp;D"
    assert escape("&lt;") == "&amp;lt;"  # text is escaped once, from plain text


def test_a_10000_character_excerpt_fits_one_section() -> None:
    excerpt = ("The export breaks & I was charged <twice>. " * 250)[:10_000]
    rendered = blocks(full_card(quote=excerpt))
    section = rendered[1]["text"]["text"]
    assert len(excerpt) == 10_000
    assert len(section) == 3000
    assert section.startswith("> The export breaks &amp; I was charged &lt;twice&gt;. ")
    assert section.endswith("…")
    # Cut where it may be, it never leaves half an escape behind.
    assert re.search(r"&[a-z]*$", section[:-1]) is None
    ampersands = blocks(full_card(quote="&" * 10_000))[1]["text"]["text"]
    assert len(ampersands) <= 3000
    assert ampersands == "> " + "&amp;" * 599 + "…"
    for text in texts(rendered):
        assert len(text) <= 3000


def test_a_multi_line_excerpt_is_quoted_line_by_line() -> None:
    assert quote("first\nsecond\n\nfourth") == "> first\n> second\n> \n> fourth"
    assert quote("") == "> "


def test_many_facts_and_notes_stay_within_slack_limits() -> None:
    facts = tuple((f"Fact {i}", ("x" * 2500,)) for i in range(25))
    notes = tuple((f"Note {i} " + "y" * 4000,) for i in range(60))
    rendered = blocks(full_card(facts=facts, notes=notes))
    assert len(rendered) == 50
    assert rendered[-1]["type"] == "actions"  # the buttons are never the part cut off
    fields = [b["fields"] for b in rendered if "fields" in b]
    assert [len(f) for f in fields] == [10, 10, 5]
    assert all(len(f["text"]) <= 2000 for group in fields for f in group)
    assert all(len(t) <= 3000 for t in texts(rendered))
    # header, quote, 3 fact sections, 43 notes, "…and N more", actions.
    assert rendered[-2] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "…and 17 more not shown here."}],
    }
    without_buttons = blocks(full_card(facts=facts, notes=notes, buttons=()))
    assert len(without_buttons) == 50
    assert without_buttons[-1]["elements"][0]["text"] == "…and 16 more not shown here."


def test_a_long_fact_never_keeps_half_a_link() -> None:
    card = full_card(facts=(("Links", ("x" * 1980, Link("https://x.io/" + "a" * 50, "doc"))),))
    (field,) = blocks(card)[2]["fields"]
    assert field["text"] == "*Links*\n" + "x" * 1980 + "…"


def test_rich_text_messages() -> None:
    text = ("💬 Billing — ", ANN, ": Refund <sent> & done")
    assert mrkdwn(text) == "💬 Billing — <@U0ANN>: Refund &lt;sent&gt; &amp; done"
    assert message_args(text) == {"text": "💬 Billing — <@U0ANN>: Refund &lt;sent&gt; &amp; done"}
    long = message_args(("a" * 50_000,))
    assert len(long["text"]) <= 40_000
    assert message_args(full_card(summary="s" * 5000))["text"] == "s" * 2999 + "…"
