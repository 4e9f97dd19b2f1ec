"""The streams' cursors as the operations commands see them: list them, and forget one so that the
stream's next run reads it from the start (a full refresh; the store's apply writes only what
differs, so a full refresh changes nothing that is already right)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select

from waybill.store.schema import cursor


@dataclass(frozen=True)
class Cursor:
    system: str
    stream: str
    value: str
    updated_at: dt.datetime


def all_cursors(conn: Connection) -> list[Cursor]:
    """Every stream's cursor, by system and stream."""
    q = select(cursor.c.system, cursor.c.stream, cursor.c.value, cursor.c.updated_at).order_by(
        cursor.c.system, cursor.c.stream)
    return [Cursor(*r) for r in conn.execute(q)]


def reset(conn: Connection, system: str, stream: str) -> Cursor | None:
    """Forget the cursor of (system, stream); returns what it was (None: there was none)."""
    before = next((c for c in all_cursors(conn) if (c.system, c.stream) == (system, stream)), None)
    conn.execute(delete(cursor).where(cursor.c.system == system, cursor.c.stream == stream))
    return before
