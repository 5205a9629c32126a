"""How a weekly digest reads: a neutral card for the team channel (or the managers), and
the same card as terminal text for `crosstalk digest --dry-run`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.core.cards import Card, Link, RichText, Span, to_plain
from bot.core.refs import Platform, UserRef
from bot.core.timecalc import format_duration
from bot.handlers.digest.data import FlagLine, OrgWeek, TeamWeek
from bot.handlers.digest.figures import Maturity, OrgFigures

LIST_LIMIT = 5


def _lines(items: Sequence[RichText], empty: str) -> RichText:
    """Bulleted lines, at most LIST_LIMIT of them, then how many more there are."""
    if not items:
        return (empty,)
    out: list[Span] = []
    for i, item in enumerate(items[:LIST_LIMIT]):
        out += [*(("\n",) if i else ()), "• ", *item]
    if len(items) > LIST_LIMIT:
        out.append(f"\n…and {len(items) - LIST_LIMIT} more")
    return tuple(out)


def _linked(text: str, url: str | None) -> RichText:
    return (Link(url, text),) if url else (text,)


def _waiting(line: FlagLine, with_team: bool) -> RichText:
    team = (f"{line.team}: ",) if with_team and line.team else ()
    return (*team, *_linked(f"“{line.excerpt}”", line.permalink))


def maturity_line(maturity: Maturity | None) -> str:
    if maturity is None:
        return "not available yet"
    if maturity.score is None:
        return maturity.reason or "not enough data yet"
    change = ""
    if maturity.previous is not None:
        delta = maturity.score - maturity.previous
        change = f" ({'+' if delta >= 0 else ''}{delta} vs the week before)"
    return f"{maturity.score}/100 — {maturity.stage or 'no stage'}{change}"


def chart_points(maturity: Maturity | None) -> tuple[tuple[str, int | None], ...] | None:
    """The trend chart's points (short week labels), or None when there is nothing to draw."""
    if maturity is None or all(p.score is None for p in maturity.trend):
        return None
    return tuple((p.week.split("-")[-1], p.score) for p in maturity.trend)


def _sla_line(week: TeamWeek) -> str:
    if week.ttfr_p50 is None:
        return f"no first response this week (SLA {format_duration(week.sla_seconds)})"
    verdict = "within" if week.ttfr_p50 <= week.sla_seconds else "over"
    share = f"; {week.within_sla} of {week.due} within SLA" if week.due else ""
    return (
        f"p50 {format_duration(week.ttfr_p50)} in business hours — {verdict} the SLA of "
        f"{format_duration(week.sla_seconds)}{share}"
    )


def _connections(figures: OrgFigures, names: Mapping[str, str], team: str | None) -> str:
    """New cross-team connections; a team under the privacy floor is not named (as in /roi)."""
    if team is not None and team not in figures.named:
        return "not shown for teams of fewer than 5 people"
    pairs = [p for p in figures.new_connections if team is None or team in p]
    if team is not None:
        return ", ".join(names.get(k, k) for a, b in pairs for k in (a, b) if k != team) or (
            "none this week"
        )
    return ", ".join(f"{names.get(a, a)} ↔ {names.get(b, b)}" for a, b in pairs) or (
        "none this week"
    )


def team_card(week: TeamWeek, figures: OrgFigures, names: Mapping[str, str]) -> Card:
    waiting = len(week.unanswered)
    headline = (
        f"{week.routed} flag{'s' if week.routed != 1 else ''} routed to {week.name}"
        f" ({week.answered} responded to, {waiting} waiting)"
    )
    said = [
        (
            f"{s.team} — ",
            UserRef(Platform(s.platform), s.author_id),
            f": {s.text} (on ",
            *_linked(f"“{s.excerpt}”", s.permalink),
            ")",
        )
        for s in week.said
    ]
    handled = [
        (
            *_linked(f"“{h.excerpt}”", h.permalink),
            f" [{', '.join(h.topics)}] — ",
            ", ".join(h.by) if h.by else "no reply",
            " (resolved)" if h.resolved else "",
        )
        for h in week.handled
    ]
    facts: tuple[tuple[str, RichText], ...] = (
        (
            "Waiting for a first response",
            _lines(
                [_waiting(u, False) for u in week.unanswered],
                "nothing — every flag had a first response",
            ),
        ),
        ("What other teams said", _lines(said, "nothing on your flags this week")),
        ("Handled by other teams on your topics", _lines(handled, "nothing this week")),
        ("First response", (_sla_line(week),)),
        (
            "New cross-team connections",
            (_connections(figures, names, week.key),),
        ),
        ("Org maturity", (maturity_line(figures.maturity),)),
    )
    return Card(
        title=f"📰 Weekly digest — {week.name}, {week.week}",
        summary=f"{week.name}, {week.week}: {headline}",
        quote=headline,
        facts=facts,
        notes=(("Reply in a flag's card thread to answer it; a quiet week sends no digest.",),),
    )


def org_card(org_name: str, week: OrgWeek, figures: OrgFigures, names: Mapping[str, str]) -> Card:
    headline = (
        f"{week.flags} flags · {week.broadcasts} broadcasts, {week.answered} responded to · "
        f"{week.interpretations} interpretations ({week.cross_team} cross-team)"
    )
    pace = [
        (f"{p.name}: p50 {format_duration(p.p50)} ({p.answered} responded to)",) for p in week.pace
    ]
    slowest = list(reversed(pace[len(pace) // 2 :])) if len(pace) > 1 else []
    fastest = pace[: max(1, len(pace) // 2)] if pace else []
    themes = [
        (f"{t.topic} ({t.flags} flag{'s' if t.flags != 1 else ''}, {t.negative} negative)",)
        for t in week.themes
    ]
    siloed = (
        "not available yet"
        if figures.siloed_teams is None
        else ", ".join(names.get(k, k) for k in figures.siloed_teams) or "none named"
    )
    facts: tuple[tuple[str, RichText], ...] = (
        (
            "Waiting for a first response",
            _lines(
                [_waiting(u, True) for u in week.unanswered],
                "nothing — every flag had a first response",
            ),
        ),
        ("Fastest teams (business hours)", _lines(fastest[:3], "no first response this week")),
        ("Slowest teams (business hours)", _lines(slowest[:3], "—")),
        ("Top customer themes", _lines(themes, "none")),
        ("Siloed teams", (siloed,)),
        (
            "New cross-team connections",
            (_connections(figures, names, None),),
        ),
        ("Maturity", (maturity_line(figures.maturity),)),
    )
    return Card(
        title=f"📊 Org digest — {org_name}, {week.week}",
        summary=f"{org_name}, {week.week}: {headline}",
        quote=headline,
        facts=facts,
    )


def card_text(card: Card) -> str:
    """The card as terminal text (links shown with their address)."""
    lines = [card.title, "=" * len(card.title)]
    if card.quote:
        lines += [card.quote, ""]
    for label, value in card.facts:
        lines.append(f"{label}:")
        lines += [f"  {line}" for line in to_plain(value).splitlines()]
    for note in card.notes:
        lines += ["", to_plain(note)]
    return "\n".join(lines)
