"""The benchmark's traffic: a seeded, realistic mix of signed Events API requests.

Most of what a busy workspace sends Crosstalk is chatter it only acknowledges (top-level
messages) or stores and drops (replies in ordinary threads); a fifth are :mega: reactions
on customer messages, each a new flag with its broadcasts; a tenth are team members
answering in broadcast threads, each an interpretation with card updates and a mirror.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from bot.demo.org import ORG_TOML
from bot.demo.standins import slack_requests as sr
from bot.demo.standins.slack_requests import SignedRequest
from config.load import parse_config

TEAM = "T0001"
CUSTOMER_CHANNELS = ("C0CUSTOMERS", "C0SHARED")
CUSTOMER = "U0SAM"
FLAGGERS = ("U0ANN", "U0CAL", "U0MGR")
STAFF = ("U0ANN", "U0CAL", "U0BOB", "U0PAM", "U0EVE", "U0MGR")
CUSTOMER_TEXTS = (
    "We were charged twice on the last invoice, can you refund one of them?",
    "The CSV export has been broken since this morning, every download is empty.",
    "Is a Salesforce integration on the roadmap? Our sales team keeps asking.",
    "Our lawyer needs the signed DPA before the renewal, who can send it?",
    "Honestly we are thinking about cancelling, a competitor offers this for less.",
    "The dashboard crashes when we filter by region, is there an outage?",
    "Could you update the card on file? The old one expires this month.",
    "Loving the new reports, the team uses them every day now.",
    "We get a 500 error when inviting users, it started after the update.",
    "Can we get a feature to schedule exports weekly?",
)
CHATTER = (
    "Thanks, that worked!",
    "Let me check with the team and get back to you.",
    "Any update on this one?",
    "Following up on yesterday's call, notes are in the doc.",
    "Good morning everyone :wave:",
    "I'll take a look after lunch.",
)
REPLIES = (
    "Billing confirmed the duplicate charge, refund goes out today.",
    "Engineering reproduced it; the fix ships in tomorrow's release.",
    "Product: on the roadmap for Q3, we will share the beta with them.",
    "Legal: the DPA is signed, sending it to the account owner now.",
    "Looping in their CSM, this account is at risk.",
)


@dataclass(frozen=True)
class CustomerMessage:
    channel: str
    ts: str
    text: str


@dataclass(frozen=True)
class Thread:
    """A broadcast card's thread, where a team member's reply is an interpretation."""

    channel: str
    ts: str
    flagger: str


def members_by_channel() -> dict[str, tuple[str, ...]]:
    config = parse_config(ORG_TOML, "bench.toml")
    return {t.slack_channel: tuple(t.members) for t in config.teams if t.slack_channel}


def customer_messages(count: int, *, seed: int) -> list[CustomerMessage]:
    """What customers said over the last few hours, to be seeded into FakeSlack (Crosstalk
    reads a flagged message back with conversations.history)."""
    rng = random.Random(seed)
    start = int(time.time()) - 6 * 3600
    return [
        CustomerMessage(
            channel=rng.choice(CUSTOMER_CHANNELS),
            ts=f"{start + i}.{rng.randrange(1_000_000):06d}",
            text=rng.choice(CUSTOMER_TEXTS),
        )
        for i in range(count)
    ]


class Stream:
    """Builds requests; reaction targets are drawn without replacement from `customers`,
    so every reaction flags a message no one flagged before."""

    def __init__(self, customers: list[CustomerMessage], *, seed: int) -> None:
        self.rng = random.Random(seed)
        self.unflagged = list(customers)
        self.rng.shuffle(self.unflagged)
        self.threads_of = list(customers)
        self.members = members_by_channel()
        self._micros = 0

    def _ts(self) -> str:
        """A fresh message ts near now, unique within the stream."""
        self._micros = max(self._micros + 1, int(time.time() * 1_000_000))
        return f"{self._micros // 1_000_000}.{self._micros % 1_000_000:06d}"

    def top_level(self) -> SignedRequest:
        channel = self.rng.choice(CUSTOMER_CHANNELS)
        if self.rng.random() < 0.5:
            user, text = CUSTOMER, self.rng.choice(CUSTOMER_TEXTS)
        else:
            user, text = self.rng.choice(STAFF), self.rng.choice(CHATTER)
        return sr.event_message(TEAM, channel, user, text, self._ts())

    def thread_reply(self) -> SignedRequest:
        root = self.rng.choice(self.threads_of)
        user = self.rng.choice((CUSTOMER, *STAFF))
        return sr.event_message(
            TEAM, root.channel, user, self.rng.choice(CHATTER), self._ts(), root.ts
        )

    def reaction(self) -> SignedRequest:
        target = self.unflagged.pop()
        return sr.event_reaction_added(
            TEAM,
            self.rng.choice(FLAGGERS),
            "mega",
            target.channel,
            target.ts,
            CUSTOMER,
            self._ts(),
            is_ext_shared_channel=target.channel == "C0SHARED",
        )

    def interpretation(self, threads: list[Thread]) -> SignedRequest:
        thread = self.rng.choice(threads)
        authors = [m for m in self.members.get(thread.channel, ()) if m != thread.flagger]
        author = self.rng.choice(authors or ["U0LEO"])
        return sr.event_message(
            TEAM, thread.channel, author, self.rng.choice(REPLIES), self._ts(), thread.ts
        )

    def mix(self, count: int, threads: list[Thread]) -> list[SignedRequest]:
        """50% top-level messages, 20% ordinary thread replies, 20% :mega: reactions and
        10% replies in broadcast threads (folded into ordinary replies when none exist)."""
        out: list[SignedRequest] = []
        for _ in range(count):
            roll = self.rng.random()
            if roll < 0.5:
                out.append(self.top_level())
            elif roll < 0.7 or (roll >= 0.9 and not threads):
                out.append(self.thread_reply())
            elif roll < 0.9:
                out.append(self.reaction())
            else:
                out.append(self.interpretation(threads))
        return out


def resign(requests: list[SignedRequest]) -> list[SignedRequest]:
    """The same bodies signed now: Slack signatures go stale after five minutes."""
    return [
        SignedRequest(r.body, sr.sign(sr.DEFAULT_SIGNING_SECRET, r.body, content_type=None))
        for r in requests
    ]
