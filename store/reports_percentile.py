"""Percentiles computed by the database (METRICS "Time figures": linear interpolation between
the closest ranks, as PostgreSQL's percentile_cont and NumPy's default).

PostgreSQL has percentile_cont. SQLite has no ordered-set aggregates, so there the same
arithmetic is spelled with window functions: rank each column's values, pick the two ranks
around q·(n - 1), and interpolate with PostgreSQL's own formula (lo + frac · (hi - lo), in double
precision), so both stores give the same numbers for the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    CTE,
    Float,
    Integer,
    Select,
    Subquery,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)
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
    base: CTE, columns: Sequence[str], group: str | None, qs: Sequence[float]
) -> Select[Any]:
    """A row per column (and group): its index, the group, and its value at each q. Each
    column ranks only its own values, so each sort is of one column's non-NULL values
    rather than of every row with every column; `base` is then read once per column
    (SQLite materialises a CTE used more than once)."""
    parts = []
    for i, name in enumerate(columns):
        value = base.c[name]
        part = [base.c[group]] if group else None
        ranked = (
            select(
                (base.c[group] if group else null()).label("g"),
                value.label("v"),
                func.row_number().over(partition_by=part, order_by=value).label("r"),
                func.count().over(partition_by=part).label("n"),
            )
            .where(value.is_not(None))
            .subquery(f"ranked{i}")
        )
        v, r, n = ranked.c.v, ranked.c.r, ranked.c.n
        picks: list[Any] = []
        for j, q in enumerate(qs):
            pos = _q(q) * (n - 1)
            first = cast(pos, Integer)  # floor: pos >= 0 whenever there is a value
            second = first + case((pos > first, 1), else_=0)  # ceil
            picks += [
                func.max(case((r == first + 1, v))).label(f"lo{j}"),
                func.max(case((r == second + 1, v))).label(f"hi{j}"),
                func.max(pos - first).label(f"f{j}"),
            ]
        chosen = select(ranked.c.g, *picks)
        picked = (chosen.group_by(ranked.c.g) if group else chosen).subquery(f"picked{i}")
        c = picked.c
        parts.append(
            select(
                literal(i).label("i"),
                c.g,
                *(c[f"lo{j}"] + c[f"f{j}"] * (c[f"hi{j}"] - c[f"lo{j}"]) for j in range(len(qs))),
            )
        )
    return parts[0] if len(parts) == 1 else union_all(*parts)  # type: ignore[return-value]


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
    out: dict[Any, dict[str, Quantiles]] = {}
    width = len(qs)
    if session.get_bind().dialect.name == "postgresql":
        for row in session.execute(_postgres(source.subquery("base"), columns, group, qs)).all():
            key = row[0] if group else None
            values = [None if v is None else float(v) for v in (row[1:] if group else row)]
            out[key] = {
                name: tuple(values[i * width : (i + 1) * width]) for i, name in enumerate(columns)
            }
        return out
    # A group with no value in a column has no row for it.
    for i, key, *values in session.execute(_ranked(source.cte("base"), columns, group, qs)):
        mine = out.setdefault(key, dict.fromkeys(columns, (None,) * width))
        mine[columns[i]] = tuple(None if v is None else float(v) for v in values)
    return out
