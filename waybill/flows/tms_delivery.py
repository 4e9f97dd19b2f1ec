"""Flow tms_delivery: pull delivery status events from the TMS and move shipments' status.

The event feed goes through the generic loop (waybill.flows.sync) with the TMS connector and the pure
mapping of mappings/tms.py; the store keeps each event once and applies the status rules (no
regression, terminal statuses stay). Events find their shipment by WMS id or tracking number; an
event for a shipment not known yet waits, parked, and is stored when wms_stock brings the shipment
(waybill.store.parking), so the flows may run in any order.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from waybill.canonical import model
from waybill.connectors import tms as connector
from waybill.connectors.pages import Page
from waybill.flows import replay, sync
from waybill.flows.counts import FlowCounts
from waybill.mappings import tms as mapping
from waybill.store.store import Store

SYSTEM = "tms"
STREAM = "events"


def map_page(system: str, stream: str, page: Page) -> tuple[list[model.Entity], list[model.Reject]]:
    """Map one page of TMS events (pure)."""
    return sync.collect(page.records, partial(mapping.to_event, system), mapping.event_key)


replay_events = sync.replayer(STREAM, connector.page_from_raw, map_page)
replay.register(SYSTEM, STREAM, f"{__name__}:replay_events")


def run(store: Store | None = None, *, conn_id: str = "waybill_tms", full_refresh: bool = False,
        since: dt.datetime | None = None, dry_run: bool = False) -> FlowCounts:
    """Pull the event feed once; returns its counts. `full_refresh` reads it from its start, `since`
    (UTC) reads the events recorded from then on instead of from the cursor (the API's
    `recorded_since`), `dry_run` writes nothing; see sync.Options."""
    store = store or Store.open()
    tms = connector.TmsConnector.from_connection(conn_id)
    start = {STREAM: tms.cursor_since(STREAM, since)} if since else None
    return sync.pull_streams(store, SYSTEM, (STREAM,), fetch=tms.fetch, map_page=map_page,
                             options=sync.Options(full_refresh=full_refresh, start=start, dry_run=dry_run))
