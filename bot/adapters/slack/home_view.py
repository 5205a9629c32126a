"""A person's App Home (bot.handlers.home.HomeView) as a Slack `home` view in Block Kit.

Past-SLA cards are marked with words as well as an emoji, so the mark does not depend on
seeing colour. Rating buttons carry `home_rate_N` (value: the flag id), the dashboard
button `home_dashboard_link`; both are answered by bot.adapters.slack.home."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from bot.adapters.slack.render import blocks as card_blocks
from bot.adapters.slack.render import clip_mrkdwn, escape, quote
from bot.core.refs import Platform
from bot.core.timecalc import format_duration
from bot.handlers.home import HomeView, ToRate, Waiting

DASHBOARD_BUTTON = "home_dashboard_link"
RATE_PREFIX = "home_rate_"
MAX_BLOCKS = 100  # Slack's limit for a home view
TEXT_LIMIT = 3000
ORIGINAL = "the customer's message"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip_mrkdwn(text, TEXT_LIMIT)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _link(url: str | None, label: str) -> str:
    return f"<{url}|{escape(label)}>" if url else escape(label)


def _waiting(w: Waiting) -> dict[str, Any]:
    mark = "🔴 *Past SLA*" if w.past_sla else "⏳ Within SLA"
    where = f"card in <#{w.channel_id}>" if w.platform == Platform.SLACK.value else "card in Teams"
    lines = [
        f"{mark} · *{escape(w.team)}* · waiting {format_duration(w.age_seconds)} of business "
        f"hours · SLA {format_duration(w.sla_seconds)}",
        quote(w.excerpt),
        _link(w.permalink, ORIGINAL) + f" · {where}",
    ]
    return _section("\n".join(lines))


def _to_rate(r: ToRate, tz: tzinfo) -> list[dict[str, Any]]:
    many = f"{r.interpretations} interpretation{'s' if r.interpretations != 1 else ''}"
    flagged = r.flagged_at.astimezone(tz)
    text = f"{quote(r.excerpt)}\n{many} to rate · flagged {flagged:%a %d %b %H:%M} · " + _link(
        r.permalink, ORIGINAL
    )
    buttons = [
        {
            "type": "button",
            "action_id": f"{RATE_PREFIX}{n}",
            "value": str(r.flag_id),
            "text": {"type": "plain_text", "text": f"{n} ★"},
        }
        for n in range(1, 6)
    ]
    return [
        _section(text),
        {"type": "actions", "block_id": f"home_rate:{r.flag_id}", "elements": buttons},
    ]


def _manager(view: HomeView) -> list[dict[str, Any]]:
    part = view.manager
    if part is None:
        return []
    out: list[dict[str, Any]] = [
        {"type": "divider"},
        {
            "type": "header",
            "text": {"type": "plain_text", "text": "The figures (as /roi, last 30 days)"},
        },
        *card_blocks(part.figures)[1:],  # the /roi card without its own title
    ]
    if part.link_problem is None:
        button = {
            "type": "button",
            "action_id": DASHBOARD_BUTTON,
            "value": "dashboard",
            "style": "primary",
            "text": {"type": "plain_text", "text": "Send me the dashboard link"},
        }
        out.append({"type": "actions", "block_id": "home_dashboard", "elements": [button]})
        out.append(_context("A single-use link, valid 10 minutes, by direct message."))
    else:
        out.append(_section(f"*Dashboard:* {escape(part.link_problem)}"))
    return out


def home_blocks(view: HomeView, *, tz: tzinfo, notice: str | None = None) -> list[dict[str, Any]]:
    teams = ", ".join(view.teams) if view.teams else "none (the config names each team's members)"
    out: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": "Crosstalk: your flags and your teams"},
        },
        _context(f"Your teams: {escape(teams)}"),
    ]
    if notice:
        out.append(_section(f"✅ {escape(notice)}"))
    late = sum(1 for w in view.waiting if w.past_sla)
    out.append(
        _section(
            f"*Your teams' cards waiting for a first response* ({len(view.waiting)}"
            + (f", {late} past SLA)" if late else ")")
        )
    )
    out += [_waiting(w) for w in view.waiting] or [
        _context("Nothing waiting: every card of your teams has a first response.")
    ]
    out += [
        {"type": "divider"},
        _section(f"*Flags you raised, waiting for your rating* ({len(view.to_rate)})"),
    ]
    rate_blocks = [b for r in view.to_rate for b in _to_rate(r, tz)]
    out += rate_blocks or [_context("No flag of yours waits for a rating.")]
    out += _manager(view)
    if len(out) > MAX_BLOCKS:
        out = [*out[: MAX_BLOCKS - 1], _context("…more than a home tab can show.")]
    return out


def home_view(view: HomeView, *, tz: tzinfo, notice: str | None = None) -> dict[str, Any]:
    """The `view` argument of views.publish."""
    return {"type": "home", "blocks": home_blocks(view, tz=tz, notice=notice)}
