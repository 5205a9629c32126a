"""Small labelled customer messages made up for the model's tests (never the shared data
sets): complaints that listeners flag, each about one of four teams, and chatter they don't.
Deterministic for a seed."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from bot.listening.model import Example

TEAMS = ("billing", "shipping", "product", "account")
ISSUES = {
    "billing": (
        "I was charged twice on my invoice",
        "the refund for my last payment never came",
        "your billing overcharged my card again",
        "why is there an extra fee on this invoice",
        "the payment failed but the money left my account",
    ),
    "shipping": (
        "my package never arrived",
        "the courier lost my parcel",
        "tracking says delivered but the box is not here",
        "the delivery is two weeks late",
        "my order shipped to the wrong address",
    ),
    "product": (
        "the export button crashes the app",
        "the dashboard shows the wrong numbers",
        "the new feature broke my reports",
        "the app freezes when I upload a file",
        "search returns nothing since the update",
    ),
    "account": (
        "I cannot log in to my account",
        "my password reset email never comes",
        "my account got locked for no reason",
        "two-factor sign in keeps failing",
        "I lost access to my profile",
    ),
}
UPSET = ("", "This is terrible:", "Really frustrated,", "Unacceptable.", "Still waiting and")
AFTER = ("", " and nobody answers", ", please help", ". Very disappointed.", " again!")
CHATTER = (
    "thanks, see you at lunch",
    "great meeting today, well done everyone",
    "happy friday all",
    "the new office coffee is lovely",
    "congrats on the launch, amazing work",
    "good morning team",
    "I love the new logo",
    "thank you so much for the quick help, all good now",
    "nice weekend everyone",
    "the offsite was fun",
)
FRIENDLY = ("", "Hi!", "Hey,", "Cheers,", "Morning!")


def complaint(rng: random.Random, team: str) -> str:
    return f"{rng.choice(UPSET)} {rng.choice(ISSUES[team])}{rng.choice(AFTER)}".strip()


def chatter(rng: random.Random) -> str:
    return f"{rng.choice(FRIENDLY)} {rng.choice(CHATTER)} {rng.randint(1, 99)}".strip()


def rows(n: int, seed: int = 0, flag_share: float = 0.5) -> list[tuple[str, bool, str | None]]:
    """`n` messages: complaints (flag, with their team) and chatter (no flag, no team)."""
    rng = random.Random(seed)
    out: list[tuple[str, bool, str | None]] = []
    for i in range(n):
        if rng.random() < flag_share:
            team = TEAMS[i % len(TEAMS)]
            out.append((complaint(rng, team), True, team))
        else:
            out.append((chatter(rng), False, None))
    return out


def examples(n: int, seed: int = 0, flag_share: float = 0.5) -> list[Example]:
    return [Example(text, flag, team) for text, flag, team in rows(n, seed, flag_share)]


def write_csv(path: Path, n: int, seed: int = 0, flag_share: float = 0.5) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "flag", "team"])
        for text, flag, team in rows(n, seed, flag_share):
            writer.writerow([text, 1 if flag else 0, team or ""])
    return path
