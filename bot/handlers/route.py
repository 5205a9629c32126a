"""Routing (SPEC "Routing"): which teams a flag reaches and which topics it carries.

Rules run in order and every matching rule adds its teams. Within a rule, the criteria
that are present must all hold (keywords OR'd among themselves, likewise channels and
sentiments); a rule whose only criterion is `topics` matches a flag already carrying one
of those topics (tagged by an earlier rule, or the key of a team it reaches).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from config.schema import CrosstalkConfig, RouteConfig


@dataclass(frozen=True)
class Routing:
    """`tags` (what the matching rules tagged) are kept apart from `teams`, so that the
    flagger's choice of teams never drops a tag that happens to be a team's key."""

    teams: tuple[str, ...]
    tags: tuple[str, ...]
    matched_rules: tuple[int, ...]
    fallback: bool = False  # the teams are routing.default_teams: nobody chose them

    @property
    def teaches(self) -> bool:
        """Whether the teams say something about the message (a rule, the model or a
        person chose them), so a label may learn them; the default teams say nothing."""
        return not self.fallback

    @property
    def topics(self) -> tuple[str, ...]:
        """A flag's topics: the rules' tags, then the keys of the teams it reaches."""
        return (*self.tags, *(t for t in self.teams if t not in self.tags))


@cache
def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    words = "|".join(re.escape(k.strip()) for k in keywords if k.strip())
    return re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE)


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _topics_only(rule: RouteConfig) -> bool:
    return not (rule.keywords or rule.regex or rule.channels or rule.sentiment)


def _matches(
    rule: RouteConfig, *, text: str, channel_id: str, sentiment: str, topics: list[str]
) -> bool:
    if _topics_only(rule):
        return any(t in topics for t in rule.topics)
    if rule.keywords and not _keyword_pattern(tuple(rule.keywords)).search(text):
        return False
    if rule.regex and not _regex(rule.regex).search(text):
        return False
    if rule.channels and channel_id not in rule.channels:
        return False
    return not (rule.sentiment and sentiment not in rule.sentiment)


def route(
    *,
    text: str,
    channel_id: str,
    sentiment: str,
    config: CrosstalkConfig,
    learned: Callable[[], Sequence[str]] | None = None,
) -> Routing:
    """`learned`: the teams the org's model routes the message to when it is confident
    (SPEC "Listening"), asked only when no rule matches; they replace the default teams."""
    teams: list[str] = []
    topics: list[str] = []
    matched: list[int] = []

    def add(items: list[str], into: list[str]) -> None:
        into.extend(i for i in items if i not in into)

    for i, rule in enumerate(config.routes):
        if _matches(
            rule, text=text, channel_id=channel_id, sentiment=sentiment, topics=topics + teams
        ):
            matched.append(i)
            add(rule.teams, teams)
            if not _topics_only(rule):  # there the topics are the condition, not tags
                add(rule.topics, topics)
    if not teams and learned is not None:
        teams = [t for t in dict.fromkeys(learned()) if config.team(t) is not None]
    fallback = not teams
    if fallback:
        teams = list(config.routing.default_teams)
    return Routing(
        teams=tuple(teams), tags=tuple(topics), matched_rules=tuple(matched), fallback=fallback
    )


def with_override(routing: Routing, teams: tuple[str, ...]) -> Routing:
    """The flagger chose the teams in the form: their choice wins, rule tags stay."""
    return Routing(teams=teams, tags=routing.tags, matched_rules=routing.matched_rules)
