"""Flow erp_sync: pull customers, orders, invoices and payments from the ERP; write back EDI orders.

Pull: each stream through the generic loop (waybill.flows.sync) with the Odoo connector and the pure
mappings of mappings/erp.py, customers first so orders and invoices find their customer.
Push: orders that partners sent by EDI (outbox target "erp") are created as sale.order, found first
by client_order_ref so a redelivery creates nothing twice. A permanent refusal (unknown SKU, no ERP
account for the customer, an Odoo validation error) dead-letters that outbox row with the reason;
a transient one leaves it pending for the next run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import partial
from typing import Any

from waybill.canonical import model
from waybill.connectors import erp as connector
from waybill.connectors.http import TransientHTTPError
from waybill.connectors.pages import Page
from waybill.core.errors import ConfigError, RecordRejected
from waybill.core.logs import event, get_logger
from waybill.flows import replay, sync
from waybill.flows.counts import FlowCounts
from waybill.mappings import erp as mapping
from waybill.store import outbox
from waybill.store.reads import erp as erp_reads
from waybill.store.store import Store, utcnow

log = get_logger("flows.erp_sync")
SYSTEM = "erp"
STREAMS: tuple[str, ...] = ("customers", "orders", "invoices", "payments")


def map_page(system: str, stream: str, page: Page) -> tuple[list[model.Entity], list[model.Reject]]:
    """Map one page of an ERP stream (pure)."""
    spec = connector.STREAMS[stream]
    key_of = mapping.key_of(spec.model)
    if stream == "orders":
        lines: dict[int, list[dict[str, Any]]] = {}
        for ln in page.related.get("lines", []):
            lines.setdefault(ln["order_id"][0], []).append(ln)
        return sync.collect(page.records, lambda r: mapping.to_order(system, r, lines.get(r["id"], ())), key_of)
    one = {"customers": mapping.to_customer, "invoices": mapping.to_invoice, "payments": mapping.to_payment}[stream]
    return sync.collect(page.records, partial(one, system), key_of)


replay_customers = sync.replayer("customers", connector.page_from_raw, map_page)
replay_orders = sync.replayer("orders", connector.page_from_raw, map_page)
replay_invoices = sync.replayer("invoices", connector.page_from_raw, map_page)
replay_payments = sync.replayer("payments", connector.page_from_raw, map_page)
for _stream in STREAMS:
    replay.register(SYSTEM, _stream, f"{__name__}:replay_{_stream}")


def run(store: Store | None = None, *, conn_id: str = "waybill_erp", streams: Sequence[str] = STREAMS,
        push: bool = True, full_refresh: bool = False, since: dt.datetime | None = None,
        dry_run: bool = False) -> FlowCounts:
    """Pull `streams`, then write back pending EDI orders; returns the summed counts.

    `full_refresh` reads the streams from their start, `since` (UTC) reads what changed from then on
    instead of from the cursors, `dry_run` writes nothing (and writes no orders back), see sync.Options."""
    unknown = sorted(set(streams) - set(STREAMS))
    if unknown:
        raise ConfigError(f"erp_sync: no stream {', '.join(unknown)}; the streams are {', '.join(STREAMS)}")
    store = store or Store.open()
    erp = connector.ErpConnector.from_connection(conn_id)
    start = {s: erp.cursor_since(s, since) for s in streams} if since else None
    options = sync.Options(full_refresh=full_refresh, start=start, dry_run=dry_run)
    counts = sync.pull_streams(store, SYSTEM, streams, fetch=erp.fetch, map_page=map_page, options=options)
    if push and not dry_run:
        counts += push_orders(store, erp)
    return counts


def push_orders(store: Store, erp: connector.ErpConnector, limit: int = 500) -> FlowCounts:
    """Create pending EDI orders in the ERP: created (published), found there already (unchanged),
    refused for good (dead) or left pending after a transient failure (retry)."""
    counts = FlowCounts()
    with store.engine.connect() as conn:
        items = outbox.pending(conn, SYSTEM, limit)
        views = {i.id: erp_reads.order(conn, i.entity_id, SYSTEM) for i in items}
    for item in items:
        view = views[item.id]
        number = view.order.ref.external_id
        try:
            partner = mapping.partner_id(view.customer_erp_ref)
            products = erp.product_ids([ln.sku for ln in view.lines if ln.sku])
            values = mapping.to_sale_order(view, partner, products)
            outcome, erp_id = erp.create_order(values)
        except (RecordRejected, connector.ErpError) as err:
            reason = err.reason
            if isinstance(err, RecordRejected) and err.field_path:
                reason += f" at {err.field_path}"
            _settle(store, item, f"erp refused order {number}: {reason}", dead=True)
            counts.dead += 1
            continue
        except TransientHTTPError as err:
            _settle(store, item, str(err), dead=False)
            counts.retry += 1
            continue
        _settle(store, item, None, dead=False)
        if outcome == "ok":
            counts.published += 1
        else:
            counts.unchanged += 1
        event(log, "order-written-back", order=number, erp_id=erp_id, outcome=outcome, key=item.idempotency_key)
    return counts


def _settle(store: Store, item: outbox.OutboxItem, reason: str | None, dead: bool) -> None:
    with store.begin() as conn:
        if reason is None:
            outbox.mark_delivered(conn, [item.id], utcnow())
        else:
            outbox.mark_failed(conn, item.id, reason, dead=dead)
            event(log, "write-back-failed", target="erp", entity=item.entity, entity_id=item.entity_id,
                  dead=dead, reason=reason)
