"""Flow wms_stock: pull stock levels and outbound shipments from the WMS into the hub.

Both streams go through the generic loop (waybill.flows.sync) with the WMS connector and the pure
mappings of mappings/wms.py. Shipments name ERP orders and customers; a shipment whose customer
the hub does not know yet waits, parked, and is stored when erp_sync brings the customer
(waybill.store.parking), so the two flows may run in any order.
"""

from __future__ import annotations

from functools import partial

from waybill.canonical import model
from waybill.connectors import wms as connector
from waybill.connectors.pages import Page
from waybill.flows import replay, sync
from waybill.flows.counts import FlowCounts
from waybill.mappings import wms as mapping
from waybill.store.store import Store

SYSTEM = "wms"
STREAMS: tuple[str, ...] = ("stock", "shipments")


def map_page(system: str, stream: str, page: Page) -> tuple[list[model.Entity], list[model.Reject]]:
    """Map one page of a WMS stream (pure)."""
    if stream == "stock":
        return sync.collect(page.records, partial(mapping.to_stock, system), mapping.stock_key)
    return sync.collect(page.records, partial(mapping.to_shipment, system), mapping.shipment_key)


replay_stock = sync.replayer("stock", connector.page_from_raw, map_page)
replay_shipments = sync.replayer("shipments", connector.page_from_raw, map_page)
for _stream in STREAMS:
    replay.register(SYSTEM, _stream, f"{__name__}:replay_{_stream}")


def run(store: Store | None = None, *, conn_id: str = "waybill_wms",
        streams: tuple[str, ...] = STREAMS) -> FlowCounts:
    """Pull every WMS stream once; returns the summed counts."""
    store = store or Store.open()
    wms = connector.WmsConnector.from_connection(conn_id)
    return sync.pull_streams(store, SYSTEM, streams, fetch=wms.fetch, map_page=map_page)
