"""The verbs `crosstalk demo`'s script is written in: each sends the server what Slack
would send (signed events, shortcuts, button presses, modal submissions) and lets it finish
its work -- cards, notices, mirrors -- before the story's clock moves on.

Time is the story's own: the server's FakeClock, which FakeSlack's `ts` follow, is moved
before each step, so response times read like a working day while the demo takes seconds.
Nothing here sleeps.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlmodel import col, select

from bot.adapters.slack.forms import FLAG_FORM, INTERPRET_FORM
from bot.core.clock import FakeClock
from bot.demo.standins import slack_requests as sr
from bot.demo.standins.harness import Server
from bot.demo.standins.slack_requests import SignedRequest
from store.models import Broadcast, Flag

WORKSPACE = "T0001"
FEEDBACK = "C0CUSTOMERS"  # #customer-feedback: customers' messages, inside Acme
GLOBEX = "C0SHARED"  # #ext-globex: a Slack Connect channel shared with Globex
GLOBEX_WORKSPACE = "T0GLOBEX"
SHORTCUT = "flag_for_stakeholders"

ANN, CAL, BOB, BEA = "U0ANN", "U0CAL", "U0BOB", "U0BEA"
PAM, PIA, EVE, ED, LEO = "U0PAM", "U0PIA", "U0EVE", "U0ED", "U0LEO"
JIRA_USER, JIRA_BOT = "U0JIRA", "B0JIRA"

# Customers (not Acme people): who writes in the two listening channels.
CUSTOMERS: dict[str, tuple[str, str]] = {
    "U0PRIYA": ("Priya Shah (Initech)", WORKSPACE),
    "U0LENA": ("Lena Fischer (Fischer & Co)", WORKSPACE),
    "U0MORGAN": ("Morgan Blake (Umbrella)", WORKSPACE),
    "U0TOM": ("Tom Becker (Hooli)", WORKSPACE),
    "U0NINA": ("Nina Patel (Stark Industries)", WORKSPACE),
    "U0OMAR": ("Omar Haddad (Wayne Enterprises)", WORKSPACE),
    "W0DANA": ("Dana Ruiz (Globex)", GLOBEX_WORKSPACE),
    "W0RAJ": ("Raj Iyer (Globex)", GLOBEX_WORKSPACE),
}


class Story:
    """One demo server, seen from Slack's side: its people act, and the server is given
    time to do what that implies before the next step."""

    def __init__(self, server: Server, clock: FakeClock, start: datetime) -> None:
        self.server = server
        self.slack = server.slack
        self.clock = clock
        self.start = start
        self.texts: dict[str, str] = {}  # ts -> text of the replies written so far
        self.presses = 0
        self.team_ids = server.runtime.org.ids.team_ids

    # ------------------------------------------------------------------ time

    def at(self, hhmm: str, day: int = 0) -> None:
        """Move the scenario clock forward to `hhmm` (org time) on day `day` of the story."""
        hour, minute = (int(part) for part in hhmm.split(":"))
        local = datetime.combine(
            self.start.date() + timedelta(days=day), time(hour, minute), tzinfo=self.start.tzinfo
        )
        if local < self.clock.now():
            raise ValueError(f"the story went back in time to {local:%a %H:%M}")
        self.clock.set(local)

    def _ts(self) -> str:
        return self.slack.next_ts()

    async def _send(self, request: SignedRequest) -> None:
        response = await self.server.send(request)
        if response.status != 200:
            raise RuntimeError(f"the server answered {response.status} to a Slack request")
        await self.server.settle()

    # ------------------------------------------------------------------ customers and flags

    def customer_says(self, channel: str, user: str, text: str) -> str:
        extra: dict[str, Any] = {}
        if user in CUSTOMERS and CUSTOMERS[user][1] != WORKSPACE:
            extra["user_team"] = CUSTOMERS[user][1]
        return self.slack.add_message(channel, text, user=user, **extra)

    def _author(self, channel: str, ts: str) -> str:
        message = self.slack.get_message(channel, ts)
        assert message is not None, f"no message {ts} in {channel}"
        return str(message.get("user", ""))

    async def react(self, user: str, channel: str, ts: str) -> None:
        await self._send(
            sr.event_reaction_added(
                WORKSPACE,
                user,
                "mega",
                channel,
                ts,
                self._author(channel, ts),
                self._ts(),
                is_ext_shared_channel=channel == GLOBEX,
            )
        )

    async def say_in_thread(self, user: str, channel: str, root: str, text: str) -> str:
        """A thread reply in a listening channel (not a broadcast thread)."""
        ts = self.slack.add_message(channel, text, user=user, thread_ts=root)
        await self._send(
            sr.event_message(
                WORKSPACE, channel, user, text, ts, root, is_ext_shared_channel=channel == GLOBEX
            )
        )
        return ts

    async def mention_flag(self, user: str, channel: str, root: str) -> None:
        """`@Crosstalk flag` said in the thread of the customer's message."""
        text = f"<@{self.slack.bot_user_id}> flag"
        ts = self.slack.add_message(channel, text, user=user, thread_ts=root)
        await self._send(
            sr.event_app_mention(
                WORKSPACE, channel, user, text, ts, root, is_ext_shared_channel=channel == GLOBEX
            )
        )

    async def open_flag_form(self, user: str, channel: str, ts: str) -> None:
        """The "Flag for stakeholders" message shortcut: the server opens its modal."""
        message = self.slack.get_message(channel, ts)
        assert message is not None
        await self._send(
            sr.message_shortcut(
                WORKSPACE,
                user,
                channel,
                ts,
                str(message["text"]),
                str(message.get("user", "")),
                SHORTCUT,
                sr.new_trigger_id(),
                self.slack.response_url("shortcut"),
                self._ts(),
                channel_name=str(self.slack.channels[channel]["name"]),
            )
        )

    async def submit_flag_form(
        self, user: str, *, customer: str, teams: tuple[str, ...], note: str
    ) -> None:
        view = self._last_view(FLAG_FORM)
        values = {
            "teams": {
                "teams": {
                    "type": "multi_static_select",
                    "selected_options": [_option(key) for key in teams],
                }
            },
            "customer": {"customer": {"type": "plain_text_input", "value": customer}},
            "note": {"note": {"type": "plain_text_input", "value": note}},
        }
        await self._send(
            sr.view_submission(
                WORKSPACE, user, FLAG_FORM, view["private_metadata"], values, view["id"]
            )
        )

    def _last_view(self, callback_id: str) -> dict[str, Any]:
        views = [v for v in self.slack.views.values() if v["callback_id"] == callback_id]
        if not views:
            raise RuntimeError(f"the server opened no {callback_id} modal")
        return views[-1]

    # ------------------------------------------------------------------ broadcast threads

    def card(self, channel: str, root: str, team: str) -> tuple[str, str, int]:
        """(team channel, card ts, broadcast id) of the card `team` got for a message."""
        (b,) = self.server.query(
            select(Broadcast)
            .join(Flag, col(Flag.id) == col(Broadcast.flag_id))
            .where(
                Flag.channel_id == channel,
                Flag.message_id == root,
                Broadcast.team_id == self.team_ids[team],
            )
        )
        assert b.message_id and b.id is not None, f"{team}'s card for {root} was not posted"
        return b.channel_id, b.message_id, b.id

    async def reply(self, user: str, origin: tuple[str, str], team: str, text: str) -> str:
        """A reply in `team`'s card thread: what the team says the message means."""
        channel, card_ts, _ = self.card(*origin, team)
        ts = self.slack.add_message(channel, text, user=user, thread_ts=card_ts)
        self.texts[ts] = text
        await self._send(sr.event_message(WORKSPACE, channel, user, text, ts, card_ts))
        return ts

    async def bot_reply(self, origin: tuple[str, str], team: str, text: str) -> None:
        """Another app (an issue tracker) answering in the thread: never a response."""
        channel, card_ts, _ = self.card(*origin, team)
        ts = self.slack.add_message(
            channel, text, user=JIRA_USER, thread_ts=card_ts, bot_id=JIRA_BOT
        )
        await self._send(
            sr.event_message(WORKSPACE, channel, JIRA_USER, text, ts, card_ts, bot_id=JIRA_BOT)
        )

    async def edit(self, user: str, origin: tuple[str, str], team: str, ts: str, text: str) -> None:
        channel, card_ts, _ = self.card(*origin, team)
        previous, self.texts[ts] = self.texts[ts], text
        await self._send(
            sr.event_message_changed(
                WORKSPACE, channel, user, ts, text, previous, card_ts, self._ts()
            )
        )

    async def press(self, user: str, origin: tuple[str, str], team: str, action_id: str) -> None:
        """A button on the card: ct_ack, ct_interpret, ct_not_for_us or ct_resolve."""
        channel, card_ts, broadcast_id = self.card(*origin, team)
        self.presses += 1
        hook = f"press-{self.presses}"
        await self._send(
            sr.block_action(
                WORKSPACE,
                user,
                channel,
                card_ts,
                action_id,
                str(broadcast_id),
                sr.new_trigger_id(),
                self.slack.response_url(hook),
                self._ts(),
                message=self.slack.get_message(channel, card_ts),
                channel_name=str(self.slack.channels[channel]["name"]),
            )
        )
        # The server only answers a press in words when it refuses it (or it was a no-op).
        if self.slack.responses[hook]:
            said = self.slack.responses[hook][0].get("text")
            raise RuntimeError(f"{action_id} by {user} on {team}'s card was refused: {said}")

    async def submit_interpretation(
        self, user: str, text: str, *, impact: str, action: str, owner: str
    ) -> None:
        """The "Add interpretation" modal the card's button opened, filled in and sent."""
        view = self._last_view(INTERPRET_FORM)
        values = {
            "interpretation": {"interpretation": {"type": "plain_text_input", "value": text}},
            "impact": {"impact": {"type": "static_select", "selected_option": _option(impact)}},
            "action": {"action": {"type": "plain_text_input", "value": action}},
            "owner": {"owner": {"type": "users_select", "selected_user": owner}},
        }
        await self._send(
            sr.view_submission(
                WORKSPACE, user, INTERPRET_FORM, view["private_metadata"], values, view["id"]
            )
        )


def _option(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": value, "emoji": True}, "value": value}


def seed_people(server: Server) -> None:
    """The customers and the issue-tracker bot; Acme's people come with the test org."""
    for user_id, (name, workspace) in CUSTOMERS.items():
        server.slack.add_user(user_id, user_id.lower(), name, team_id=workspace)
    server.slack.add_user(JIRA_USER, "jira", "Jira Cloud", is_bot=True, bot_id=JIRA_BOT)
