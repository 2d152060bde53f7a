"""Durations measured in SQL for the statistics dashboard, so that only numbers leave the database.

`micros_between(later, earlier)`: the whole microseconds from one UTC timestamp to another, exact on both databases
(an integer: PostgreSQL's epoch difference is an exact numeric; SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff', read as
whole seconds plus the six digits, never through julianday's double). On PostgreSQL the dashboard then takes its
medians and percentiles in SQL (`percentile_cont` / `percentile_disc` over the same double Python would compute:
µs ÷ 10⁶ ÷ the unit, each step one correctly rounded division); on SQLite these integers are read back and
`quality.figures.median` / `percentile` applied — the same value to the last bit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Float, case, cast
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

MICROS = 1_000_000


class micros_between(FunctionElement[int]):
    """Whole microseconds from `earlier` to `later` (negative when later is earlier)."""

    type = BigInteger()
    inherit_cache = True
    name = "micros_between"


@compiles(micros_between, "postgresql")
def _postgresql(element: micros_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) * 1000000 AS BIGINT)"


def _sqlite_micros(column: str) -> str:
    # Whole seconds of the first 19 characters (strftime would round a fraction to milliseconds) and the digits
    # after the point; a value stored without them reads 0 there.
    return (
        f"(CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER) * 1000000"
        f" + CAST(substr({column}, 21, 6) AS INTEGER))"
    )


@compiles(micros_between, "sqlite")
def _sqlite(element: micros_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"({_sqlite_micros(later)} - {_sqlite_micros(earlier)})"


def in_sql(session: AsyncSession) -> bool:
    """Whether the medians and percentiles are taken by the database (PostgreSQL) rather than in Python."""
    return session.get_bind().dialect.name == "postgresql"


def in_units(micros: Any, unit_seconds: int) -> Any:
    """The SQL double of `micros` in minutes (60) or days (86400), never below 0: max(µs / 10⁶ / unit, 0.0);
    NULL stays NULL (not GREATEST, which would make it 0)."""
    return case((micros < 0, 0.0), else_=cast(micros, Float) / float(MICROS) / float(unit_seconds))


def of_units(micros: int, unit_seconds: int) -> float:
    """The same in Python."""
    return max(micros / MICROS / unit_seconds, 0.0)
