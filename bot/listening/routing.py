"""Learned routing (SPEC "Listening"): when no routing rule matches a message, the org's
model names its teams instead of `routing.default_teams`, once it is confident; rules still
win where they match. The same teams prefill the flag shortcut's form.

The model is the org's current one (kept in the database, shared by replicas); it is asked
only when the rules found nothing. A model that fails to load or score never stops a flag:
the flag goes to the default teams, and the failure is logged."""

from __future__ import annotations

import logging

from sqlmodel import Session

from bot.handlers.context import OrgContext
from bot.handlers.route import Routing, route
from bot.handlers.sentiment import analyze
from bot.listening.current import current
from config.schema import CrosstalkConfig

log = logging.getLogger("crosstalk.listening")


def rule_keywords(config: CrosstalkConfig) -> dict[str, list[str]]:
    """team key -> the keywords of the rules that route to it (the model's cold start)."""
    out: dict[str, list[str]] = {}
    for rule in config.routes:
        for team in rule.teams:
            words = out.setdefault(team, [])
            words.extend(k for k in rule.keywords if k not in words)
    return out


def learned_teams(session: Session, org: OrgContext, text: str) -> tuple[str, ...]:
    """The teams the model routes `text` to, or () when it is not confident."""
    try:
        listener = current(session, org.org_id, rule_keywords(org.config))
        return tuple(listener.routed_teams(listener.score(text)))
    except Exception:  # the flag must still go out: to the default teams
        log.exception("learned routing failed; the default teams are used")
        return ()


def routing_for(
    *, session: Session, org: OrgContext, text: str, channel_id: str, sentiment: str | None = None
) -> Routing:
    """The teams and topics a message gets: the rules', else the model's, else the
    default teams."""
    return route(
        text=text,
        channel_id=channel_id,
        sentiment=sentiment if sentiment is not None else analyze(text).label,
        config=org.config,
        learned=lambda: learned_teams(session, org, text),
    )


def form_teams(*, session: Session, org: OrgContext, text: str, channel_id: str) -> list[str]:
    """The teams the flag shortcut's form shows chosen (what routing would choose)."""
    return list(routing_for(session=session, org=org, text=text, channel_id=channel_id).teams)
