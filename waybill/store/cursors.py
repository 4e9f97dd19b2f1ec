"""The streams' cursors as the operations commands see them: list them, and forget one so that the
stream's next run reads it from the start (a full refresh; the store's apply writes only what
differs, so a full refresh changes nothing that is already right).

And each stream's last complete pass (one that read it to its end, waybill.flows.sync): the hub
holds every change the source had made before that pass started. A cursor alone cannot say so: it
moves page by page, and stays put while the source changes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select

from waybill.store import bulk
from waybill.store.schema import cursor, stream_pass


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


def record_pass(conn: Connection, system: str, stream: str, *, started: dt.datetime, finished: dt.datetime) -> None:
    """A pass over (system, stream) that started at `started` read the stream to its end."""
    where = (stream_pass.c.system == system, stream_pass.c.stream == stream)
    # the first pass creates the row; of two overlapping first passes, the other's insert does nothing
    if not bulk.insert_if_absent(conn, stream_pass, system=system, stream=stream, started_at=started,
                                 finished_at=finished):
        # a pass that started before this one and ended after it does not set the time back
        conn.execute(stream_pass.update().where(*where, stream_pass.c.started_at <= started)
                     .values(started_at=started, finished_at=finished))


def complete_since(conn: Connection, system: str, stream: str) -> dt.datetime | None:
    """When the last pass over (system, stream) that read it to its end started (None: none did)."""
    return conn.execute(select(stream_pass.c.started_at).where(
        stream_pass.c.system == system, stream_pass.c.stream == stream)).scalar()
