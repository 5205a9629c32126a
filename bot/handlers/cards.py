"""What Crosstalk posts, composed from the database at send time so it is always current."""

from __future__ import annotations

from dataclasses import replace
from typing import overload

from sqlmodel import Session

from bot.core.cards import Button, Card, Content, Link, RichText
from bot.core.refs import Platform, UserRef
from bot.core.timecalc import format_duration
from bot.handlers.context import Gateways
from store import broadcasts, flags, orgs
from store import outcomes as outcome_rows
from store import ratings as rating_rows
from store.models import Broadcast, Flag, Interpretation, Team

ICON = {"positive": "🟢", "neutral": "⚪", "negative": "🔴"}


def _user(platform: str, user_id: str | None) -> UserRef | str:
    return UserRef(Platform(platform), user_id) if user_id else "someone"


def topics_of(session: Session, flag_id: int) -> list[str]:
    return list(flags.topics(session=session, flag_id=flag_id))


def team_names(session: Session, flag_id: int, exclude_team: int | None = None) -> list[str]:
    return broadcasts.active_team_names(session=session, flag_id=flag_id, exclude_team=exclude_team)


def broadcast_card(session: Session, broadcast: Broadcast) -> Card:
    flag = flags.get(session=session, flag_id=broadcast.flag_id)
    team = orgs.team(session=session, team_id=broadcast.team_id)
    assert flag is not None and team is not None and broadcast.id is not None
    p = flag.platform
    others = team_names(session, flag.id or 0, exclude_team=team.id)
    flaggers = flags.flagger_ids(session=session, flag_id=flag.id or 0)
    who: RichText = (_user(p, flag.flagger_id),)
    if len(flaggers) > 1:
        who += (f" (+{len(flaggers) - 1} more)",)
    facts: list[tuple[str, RichText]] = [
        (
            "Sentiment",
            (f"{ICON.get(flag.sentiment, '')} {flag.sentiment} {flag.sentiment_score:+.2f}",),
        ),
        ("Topics", (", ".join(topics_of(session, flag.id or 0)) or "—",)),
        ("Customer", (flag.customer or "not named",)),
        ("Flagged by", who),
        ("Also sent to", (", ".join(others) if others else "no other team",)),
    ]
    if flag.permalink:
        facts.append(("Original", (Link(flag.permalink, "open the conversation"),)))
    outcomes = outcome_summary(session, flag.id or 0)
    if outcomes:
        facts.append(("Outcome", (outcomes,)))
    facts.append(("Status", _status(broadcast, flag, team)))
    closed = broadcast.status != "active" or flag.status in ("resolved", "dismissed")
    buttons: tuple[Button, ...] = ()
    if broadcast.status == "active":
        value = str(broadcast.id)
        buttons = (
            Button("Add interpretation", "ct_interpret", value, "primary"),
            Button("Record outcome", "ct_outcome", value),
        )
        if not closed:
            buttons = (
                Button("Acknowledge", "ct_ack", value),
                *buttons,
                Button("Not for us", "ct_not_for_us", value, "danger"),
                Button("Resolve", "ct_resolve", value),
            )
    state = {"resolved": " — resolved", "dismissed": " — dismissed"}.get(flag.status, "")
    if broadcast.status == "not_for_us":
        state = " — not for us"
    return Card(
        title=f"📣 Customer conversation for {team.name}{state}",
        summary=f"Flagged for {team.name}: {flag.excerpt[:120]}",
        quote=flag.excerpt or "(no text)",
        facts=tuple(facts),
        notes=(
            ("Reply in this thread with your team's interpretation; every team flagged sees it.",),
        ),
        buttons=buttons,
    )


