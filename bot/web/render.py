"""HTML answers: Jinja2 templates (autoescaped, package data), the filters they format with,
and the security headers every dashboard answer carries."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.core.timecalc import format_duration

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # A login link's token never leaves in a Referer; same-origin (not no-referrer) so
    # that the browser still sends a real Origin with our own forms.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def secure(response: web.StreamResponse) -> web.StreamResponse:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def pct(value: float | None, places: int = 0) -> str:
    return "—" if value is None else f"{value * 100:.{places}f}%"


def money(value: float | None, currency: str = "") -> str:
    return "—" if value is None else f"{value:,.0f} {currency}".strip()


def signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.2f}"


SHARE_KPIS = ("sla_attainment", "csat", "answer_rate", "resolution_rate", "business_roi")
MONEY_KPIS = ("retained_value", "value")


def kpi(value: float | None, name: str, currency: str = "") -> str:
    """An objective's figure in its KPI's own unit."""
    if value is None:
        return "—"
    if name == "ttfr_p50":
        return format_duration(value)
    if name in SHARE_KPIS:
        return pct(value)
    if name in MONEY_KPIS:
        return money(value, currency)
    return f"{value:,.0f}"


def make_env(timezone: str) -> Environment:
    env = Environment(
        loader=PackageLoader("bot.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    tz = ZoneInfo(timezone)

    def when(at: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return "—" if at is None else at.astimezone(tz).strftime(fmt)

    def days(period: dict[str, str]) -> str:
        """A report's [start, end) as its first and last local days."""
        start = datetime.fromisoformat(period["start"]).astimezone(tz)
        end = datetime.fromisoformat(period["end"]).astimezone(tz) - timedelta(microseconds=1)
        return f"{start:%d %b %Y} to {end:%d %b %Y}"

    env.filters.update(
        pct=pct,
        money=money,
        duration=format_duration,
        signed=signed,
        when=when,
        days=days,
        kpi=kpi,
    )
    env.globals["tz_name"] = timezone
    return env


def page(
    env: Environment, name: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    html = env.get_template(name).render(**context)
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    secure(response)
    return response
