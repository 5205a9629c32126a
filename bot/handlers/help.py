"""What `@Crosstalk help` (or any word the bot does not know) answers, on either platform:
what the bot does and how to ask for it, in the platform's own words."""

from __future__ import annotations

from bot.core.refs import Platform


def help_text(platform: Platform, *, reaction: str) -> str:
    if platform is Platform.SLACK:
        flag = (
            f"• *Flag* a customer message: react with :{reaction}:, say `@Crosstalk flag` in its "
            "thread, or use the “Flag for stakeholders” shortcut. Every team it concerns gets "
            "a card."
        )
        roi = "• `/roi [7d|30d|90d|quarter|2026-Q3] [team]`: the figures (managers only)."
    else:
        flag = (
            "• **Flag** a customer message: “Flag for stakeholders” in its “…” menu (More "
            "actions), or reply to it with @Crosstalk flag. Every team it concerns gets a card."
        )
        roi = "• `@Crosstalk roi [7d|30d|90d|quarter|2026-Q3] [team]`: the figures (managers only)."
    return "\n".join(
        (
            "Crosstalk shares what customers say with every team it concerns.",
            flag,
            "• On a card: Acknowledge, Add interpretation, Record outcome, Not for us, Resolve.",
            roi,
            "• Each team gets a weekly digest in its channel.",
        )
    )
