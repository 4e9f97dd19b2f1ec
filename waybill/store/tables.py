"""The hub's tables as they are stored, by name: row counts for `waybill status`, whole rows for
inspection (support, tests), and emptying them all (tests sharing one PostgreSQL database)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, Table, delete, func, select, text

from waybill.store.schema import metadata


def _table(name: str) -> Table:
    table = metadata.tables.get(name)
    if table is None:
        raise KeyError(f"the hub has no table {name!r}")
    return table


def count(conn: Connection, name: str) -> int:
    """How many rows table `name` holds."""
    return int(conn.execute(select(func.count()).select_from(_table(name))).scalar_one())


def rows(conn: Connection, name: str, *, order_by: Sequence[str] = ()) -> list[Row[Any]]:
    """Every row of table `name` with all its columns, ordered by the columns `order_by`."""
    table = _table(name)
    return list(conn.execute(select(table).order_by(*(table.c[c] for c in order_by))))


def clear(conn: Connection) -> None:
    """Empty every table of the hub (and restart PostgreSQL's id sequences)."""
    if conn.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return
    for table in reversed(metadata.sorted_tables):  # children before the rows they reference
        conn.execute(delete(table))
