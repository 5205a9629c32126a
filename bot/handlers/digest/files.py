"""A digest's charts as files: the name, the PNG, a title and a comment for each. The
outbox uploads them into the digest's thread (bot.outbox.features); `crosstalk digest
--dry-run --charts DIR` writes the same files, so what a person looks at is what is sent.

A chart is described by the JSON target its outbox row carries: `team` (a team's weeks,
bot.handlers.digest.series) or `points` (the org's maturity trend)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.timecalc import format_duration
from bot.handlers.context import OrgContext
from bot.handlers.digest.chart import trend_png
from bot.handlers.digest.plan import Digest
from bot.handlers.digest.series import TeamSeries
from bot.handlers.digest.team_chart import team_png


@dataclass(frozen=True)
class ChartFile:
    filename: str
    data: bytes
    title: str
    comment: str


def chart_targets(digest: Digest) -> list[tuple[str, dict[str, Any]]]:
    """(dedupe-key suffix, target without the thread) of each chart a digest carries, the
    team's own weeks first."""
    out: list[tuple[str, dict[str, Any]]] = []
    if digest.team_chart is not None:
        out.append(("team-chart", {"week": digest.week, "team": digest.team_chart.to_json()}))
    if digest.chart is not None:
        out.append(("chart", {"week": digest.week, "points": digest.chart}))
    return out


def chart_file(org: OrgContext, target: dict[str, Any]) -> ChartFile:
    week = str(target["week"])
    if "team" in target:
        series = TeamSeries.from_json(target["team"])
        return ChartFile(
            f"first-response-{series.key}-{week}.png",
            team_png(series),
            f"{series.name}: first response and flags to {week}",
            f"{series.name}'s first-response p50 (business hours) against its SLA of "
            f"{format_duration(series.sla_seconds)}, and the flags routed to it, week by week.",
        )
    points = [
        (str(label), None if score is None else int(score)) for label, score in target["points"]
    ]
    return ChartFile(
        f"maturity-{week}.png",
        trend_png(points, title=f"{org.config.org.name}: maturity score by week"),
        f"Maturity trend to {week}",
        "Org maturity score, week by week (gaps: not enough data that week).",
    )


def digest_files(org: OrgContext, digest: Digest) -> list[ChartFile]:
    return [chart_file(org, target) for _, target in chart_targets(digest)]
