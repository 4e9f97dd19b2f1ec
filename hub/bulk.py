"""Bulk row writes for the store's hot paths, the fastest way each database offers.

Rows are tuples in a given column order holding Python values (str, int, Decimal, date, datetime,
bool, None). PostgreSQL gets them through COPY inside the current transaction; SQLite through the
driver's executemany, with sqlite3 adapters (registered here) storing Decimal, date and datetime the
way SQLAlchemy's SQLite dialect reads them back. Ids of new rows
are allocated up front (a sequence range, or max(id) under SQLite's write lock) so that children
and outbox rows can reference them without a RETURNING round trip per row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
from collections.abc import Sequence
from decimal import Decimal

import json

from sqlalchemy import ColumnElement, Connection, String, Table, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY

# Adapters run in the driver, per value, without a Python loop of ours; they match what
# SQLAlchemy's SQLite types write (REAL for Numeric, ISO text for dates and times).
sqlite3.register_adapter(Decimal, float)
sqlite3.register_adapter(dt.date, dt.date.isoformat)
sqlite3.register_adapter(dt.datetime, lambda v: v.isoformat(sep=" ", timespec="microseconds"))


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


def in_list(conn: Connection, column: ColumnElement, values: Sequence[str]) -> ColumnElement[bool]:
    """`column IN values` with the whole list as ONE bound parameter (a JSON array on SQLite, an
    array on PostgreSQL): the statement stays cached instead of being re-rendered for every list."""
    if conn.dialect.name == "postgresql":
        return column == func.any(bindparam("keys", list(values), type_=ARRAY(String)))
    listed = select(literal_column("value")).select_from(func.json_each(bindparam("keys", json.dumps(list(values)))))
    return column.in_(listed.scalar_subquery())


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert `rows` (tuples in `columns` order) into `table`."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _copy(conn, table, columns, rows)
    else:
        sql = f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
        conn.exec_driver_sql(sql, rows)


def _copy(conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    buf.seek(0)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:  # type: ignore[union-attr]
        cur.copy_expert(f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN WITH (FORMAT csv)', buf)
