"""The WMS connector: stock levels and outbound shipments over the warehouse's REST/JSON API, or
from Odoo Inventory.

Connection `waybill_wms`: host and port of the API, the bearer token as password, and extras
(page_size, timeouts). Both streams are changed-since feeds with an opaque cursor that the WMS
hands out with each page, and start at a time with `updated_since` (see
waybill.connectors.pages.read_feed).
With extra "profile": "odoo" the warehouse is Odoo Inventory, read like the ERP (the same
Connection fields as waybill_erp: db, protocol, login and password or API key): stock.quant per
product and internal location, and outgoing stock.picking, incrementally on write_date
(waybill.connectors.erp, streams "stock" and "shipments").
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

from waybill.connectors.connection import ConnectionInfo, get_connection
from waybill.connectors.erp import ErpConnector
from waybill.connectors.erp import page_from_raw as erp_page_from_raw
from waybill.connectors.http import client_for
from waybill.connectors.pages import Feed, Page, read_feed, since_cursor

FEEDS: dict[str, Feed] = {
    "stock": Feed("/api/v1/stock", "items", "next_cursor", since_param="updated_since"),
    "shipments": Feed("/api/v1/shipments", "items", "next_cursor", since_param="updated_since"),
}


class WmsConnector:
    def __init__(self, conn: ConnectionInfo, system: str = "wms") -> None:
        self.system = system
        self.page_size = int(conn.extra.get("page_size", 500))
        self.http = client_for(conn, system, {"Authorization": f"Bearer {conn.password or ''}"})

    @classmethod
    def from_connection(cls, conn_id: str = "waybill_wms") -> WmsConnector | ErpConnector:
        """The Connection's WMS: the REST API, or Odoo Inventory with extra "profile": "odoo"."""
        conn = get_connection(conn_id)
        if str(conn.extra.get("profile", "rest")).lower() == "odoo":
            return ErpConnector(conn, "wms")
        return cls(conn)

    def cursor_since(self, stream: str, when: dt.datetime) -> str:
        """The cursor of `stream` that reads the records changed at `when` (UTC) or later."""
        return since_cursor(when)

    def fetch(self, stream: str, cursor: str | None) -> Iterator[Page]:
        """Pages of `stream` (stock or shipments) changed after `cursor`."""
        return read_feed(self.http, stream, FEEDS[stream], cursor, page_size=self.page_size)


def page_from_raw(stream: str, raw: bytes) -> Page:
    """A logged page back into records (for replay), from the REST API or Odoo."""
    if raw.startswith(b'{"records":'):
        return erp_page_from_raw(stream, raw)
    return Page(raw, "", json.loads(raw)[FEEDS[stream].items], None)
