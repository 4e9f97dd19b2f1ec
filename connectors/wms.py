"""The WMS connector: stock levels and outbound shipments over the warehouse's REST/JSON API.

Connection `waybill_wms`: host and port of the API, the bearer token as password, and extras
(page_size, timeouts). Both streams are changed-since feeds with an opaque cursor that the WMS
hands out with each page (see waybill.connectors.pages.read_feed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from waybill.connectors.connection import ConnectionInfo, get_connection
from waybill.connectors.http import client_for
from waybill.connectors.pages import Feed, Page, read_feed

FEEDS: dict[str, Feed] = {
    "stock": Feed("/api/v1/stock", "items", "next_cursor"),
    "shipments": Feed("/api/v1/shipments", "items", "next_cursor"),
}


class WmsConnector:
    def __init__(self, conn: ConnectionInfo, system: str = "wms") -> None:
        self.system = system
        self.page_size = int(conn.extra.get("page_size", 500))
        self.http = client_for(conn, system, {"Authorization": f"Bearer {conn.password or ''}"})

    @classmethod
    def from_connection(cls, conn_id: str = "waybill_wms") -> WmsConnector:
        return cls(get_connection(conn_id))

    def fetch(self, stream: str, cursor: str | None) -> Iterator[Page]:
        """Pages of `stream` (stock or shipments) changed after `cursor`."""
        return read_feed(self.http, stream, FEEDS[stream], cursor, page_size=self.page_size)


def page_from_raw(stream: str, raw: bytes) -> Page:
    """A logged page back into records (for replay)."""
    return Page(raw, "", json.loads(raw)[FEEDS[stream].items], None)
