"""How a /roi report reads: a card a manager takes in at a glance, and terminal text.

Both are built from the stable JSON of METRICS "Machine-readable output", so the chat
answer, the terminal and `--json` can never disagree."""

from __future__ import annotations

from typing import Any

from bot.core.cards import Card, RichText
from bot.core.timecalc import format_duration
from bot.listening.figures import lines as listening_lines

USAGE = "Usage: /roi [7d|30d|90d|quarter|2026-Q3|2026-10-01..2026-10-31] [team]"
HELP = (
    "/roi: how customer knowledge travels across teams (managers only) — the maturity "
    "score, social and business ROI, objectives and silos.\n"
    "Period: 7d, 30d (the default), 90d, quarter (this one), 2026-Q3, or two dates "
    "2026-10-01..2026-10-31; team: one team's key, for its figures alone.\n" + USAGE
)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _money(value: float | None, currency: str) -> str:
    return "—" if value is None else f"{value:,.0f} {currency}"


SHARE_KPIS = ("answer_rate", "resolution_rate", "sla_attainment", "csat", "business_roi")
MONEY_KPIS = ("retained_value", "value")


def kpi_text(kpi: str, value: float | None, currency: str) -> str:
    """A KPI's value as its unit reads: money with the currency, shares as %, times as
    durations, the maturity score out of 100, flags as a count."""
    if value is None:
        return "—"
    if kpi in MONEY_KPIS:
        return _money(value, currency)
    if kpi in SHARE_KPIS:
        return _pct(value)
    if kpi == "ttfr_p50":
        return format_duration(value)
    if kpi == "maturity":
        return f"{value:.0f}/100"
    return f"{value:,.0f}"


def _objective(o: dict[str, Any], currency: str) -> str:
    mark = "✅" if o["on_track"] else "⚠️"
    name = o["kpi"].replace("_", " ")
    actual, target = (kpi_text(o["kpi"], o[k], currency) for k in ("actual", "target"))
    return f"{mark} {o['key']}: {name} {actual} of {target}"


def _headline(r: dict[str, Any]) -> str:
    m = r["maturity"]
    if m["score"] is None:
        return f"Maturity: {m['reason']}"
    change = ""
    if m.get("previous_score") is not None:
        delta = m["score"] - m["previous_score"]
        change = f" ({'+' if delta >= 0 else ''}{delta} vs previous period)"
    return f"Maturity {m['score']}/100 — {m['stage']}{change}"


def _period(r: dict[str, Any]) -> str:
    start, end = (r["period"][k][:16].replace("T", " ") for k in ("start", "end"))
    return f"{start} → {end} UTC"


def sections(r: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The report as titled groups of lines; the card and the text render these."""
    comps = r["maturity"].get("components") or {}
    tf = r["ttfr"]
    sat = "—" if r["satisfaction"] is None else f"{r['satisfaction']:.1f}/5"
    net_sentiment = r["sentiment"]["net"]
    social = [
        f"{r['flags']} flags · answered across teams {_pct(r['answer_rate'])}"
        f" · resolved {_pct(r['resolution_rate'])}",
        f"First response p50 {format_duration(tf['p50'])} / p90 {format_duration(tf['p90'])}"
        f" (business hours p50 {format_duration(tf['business_p50'])})",
        f"SLA attainment {_pct(r['sla_attainment'])}",
        f"Satisfaction {sat} · CSAT {_pct(r['csat'])}",
        f"Sentiment: {_pct(r['sentiment']['positive'])} positive,"
        f" {_pct(r['sentiment']['negative'])}"
        f" negative (net {'—' if net_sentiment is None else f'{net_sentiment:+.2f}'})",
    ]
    b = r["business"]
    cur = b["currency"]
    business = [
        f"Influenced value: revenue {_money(b['revenue'], cur)},"
        f" savings {_money(b['savings'], cur)}",
        f"Program cost {_money(b['program_cost'], cur)} · ROI (influenced) "
        + ("—" if b["roi"] is None else f"{b['roi'] * 100:.0f}%"),
        f"CRM coverage {_pct(b['crm_coverage'])}"
        + (
            " — most flags are not linked to the CRM"
            if b["crm_coverage"] is not None and b["crm_coverage"] < 0.2
            else ""
        ),
    ]
    objectives = [_objective(o, cur) for o in r["objectives"]] or ["No objectives configured."]
    net = r["network"]
    silos = [
        "Siloed teams: " + (", ".join(net["siloed_teams"]) or "none"),
        "New connections: " + (", ".join(f"{a}↔{b}" for a, b in net["new_connections"]) or "none"),
    ]
    if any(v is not None for v in comps.values()):
        silos.append(
            "Components: " + ", ".join(f"{k} {v:.2f}" for k, v in comps.items() if v is not None)
        )
    return [
        ("Social ROI", social),
        ("Business ROI", business),
        ("Objectives", objectives),
        ("Silos", silos),
        *([("Listening", listening_lines(r["listening"]))] if r.get("listening") else []),
    ]


def roi_card(r: dict[str, Any]) -> Card:
    title = f"/roi {r['org']}" + (f" · {r['team']}" if r.get("team") else "")
    facts: tuple[tuple[str, RichText], ...] = tuple(
        (name, ("\n".join(lines),)) for name, lines in sections(r)
    )
    return Card(
        title=title[:150],
        summary=_headline(r),
        quote=f"{_headline(r)}\n{_period(r)}",
        facts=facts,
    )


def roi_text(r: dict[str, Any]) -> str:
    lines = [
        f"{r['org']}" + (f" / {r['team']}" if r.get("team") else "") + f"  {_period(r)}",
        _headline(r),
        "",
    ]
    for name, body in sections(r):
        lines.append(name)
        lines.extend(f"  {line}" for line in body)
    return "\n".join(lines)
