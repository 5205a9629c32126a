"""What `crosstalk demo` prints, laid out from a `Snapshot` of what the server recorded.

Pure text from plain rows: no database, no fake. Each section is a function from the
snapshot to lines, so a later one (`/roi`, a digest) is one more entry in `SECTIONS` and,
if it needs data, one more field in the snapshot.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from bot.core.timecalc import format_duration, percentile
from bot.demo.snapshot import BroadcastRow, FlagRow, InterpRow, Snapshot, TeamRow
from bot.handlers.redact import CARD, EMAIL, PHONE

WIDTH = 100
VIA = {"reaction": "reaction", "shortcut": "shortcut + form", "mention": "@mention"}
PII = ((EMAIL, "e-mail address"), (PHONE, "phone number"), (CARD, "card number"))

Section = Callable[[Snapshot], list[str]]


def _dur(seconds: float | None) -> str:
    return "-" if seconds is None else format_duration(seconds)


def _p50(values: Sequence[float | None]) -> float | None:
    return percentile([v for v in values if v is not None], 0.5)


def _wrap(lead: str, text: str, indent: int, max_lines: int = 3) -> list[str]:
    return textwrap.wrap(
        " ".join(text.split()),
        WIDTH,
        initial_indent=lead,
        subsequent_indent=" " * indent,
        max_lines=max_lines,
        placeholder=" ...",
    )


def header(s: Snapshot) -> list[str]:
    tz = ZoneInfo(s.timezone)
    start, end = s.started.astimezone(tz), s.ended.astimezone(tz)
    return [
        f"Crosstalk demo: {s.org} on local Slack and Microsoft Teams stand-ins"
        " (no accounts, no internet)",
        f"  story time  {start:%a %d %b %Y %H:%M} -> {end:%a %d %b %H:%M} {s.timezone}"
        " (after six weeks of history; played in seconds)",
        f"  database    {s.database}",
        "",
    ]


def _team_line(t: TeamRow, s: Snapshot) -> str:
    local = ""
    if t.timezone != s.timezone or t.hours != s.business_hours:
        local = f" ({t.timezone.rsplit('/', 1)[-1].replace('_', ' ')} hours)"
    return f"  {t.name:<17} {t.channel:<18} SLA {_dur(t.sla_seconds):<4} " + (
        ", ".join(t.members) + local
    )


def org_section(s: Snapshot) -> list[str]:
    return [
        f"THE ORG  {s.org} ({s.timezone}, {s.business_hours}); managers: {', '.join(s.managers)}",
        *(_team_line(t, s) for t in s.teams),
        f"  Listening in {' and '.join(s.listening)} (Slack Connect, shared with Globex)",
        "",
    ]


def _interp_lines(i: InterpRow, indent: int) -> list[str]:
    team = i.team or "no team"
    if i.also_in:
        team += f", also in {' and '.join(i.also_in)}"
    tags = [team, "cross-team" if i.cross_team else "same team as the flagger"]
    tags += [tag for tag, on in (("by form", i.source == "form"), ("edited", i.edited)) if on]
    lead = " " * indent + f"* {i.author} ({'; '.join(tags)}) +{_dur(i.after_seconds)}: "
    lines = _wrap(lead, f'"{i.text}"', indent + 2)
    if i.source == "form":
        lines += _wrap(
            " " * (indent + 2) + f"impact {i.impact or '-'}, owner {i.owner or '-'}, action: ",
            i.action or "-",
            indent + 2,
            2,
        )
    return lines


def _broadcast_line(b: BroadcastRow) -> str:
    lead = f"   {b.team:<17} "
    if b.status == "not_for_us":
        return lead + f"not for us, said {b.not_for_us_by} after {_dur(b.not_for_us_after)}"
    parts = [f"ack {_dur(b.tta)}" + (f" ({b.acknowledged_by})" if b.acknowledged_by else "")]
    parts.append(f"first response {_dur(b.ttfr)}")
    parts.append(f"cross-team {_dur(b.cross_ttfr)}")
    return lead + " | ".join(parts)


def _flag_lines(f: FlagRow, tz: ZoneInfo) -> list[str]:
    status = f.status + (f" in {_dur(f.ttr)}" if f.ttr is not None else "")
    lines = [
        f"#{f.id} {f.flagged_at.astimezone(tz):%a %H:%M} {f.channel}, {f.author}: "
        f"{f.sentiment} {f.score:+.2f}, {status}",
        *_wrap("   ", f'"{f.excerpt}"', 4, 1),
    ]
    redacted = [f"{f.excerpt.count(mark)} {what}" for mark, what in PII if mark in f.excerpt]
    if redacted:
        lines.append(f"   PII redacted in everything Crosstalk posts: {', '.join(redacted)}")
    first_name, first_via, first_at = f.flaggers[0]
    who = [f"{first_name} ({VIA.get(first_via, first_via)})"]
    who += [
        f"{name} ({VIA.get(via, via)}) {_dur((at - first_at).total_seconds())} later:"
        " added as a flagger, no new card"
        for name, via, at in f.flaggers[1:]
    ]
    lines.append(f"   flagged by {'; '.join(who)}")
    if f.customer or f.note:
        lines.append(f"   customer {f.customer or '-'}; note: {f.note or '-'}")
    mirrored = (
        f" + {f.mirrored} interpretation{'s' if f.mirrored > 1 else ''}" if f.mirrored else ""
    )
    teams = ", ".join(b.team for b in f.broadcasts)
    lines.append(f"   sent to {teams}; notice{mirrored} -> {f.notice}")
    for b in f.broadcasts:
        lines.append(_broadcast_line(b))
        for i in b.interpretations:
            lines += _interp_lines(i, 5)
    for i in f.other_interpretations:
        lines += _interp_lines(i, 3)
    return lines


def flags_section(s: Snapshot) -> list[str]:
    tz = ZoneInfo(s.timezone)
    lines = [f"FLAGS ({len(s.flags)} flags, {s.cards_posted} cards posted to team channels)"]
    for f in s.flags:
        lines += _flag_lines(f, tz)
    return [*lines, ""]


def uncounted_section(s: Snapshot) -> list[str]:
    if not s.uncounted:
        return []
    return [
        "NOT COUNTED as responses (they never stop a team's clock)",
        *(f"  #{u.flag_id} {u.author} in {u.team}'s thread: {u.reason}" for u in s.uncounted),
        "",
    ]


def _team_times(t: TeamRow, s: Snapshot) -> str:
    mine = [b for f in s.flags for b in f.broadcasts if b.team_key == t.key]
    active = [b for b in mine if b.status == "active"]
    answered = [b.ttfr for b in active if b.ttfr is not None]
    overdue = [
        b
        for b in active
        if b.ttfr is None
        and b.posted_at is not None
        and (s.ended - b.posted_at).total_seconds() > t.sla_seconds
    ]
    met = sum(1 for ttfr in answered if ttfr <= t.sla_seconds)
    due = len(answered) + len(overdue)
    sla = f"{_dur(t.sla_seconds)}: " + (f"met {met} of {due}" if due else "none due yet")
    if met < due:
        sla += ", MISSED"
    declined = len(mine) - len(active)
    flags = f"{len(active)}" + (f" +{declined} declined" if declined else "")
    first = (
        f"{_dur(_p50([b.ttfr for b in active]))} ({_dur(_p50([b.ttfr_business for b in active]))})"
    )
    return (
        f"  {t.name:<17} {flags:<13} {_dur(_p50([b.tta for b in active])):<6} {first:<18} "
        f"{_dur(_p50([b.cross_ttfr for b in active])):<11} {sla}"
    )


def teams_section(s: Snapshot) -> list[str]:
    return [
        "RESPONSE TIMES per team: p50 over its flags, wall clock (business hours)",
        f"  {'team':<17} {'flags':<13} {'TTA':<6} {'first resp.':<18} {'cross-team':<11} SLA",
        *(_team_times(t, s) for t in s.teams),
        "",
    ]


def api_section(s: Snapshot) -> list[str]:
    total = sum(n for _, n in s.api_calls)
    calls = ", ".join(f"{method} {n}" for method, n in s.api_calls)
    return [
        f"SLACK WEB API CALLS: {total}, all answered by the local stand-in",
        *_wrap("  ", calls, 2, 5),
        "",
    ]


SECTIONS: tuple[Section, ...] = (
    header,
    org_section,
    flags_section,
    uncounted_section,
    teams_section,
    api_section,
)


def render(snapshot: Snapshot, sections: Sequence[Section] = SECTIONS) -> list[str]:
    return [line for section in sections for line in section(snapshot)]
