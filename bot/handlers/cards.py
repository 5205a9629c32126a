"""What Crosstalk posts, composed from the database at send time so it is always current."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.core.cards import Button, Card, Link, RichText
from bot.core.refs import Platform, UserRef
from bot.core.timecalc import format_duration
from store.models import Broadcast, Flag, FlagFlagger, FlagTopic, Interpretation, Team

ICON = {"positive": "🟢", "neutral": "⚪", "negative": "🔴"}


def _user(platform: str, user_id: str | None) -> UserRef | str:
    return UserRef(Platform(platform), user_id) if user_id else "someone"


def topics_of(session: Session, flag_id: int) -> list[str]:
    stmt = select(FlagTopic.topic).where(FlagTopic.flag_id == flag_id).order_by(col(FlagTopic.id))
    return list(session.exec(stmt).all())


def team_names(session: Session, flag_id: int, exclude_team: int | None = None) -> list[str]:
    stmt = (
        select(Team.name)
        .join(Broadcast, col(Broadcast.team_id) == col(Team.id))
        .where(Broadcast.flag_id == flag_id, Broadcast.status == "active")
        .order_by(col(Broadcast.id))
    )
    if exclude_team is not None:
        stmt = stmt.where(Broadcast.team_id != exclude_team)
    return list(session.exec(stmt).all())


def broadcast_card(session: Session, broadcast: Broadcast) -> Card:
    flag = session.get(Flag, broadcast.flag_id)
    team = session.get(Team, broadcast.team_id)
    assert flag is not None and team is not None and broadcast.id is not None
    p = flag.platform
    others = team_names(session, flag.id or 0, exclude_team=team.id)
    flaggers = session.exec(
        select(FlagFlagger.user_id)
        .where(FlagFlagger.flag_id == flag.id)
        .order_by(col(FlagFlagger.id))
    ).all()
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
    facts.append(("Status", _status(broadcast, flag, team)))
    closed = broadcast.status != "active" or flag.status in ("resolved", "dismissed")
    buttons: tuple[Button, ...] = ()
    if broadcast.status == "active":
        value = str(broadcast.id)
        buttons = (Button("Add interpretation", "ct_interpret", value, "primary"),)
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


def notice_text(session: Session, flag: Flag) -> RichText:
    names = team_names(session, flag.id or 0)
    return (
        "📣 ",
        _user(flag.platform, flag.flagger_id),
        f" flagged this conversation to {', '.join(names) or 'no team'}."
        " Their interpretations will appear here.",
    )


def mirror_text(session: Session, interp: Interpretation) -> RichText:
    team = session.get(Team, interp.author_team_id) if interp.author_team_id else None
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
