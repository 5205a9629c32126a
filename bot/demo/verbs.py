"""More of the demo's verbs (see bot.demo.story): the flagger rating the interpretations on
the notice, a team member recording a business outcome with its CRM ref through the
"Record outcome" form, and the Microsoft Teams side (installing the app, a Teams listener
flagging a customer message with the message action, a Teams member answering in the
card's thread). Each goes to the real server as the platform would send it."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from bot.adapters.slack.forms import OUTCOME_FORM
from bot.demo.standins import slack_requests as sr
from bot.demo.standins import teams_activities as ta
from bot.demo.standins.bot_connector import BotConnector
from bot.demo.story import WORKSPACE, Story, _option
from store.models import Broadcast, ConversationRef, Flag

TEAMS_CHANNELS = {
    ta.TEAM_ID: None,
    ta.ENGINEERING: "Engineering",
    ta.CUSTOMERS: "Customer voice",
}


def flag_of(story: Story, origin: tuple[str, str]) -> Flag:
    found: list[Flag] = story.server.query(
        select(Flag).where(Flag.channel_id == origin[0], Flag.message_id == origin[1])
    )
    return found[0]


def _notice(story: Story, flag_id: int) -> dict[str, Any]:
    """The notice with the rating buttons (in the origin thread, or the flagger's DM)."""
    for message in reversed(story.slack.posted()):
        for block in message.get("blocks", []):
            elements = block.get("elements", []) if block.get("type") == "actions" else []
            if any(
                e.get("action_id") == "ct_rate_1" and e.get("value") == str(flag_id)
                for e in elements
            ):
                return message
    raise RuntimeError(f"no notice with rating buttons for flag {flag_id}")


async def rate(story: Story, user: str, origin: tuple[str, str], score: int) -> None:
    flag = flag_of(story, origin)
    assert flag.id is not None
    notice = _notice(story, flag.id)
    story.presses += 1
    hook = f"rate-{story.presses}"
    await story._send(
        sr.block_action(
            WORKSPACE,
            user,
            notice["channel"],
            notice["ts"],
            f"ct_rate_{score}",
            str(flag.id),
            sr.new_trigger_id(),
            story.slack.response_url(hook),
            story._ts(),
            thread_ts=notice.get("thread_ts"),
            message={k: v for k, v in notice.items() if k != "channel"},
        )
    )
    if story.slack.responses[hook]:
        said = story.slack.responses[hook][0].get("text")
        raise RuntimeError(f"the rating by {user} was refused: {said}")


async def record_outcome(
    story: Story,
    user: str,
    origin: tuple[str, str],
    team: str,
    *,
    kind: str,
    amount: float,
    crm_ref: str,
    note: str,
) -> None:
    """ "Record outcome" on `team`'s card, and the form filled in and sent."""
    await story.press(user, origin, team, "ct_outcome")
    view = story._last_view(OUTCOME_FORM)

    def text(value: str) -> dict[str, Any]:
        return {"type": "plain_text_input", "value": value}

    values = {
        "kind": {"kind": {"type": "static_select", "selected_option": _option(kind)}},
        "amount": {"amount": text(f"{amount:g}")},
        "currency": {"currency": text("USD")},
        "crm_ref": {"crm_ref": text(crm_ref)},
        "note": {"note": text(note)},
    }
    await story._send(
        sr.view_submission(
            WORKSPACE, user, OUTCOME_FORM, view["private_metadata"], values, view["id"]
        )
    )


class TeamsSide:
    """Acme's Microsoft Teams team, on the Bot Connector stand-in."""

    def __init__(self, story: Story, connector: BotConnector) -> None:
        self.story = story
        self.connector = connector

    @staticmethod
    def seed(connector: BotConnector) -> None:
        connector.add_team(ta.TEAM_ID, ta.GROUP_ID, dict(TEAMS_CHANNELS))
        for aad, name in ta.TEAMS_PEOPLE.items():
            connector.add_member(aad, name)

    async def _send(self, activity: dict[str, Any]) -> Any:
        status, answer = await self.story.server.send_activity(activity)
        if status >= 300:
            raise RuntimeError(f"the server answered {status} to a Teams activity")
        await self.story.server.settle()
        return answer

    async def install(self) -> None:
        await self._send(ta.bot_added(self.connector.service_url))
        if not self.story.server.query(select(ConversationRef)):
            raise RuntimeError("installing the Teams app stored no conversation reference")

    async def flag(self, user: str, author: str, text: str, teams: tuple[str, ...]) -> str:
        """`user` flags a customer's message in the Teams customer channel; its id."""
        message = self.connector.add_message(ta.CUSTOMERS, text, author=author)
        await self._send(
            ta.flag_action(
                self.connector.service_url,
                "composeExtension/submitAction",
                ta.CUSTOMERS,
                message,
                text,
                user=user,
                author=author,
                data={"teams": ",".join(teams)},
            )
        )
        return message

    async def reply(self, user: str, message: str, team: str, text: str) -> None:
        """`user` answers in `team`'s Teams card thread for the flagged `message`."""
        (b,) = self.story.server.query(
            select(Broadcast)
            .join(Flag, col(Flag.id) == col(Broadcast.flag_id))
            .where(
                Flag.message_id == message,
                Broadcast.team_id == self.story.team_ids[team],
            )
        )
        if not b.message_id:
            raise RuntimeError(f"{team}'s Teams card for {message} was not posted")
        await self._send(
            ta.channel_message(
                self.connector.service_url, b.channel_id, text, user=user, root=b.message_id
            )
        )
