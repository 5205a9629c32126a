"""Tests for bot.handlers.sentiment."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from bot.handlers import sentiment
from bot.handlers.sentiment import Sentiment, analyze, strip_markup


@pytest.mark.parametrize(
    "text",
    [
        "Love the new dashboard, saves my team hours every week!",
        "Thanks so much, the support team was fantastic and fixed it in minutes.",
        "Great release, the new reports are exactly what we needed.",
    ],
)
def test_positive(text: str) -> None:
    result = analyze(text)
    assert result.label == "positive"
    assert result.score >= 0.05


@pytest.mark.parametrize(
    "text",
    [
        "The export has been broken for three days and we are losing money",
        "This is the worst support experience I have ever had.",
        "The sync is slow again, really frustrating.",
        "I am not happy with the latency since the upgrade",
    ],
)
def test_negative(text: str) -> None:
    result = analyze(text)
    assert result.label == "negative"
    assert result.score <= -0.05


@pytest.mark.parametrize(
    "text",
    [
        "The invoice for October was sent on Tuesday.",
        "Can you resend the invoice?",
        "We upgraded to version 3.2.1 yesterday.",
        "",
    ],
)
def test_neutral(text: str) -> None:
    assert analyze(text) == Sentiment(label="neutral", score=0.0)


def test_score_is_rounded_compound_in_range() -> None:
    result = analyze("Love the new dashboard, saves my team hours every week!")
    assert -1.0 <= result.score <= 1.0
    assert result.score == round(result.score, 3)


def test_sentiment_is_frozen() -> None:
    result = analyze("Thanks!")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.score = 0.0  # type: ignore[misc]


def test_strip_markup() -> None:
    text = (
        "<@U123> thanks :tada: <https://docs.example.com/a|this fix> works, "
        "cc <#C1|general> <!here> <https://example.com> &amp; :thumbsup::skin-tone-2:"
    )
    assert strip_markup(text) == "thanks this fix works, cc &"


def test_strip_markup_keeps_times() -> None:
    assert strip_markup("meeting at 09:30:15 :smile::heart:") == "meeting at 09:30:15"


def test_markup_does_not_change_the_score() -> None:
    plain = analyze("thanks, this fix is great")
    marked = analyze("<@U123> thanks, <https://x.example.com/pr/1|this fix> is great :tada:")
    assert marked == plain


def test_link_label_is_scored() -> None:
    assert analyze("<https://x.example.com/r/1|terrible, broken release>").label == "negative"


def test_mention_and_channel_names_are_not_scored() -> None:
    # Channel named "happy-customers" and a user label must not make a neutral message positive.
    assert analyze("<#C9|happy-customers> <@U1|love> invoice sent").label == "neutral"


def test_importing_does_not_build_the_analyzer() -> None:
    code = (
        "from bot.handlers import sentiment\n"
        "assert sentiment._analyzer.cache_info().currsize == 0\n"
        "sentiment.analyze('ok')\n"
        "assert sentiment._analyzer.cache_info().currsize == 1\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_analyzer_is_built_once() -> None:
    analyze("warm up")
    first = sentiment._analyzer()
    analyze("Love it")
    assert sentiment._analyzer() is first
    assert sentiment._analyzer.cache_info().currsize == 1
