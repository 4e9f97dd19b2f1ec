"""The TMS connector: the transport system's REST/JSON feed of delivery status events.

Connection `waybill_tms`: host and port of the API, the bearer token as password, and extras
(page_size, timeouts). The feed is read after a monotonically increasing event id, which is the
cursor, or from a time with `recorded_since` (see waybill.connectors.pages.read_feed).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

from waybill.connectors.connection import ConnectionInfo, get_connection
from waybill.connectors.http import client_for
from waybill.connectors.pages import Feed, Page, read_feed, since_cursor

EVENTS = Feed("/api/v1/events", "events", "last_id", cursor_param="after", since_param="recorded_since")


class TmsConnector:
    def __init__(self, conn: ConnectionInfo, system: str = "tms") -> None:
        self.system = system
        self.page_size = int(conn.extra.get("page_size", 500))
        self.http = client_for(conn, system, {"Authorization": f"Bearer {conn.password or ''}"})

    @classmethod
    def from_connection(cls, conn_id: str = "waybill_tms") -> TmsConnector:
        return cls(get_connection(conn_id))

    def cursor_since(self, stream: str, when: dt.datetime) -> str:
        """The cursor that reads the events recorded at `when` (UTC) or later."""
        return since_cursor(when)

    def fetch(self, stream: str, cursor: str | None) -> Iterator[Page]:
        """Pages of events recorded after event id `cursor` (stream: events)."""
        if stream != "events":
            raise ValueError(f"tms has no stream {stream!r}; it has: events")
        return read_feed(self.http, stream, EVENTS, cursor, page_size=self.page_size)


def page_from_raw(stream: str, raw: bytes) -> Page:
    """A logged page back into records (for replay)."""
    return Page(raw, "", json.loads(raw)[EVENTS.items], None)
