"""Listening in the demo (SPEC "Listening"): Crosstalk watches #customer-feedback and the
Slack Connect channel, scores what customers say there, and suggests the messages worth
flagging in #listening-triage; on the Friday before the story, a listener flags one
suggestion with its **Flag** button, says **Not a flag** to another, and leaves the rest.

Customers' messages go to the server as the message events Slack sends; the buttons as
signed block actions on the suggestion cards the server posted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.demo.demo_org import TRIAGE
from bot.demo.standins import slack_requests as sr
from bot.demo.story import CUSTOMERS, FEEDBACK, GLOBEX, WORKSPACE, Story

SAID = (
    (GLOBEX, "W0DANA", "The invoice you sent us is wrong again and nobody answers our "
     "emails. This is unacceptable!"),
    (FEEDBACK, "U0LENA", "The export keeps failing and we lose hours every week, really "
     "frustrating. Is anyone looking at this bug?"),
    (FEEDBACK, "U0OMAR", "We were charged twice again this month, please refund the "
     "duplicate invoice. Very disappointing."),
    (FEEDBACK, "U0PRIYA", "Thanks for the quick fix yesterday, all good on our side now."),
)  # fmt: skip


def _cards(story: Story) -> list[dict[str, Any]]:
    """Suggestion cards in the triage channel still carrying their buttons."""
    out = []
    for message in story.slack.posted(TRIAGE):
        for block in message.get("blocks", []):
            if block.get("type") == "actions" and any(
                e.get("action_id") == "ct_sg_flag" for e in block.get("elements", [])
            ):
                out.append(message)
    return out


async def _press(story: Story, user: str, card: dict[str, Any], action_id: str) -> None:
    (value,) = [
        e["value"]
        for b in card["blocks"]
        if b.get("type") == "actions"
        for e in b["elements"]
        if e.get("action_id") == action_id
    ]
    story.presses += 1
    await story._send(
        sr.block_action(
            WORKSPACE,
            user,
            TRIAGE,
            card["ts"],
            action_id,
            value,
            sr.new_trigger_id(),
            story.slack.response_url(f"suggestion-{story.presses}"),
            story._ts(),
            message={k: v for k, v in card.items() if k != "channel"},
            channel_name="listening-triage",
        )
    )


async def play(story: Story, *, flagger: str, dismisser: str) -> int:
    """The customers speak, the server suggests; one suggestion is flagged and one said
    not to be a flag. How many suggestions the server made."""
    for channel, user, text in SAID:
        ts = story.customer_says(channel, user, text)
        workspace = CUSTOMERS[user][1]
        await story._send(
            sr.event_message(
                WORKSPACE,
                channel,
                user,
                text,
                ts,
                user_team=workspace if workspace != WORKSPACE else None,
                is_ext_shared_channel=channel == GLOBEX,
            )
        )
        story.clock.advance(timedelta(minutes=7))
    cards = _cards(story)
    if cards:
        await _press(story, flagger, cards[0], "ct_sg_flag")
    if len(cards) > 1:
        await _press(story, dismisser, cards[1], "ct_sg_dismiss")
    return len(cards)