def _status(broadcast: Broadcast, flag: Flag, team: Team) -> RichText:
    p = broadcast.platform
    if broadcast.status == "not_for_us":
        return ("Not for us, said ", _user(p, broadcast.not_for_us_by))
    parts: RichText = ()
    if flag.status == "resolved":
        parts += (
            "Resolved by ",
            _user(p, flag.resolved_by),
            f" after {format_duration(flag.ttr_seconds)}. ",
        )
    if broadcast.acknowledged_at:
        parts += (
            "Acknowledged by ",
            _user(p, broadcast.acknowledged_by),
            f" in {format_duration(broadcast.tta_seconds)}. ",
        )
    if broadcast.first_response_at:
        parts += (
            "First response from ",
            _user(p, broadcast.first_response_by),
            f" in {format_duration(broadcast.ttfr_seconds)}.",
        )
    if not parts:
        parts = (f"Waiting for a first response (SLA {format_duration(team.sla_seconds)}).",)
    return parts


def outcome_summary(session: Session, flag_id: int) -> str:
    rows = outcome_rows.of_flag(session=session, flag_id=flag_id)
    return "; ".join(
        o.kind.replace("_", " ") + (f" {o.amount:,.2f} {o.currency}" if o.amount else "")
        for o in rows
    )


def notice_card(session: Session, flag: Flag) -> Card:
    """The reply in the origin thread (or the flagger's DM): who was notified, and the
    flaggers' 1-5 rating of the interpretations, with the buttons to give it."""
    names = ", ".join(team_names(session, flag.id or 0)) or "no team"
    ratings = rating_rows.of_flag(session=session, flag_id=flag.id or 0)
    rated: RichText = ()
    for i, r in enumerate(ratings):
        rated += (", " if i else "", f"{r.score}/5 by ", _user(flag.platform, r.user_id))
    value = str(flag.id)
    return Card(
        title=f"📣 Flagged to {names}",
        summary=f"📣 Flagged to {names}. Their interpretations will appear here.",
        facts=(
            ("Flagged by", (_user(flag.platform, flag.flagger_id),)),
            ("Rating", rated or ("not rated yet",)),
        ),
        notes=(
            ("Their interpretations will appear here. Flaggers: how useful were they? Rate 1-5.",),
        ),
        buttons=tuple(Button(f"{n} ★", f"ct_rate_{n}", value) for n in range(1, 6)),
    )


def mirror_text(session: Session, interp: Interpretation) -> RichText:
    team = (
        orgs.team(session=session, team_id=interp.author_team_id) if interp.author_team_id else None
    )
    label = team.name if team else "outside any team"
    if interp.deleted_at:
        return (f"💬 {label}: (interpretation deleted by its author)",)
    extra = []
    if interp.impact:
        extra.append(f"impact: {interp.impact}")
    if interp.action:
        extra.append(f"action: {interp.action}")
    tail = f"  [{'; '.join(extra)}]" if extra else ""
    edited = " (edited)" if interp.edited_at else ""
    return (
        f"💬 {label} — ",
        _user(interp.platform, interp.author_id),
        f": {interp.text}{tail}{edited}",
    )


@overload
async def localize(content: Card, platform: str, gateways: Gateways) -> Card: ...
@overload
async def localize(content: RichText, platform: str, gateways: Gateways) -> RichText: ...
async def localize(content: Content, platform: str, gateways: Gateways) -> Content:
    """People of another platform are named, not mentioned: a Teams id means nothing to
    Slack (and a Slack id nothing to Teams) in an org that spans both. Their names come
    from their own platform's gateway; without one, "someone"."""
    names: dict[UserRef, str] = {}

    async def text(rich: RichText) -> RichText:
        out: list[str | UserRef | Link] = []
        for span in rich:
            if isinstance(span, UserRef) and span.platform.value != platform:
                if span not in names:
                    known = gateways.has(span.platform) and span.id
                    names[span] = (
                        await gateways.get(span.platform).display_name(span) if known else "someone"
                    )
                out.append(names[span])
            else:
                out.append(span)
        return tuple(out)

    if not isinstance(content, Card):
        return await text(content)
    facts = tuple([(label, await text(value)) for label, value in content.facts])
    notes = tuple([await text(note) for note in content.notes])
    return replace(content, facts=facts, notes=notes)
