"""Bulk row writes for the store's hot paths, the fastest way each database offers.

Rows are tuples in a given column order holding Python values (str, int, Decimal, date, datetime,
bool, None). PostgreSQL gets them through COPY inside the current transaction; SQLite through multi-row INSERT
statements, with sqlite3 adapters (registered here) storing Decimal, date and datetime the way
SQLAlchemy's SQLite dialect reads them back. Ids of new rows
are allocated up front (a sequence range, or max(id) under SQLite's write lock) so that children
and outbox rows can reference them without a RETURNING round trip per row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from itertools import chain
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    Table,
    bindparam,
    column,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy import Sequence as DbSequence
from sqlalchemy import table as sql_table
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

# Adapters run in the driver, per value, without a Python loop of ours; they match what
# SQLAlchemy's SQLite types write (REAL for Numeric, ISO text for dates and times).
# Memoised: amounts, quantities and dates repeat a lot, and a batch stamps every row with one `now`
# (numerically equal Decimals are equal keys and give the same float, so the memo is exact).
sqlite3.register_adapter(Decimal, lru_cache(maxsize=8192)(float))
sqlite3.register_adapter(dt.date, lru_cache(maxsize=4096)(dt.date.isoformat))


@lru_cache(maxsize=64)
def _datetime_text(value: dt.datetime) -> str:
    return value.isoformat(sep=" ", timespec="microseconds")


sqlite3.register_adapter(dt.datetime, _datetime_text)


def allocate_ids(conn: Connection, table: Table, n: int) -> list[int]:
    """Reserve `n` new primary keys of `table` for this transaction."""
    if n == 0:
        return []
    if conn.dialect.name == "postgresql":
        seq = DbSequence(f"{table.name}_id_seq")
        return list(conn.execute(select(seq.next_value()).select_from(func.generate_series(1, n))).scalars())
    # SQLite: every store transaction holds the write lock (BEGIN IMMEDIATE), so max(id) is ours.
    start = (conn.execute(select(func.max(table.c.id))).scalar() or 0) + 1
    return list(range(start, start + n))


def in_list(conn: Connection, column: ColumnElement[Any], values: Sequence[str]) -> ColumnElement[bool]:
    """`column IN values` with the whole list as ONE bound parameter (a JSON array on SQLite, an
    array on PostgreSQL): the statement stays cached instead of being re-rendered for every list."""
    if conn.dialect.name == "postgresql":
        return column == func.any(bindparam("keys", list(values), type_=ARRAY(String)))
    listed: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam("keys", json.dumps(list(values)))))
    return column.in_(listed.scalar_subquery())


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert `rows` (tuples in `columns` order) into `table`."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _copy(conn, table, columns, rows)
    else:
        _sqlite_insert(conn, table, columns, rows)


def insert_if_absent(conn: Connection, table: Table, **values: Any) -> bool:
    """Insert one row unless its key is taken (ON CONFLICT DO NOTHING, on PostgreSQL and SQLite);
    True when this call inserted it. Of two workers inserting the same key at once, one wins and
    the other's insert does nothing (PostgreSQL waits for the first to commit)."""
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    return bool(conn.execute(dialect_insert(table).values(**values).on_conflict_do_nothing()).rowcount)


#: Bound parameters per statement at most (SQLite's default limit since 3.32 is 32766).
SQLITE_MAX_PARAMS = 32766


def _sqlite_insert(conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Many rows per INSERT: executemany steps the statement once per row, and every step releases
    and re-takes the GIL, which starves the writing thread beside a busy one (a page being read and
    decoded). Chunks are powers of two, so a handful of statement texts per table stay cached."""
    width = len(columns)
    first, more = _sqlite_statement(table.name, tuple(columns))
    most = 1 << ((SQLITE_MAX_PARAMS // width).bit_length() - 1)
    at = 0
    while at < len(rows):
        n = min(most, 1 << ((len(rows) - at).bit_length() - 1))
        conn.exec_driver_sql(first + more * (n - 1), tuple(chain.from_iterable(rows[at:at + n])))
        at += n


@lru_cache(maxsize=256)
def _sqlite_statement(table: str, columns: tuple[str, ...]) -> tuple[str, str]:
    """The INSERT of one row into `columns` of `table` (columns in this order) and the text that
    adds one more row to it."""
    one_row = insert(sql_table(table, *(column(c) for c in columns)))
    first = str(one_row.compile(dialect=sqlite.dialect()))
    return first, ", " + first[first.rindex("("):]


def _copy(conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    buf.seek(0)
    raw = conn.connection.driver_connection
    # psycopg2's connection, typed by SQLAlchemy as possibly absent (it is there inside a transaction)
    with raw.cursor() as cur:  # type: ignore[union-attr]
        cur.copy_expert(f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN WITH (FORMAT csv)', buf)
