"""Flow wms_stock: pull stock levels and outbound shipments from the WMS into the hub.

Both streams go through the generic loop (waybill.flows.sync) with the WMS connector and the pure
mappings of mappings/wms.py. Shipments name ERP orders and customers; a shipment whose customer
the hub does not know yet waits, parked, and is stored when erp_sync brings the customer
(waybill.store.parking), so the two flows may run in any order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import partial

from waybill.canonical import model
from waybill.connectors import wms as connector
from waybill.connectors.pages import Page
from waybill.core.errors import ConfigError
from waybill.flows import replay, sync
from waybill.flows.counts import FlowCounts
from waybill.mappings import erp as erp_mapping
from waybill.mappings import wms as mapping
from waybill.store.store import Store

SYSTEM = "wms"
STREAMS: tuple[str, ...] = ("stock", "shipments")


def map_page(system: str, stream: str, page: Page) -> tuple[list[model.Entity], list[model.Reject]]:
    """Map one page of a WMS stream (pure): the REST API's, or Odoo Inventory's (its pages carry
    the Odoo context, and deliveries their commercial partners as ERP customers)."""
    if "settings" in page.related:
        ctx = erp_mapping.context_of(page.related)
        customers: list[model.Entity] = list(erp_mapping.customers_of("erp", page.related.get("partners", ())))
        if stream == "stock":
            quants = page.related.get("quants", [])
            entities, rejects = sync.collect(page.records, lambda r: mapping.odoo_stock(system, r, ctx, quants),
                                             mapping.odoo_stock_key)
        else:
            entities, rejects = sync.collect(page.records, lambda r: mapping.odoo_shipment(system, r, ctx),
                                             lambda r: str(r.get("name")))
        return customers + entities, rejects
    if stream == "stock":
        return sync.collect(page.records, partial(mapping.to_stock, system), mapping.stock_key)
    return sync.collect(page.records, partial(mapping.to_shipment, system), mapping.shipment_key)


replay_stock = sync.replayer("stock", connector.page_from_raw, map_page)
replay_shipments = sync.replayer("shipments", connector.page_from_raw, map_page)
for _stream in STREAMS:
    replay.register(SYSTEM, _stream, f"{__name__}:replay_{_stream}")


def run(store: Store | None = None, *, conn_id: str = "waybill_wms", streams: Sequence[str] = STREAMS,
        full_refresh: bool = False, since: dt.datetime | None = None, dry_run: bool = False) -> FlowCounts:
    """Pull `streams` once; returns the summed counts. `full_refresh` reads them from their start,
    `since` (UTC) reads what changed from then on instead of from the cursors (the REST API's
    `updated_since`, Odoo's write_date), `dry_run` writes nothing; see sync.Options."""
    unknown = sorted(set(streams) - set(STREAMS))
    if unknown:
        raise ConfigError(f"wms_stock: no stream {', '.join(unknown)}; the streams are {', '.join(STREAMS)}")
    store = store or Store.open()
    wms = connector.WmsConnector.from_connection(conn_id)
    start = {s: wms.cursor_since(s, since) for s in streams} if since else None
    return sync.pull_streams(store, SYSTEM, streams, fetch=wms.fetch, map_page=map_page,
                             options=sync.Options(full_refresh=full_refresh, start=start, dry_run=dry_run))
