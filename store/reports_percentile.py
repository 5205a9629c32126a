"""Percentiles computed by the database (METRICS "Time figures": linear interpolation between
the closest ranks, as PostgreSQL's percentile_cont and NumPy's default).

PostgreSQL has percentile_cont. SQLite has no ordered-set aggregates, so there the same
arithmetic is spelled with window functions: rank every value, pick the two ranks around
q·(n - 1), and interpolate with PostgreSQL's own formula (lo + frac · (hi - lo), in double
precision), so both stores give the same numbers for the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, Integer, Select, Subquery, bindparam, case, cast, func, select
from sqlmodel import Session

QUANTILES = (0.5, 0.9)
Quantiles = tuple[float | None, ...]


def _q(value: float) -> Any:
    return bindparam(None, value, type_=Float())


def _postgres(
    base: Subquery, columns: Sequence[str], group: str | None, qs: Sequence[float]
) -> Select[Any]:
    keys = [base.c[group]] if group else []
    values = [
        func.percentile_cont(_q(q)).within_group(base.c[name]) for name in columns for q in qs
    ]
    stmt = select(*keys, *values)
    return stmt.group_by(*keys) if keys else stmt


def _ranked(
    base: Subquery, columns: Sequence[str], group: str | None, qs: Sequence[float]
) -> Select[Any]:
    part = [base.c[group]] if group else None
    ranked_cols: list[Any] = [base.c[group].label("g")] if group else []
    for i, name in enumerate(columns):
        value = base.c[name]
        ranked_cols += [
            value.label(f"v{i}"),
            func.row_number()
            .over(partition_by=part, order_by=value.asc().nulls_last())
            .label(f"r{i}"),
            func.count(value).over(partition_by=part).label(f"n{i}"),
        ]
    ranked = select(*ranked_cols).subquery("ranked")
    keys = [ranked.c.g] if group else []
    parts: list[Any] = []
    for i in range(len(columns)):
        v, r, n = ranked.c[f"v{i}"], ranked.c[f"r{i}"], ranked.c[f"n{i}"]
        for j, q in enumerate(qs):
            pos = _q(q) * (n - 1)
            first = cast(pos, Integer)  # floor: pos >= 0 whenever there is a value
            second = first + case((pos > first, 1), else_=0)  # ceil
            parts += [
                func.max(case((r == first + 1, v))).label(f"lo{i}_{j}"),
                func.max(case((r == second + 1, v))).label(f"hi{i}_{j}"),
                func.max(pos - first).label(f"f{i}_{j}"),
            ]
    chosen = select(*keys, *parts)
    picked = (chosen.group_by(*keys) if keys else chosen).subquery("picked")
    out: list[Any] = [picked.c.g] if group else []
    for i in range(len(columns)):
        for j in range(len(qs)):
            lo, hi, frac = picked.c[f"lo{i}_{j}"], picked.c[f"hi{i}_{j}"], picked.c[f"f{i}_{j}"]
            out.append(lo + frac * (hi - lo))
    return select(*out)


def percentiles(
    *,
    session: Session,
    source: Select[Any],
    columns: Sequence[str],
    group: str | None = None,
    qs: Sequence[float] = QUANTILES,
) -> dict[Any, dict[str, Quantiles]]:
    """{group value (None without `group`): {column: (value at each q, None if no values)}}.
    NULLs are left out, as by percentile_cont."""
    build = _postgres if session.get_bind().dialect.name == "postgresql" else _ranked
    base = source.subquery("base")
    out: dict[Any, dict[str, Quantiles]] = {}
    width = len(qs)
    for row in session.execute(build(base, columns, group, qs)).all():
        key = row[0] if group else None
        values = [None if v is None else float(v) for v in (row[1:] if group else row)]
        out[key] = {
            name: tuple(values[i * width : (i + 1) * width]) for i, name in enumerate(columns)
        }
    return out
