"""Score the sentiment of a customer message with VADER.

Slack markup is stripped before scoring: user and channel mentions and special mentions
(``<@U123>``, ``<#C1|general>``, ``<!here>``) are removed, links become their label
(``<https://x|the docs>`` -> ``the docs``; unlabelled links are removed), ``:emoji:``
shortcodes are removed, and the HTML escapes Slack uses (``&amp;``, ``&lt;``, ``&gt;``) are
decoded.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

__all__ = ["NEGATIVE_THRESHOLD", "POSITIVE_THRESHOLD", "Sentiment", "analyze", "strip_markup"]

# VADER's documented thresholds on the compound score.
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05

Label = Literal["positive", "neutral", "negative"]


@dataclass(frozen=True)
class Sentiment:
    label: Label
    score: float  # VADER compound score in [-1, 1], rounded to 3 decimals


_SLACK_ENTITY = re.compile(r"<(?P<target>[^<>|\n]*)(?:\|(?P<label>[^<>\n]*))?>")
# :emoji_name: (also :thumbsup::skin-tone-3:), but not the ":30:" of "09:30:15".
_EMOJI = re.compile(r"(?<!\w):[a-z0-9_+'-]+:")
_SPACES = re.compile(r"\s+")


@functools.cache
def _analyzer() -> SentimentIntensityAnalyzer:
    """The shared analyzer, built on first use (it reads its lexicon files from disk)."""
    return SentimentIntensityAnalyzer()


def strip_markup(text: str) -> str:
    """Reduce Slack message markup to the plain words a reader sees."""
    text = _SLACK_ENTITY.sub(_entity_text, text)
    text = _EMOJI.sub(" ", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return _SPACES.sub(" ", text).strip()


def _entity_text(match: re.Match[str]) -> str:
    if match.group("target")[:1] in ("@", "#", "!"):
        return " "
    label = match.group("label")
    return f" {label} " if label else " "


def analyze(text: str) -> Sentiment:
    """Classify ``text`` as positive, neutral or negative.

    The label is derived from the rounded score, so ``score >= 0.05`` always means
    ``"positive"`` and ``score <= -0.05`` always means ``"negative"``.
    """
    scores = _analyzer().polarity_scores(strip_markup(text))
    score = round(float(scores["compound"]), 3)
    label: Label
    if score >= POSITIVE_THRESHOLD:
        label = "positive"
    elif score <= NEGATIVE_THRESHOLD:
        label = "negative"
    else:
        label = "neutral"
    return Sentiment(label=label, score=score)
