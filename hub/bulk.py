"""Bulk row writes for the store's hot paths, the fastest way each database offers.

Rows are tuples in a given column order holding Python values (str, int, Decimal, date, datetime,
bool, None). PostgreSQL gets them through COPY inside the current transaction; SQLite through the
driver's executemany with values converted once to what sqlite3 stores natively. Ids of new rows
are allocated up front (a sequence range, or max(id) under SQLite's write lock) so that children
and outbox rows can reference them without a RETURNING round trip per row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, func, select


def allocate_ids(conn: Connection, table: Table, n: int) -> list[int]:
    """Reserve `n` new primary keys of `table` for this transaction."""
    if n == 0:
        return []
    if conn.dialect.name == "postgresql":
        seq = f"{table.name}_id_seq"
        rows = conn.exec_driver_sql(f"SELECT nextval('{seq}') FROM generate_series(1, {int(n)})")
        return [r[0] for r in rows]
    # SQLite: every store transaction holds the write lock (BEGIN IMMEDIATE), so max(id) is ours.
    start = (conn.execute(select(func.max(table.c.id))).scalar() or 0) + 1
    return list(range(start, start + n))


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert `rows` (tuples in `columns` order) into `table`."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _copy(conn, table, columns, rows)
    else:
        sql = f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
        conn.exec_driver_sql(sql, _sqlite_values(table, columns, rows))


def _copy(conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    buf.seek(0)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:  # type: ignore[union-attr]
        cur.copy_expert(f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN WITH (FORMAT csv)', buf)


def _sqlite_values(table: Table, columns: Sequence[str], rows: list[tuple]) -> list[tuple]:
    converters: list[Callable[[Any], Any] | None] = [_converter(table.c[c].type.python_type) for c in columns]
    if not any(converters):
        return rows
    idx = [(i, conv) for i, conv in enumerate(converters) if conv is not None]
    out = []
    for row in rows:
        values = list(row)
        for i, conv in idx:
            v = values[i]
            if v is not None:
                values[i] = conv(v)
        out.append(tuple(values))
    return out


def _converter(python_type: type) -> Callable[[Any], Any] | None:
    """How a value of a column's Python type is stored by SQLAlchemy's SQLite dialect."""
    if python_type is Decimal:
        return float
    if python_type is dt.datetime:
        return lambda v: v.isoformat(sep=" ", timespec="microseconds")
    if python_type is dt.date:
        return dt.date.isoformat
    if python_type is bool:
        return int
    return None
