"""Flow erp_sync: pull customers, orders, invoices and payments from the ERP; write back EDI orders.

Pull: each stream through the generic loop (waybill.flows.sync) with the Odoo connector and the pure
mappings of mappings/erp.py, customers first so orders and invoices find their customer.
Push: orders that partners sent by EDI (outbox target "erp") are created as sale.order, found first
by client_order_ref so a redelivery creates nothing twice. A permanent refusal (unknown SKU, no ERP
account for the customer, an Odoo validation error) dead-letters that outbox row with the reason;
a transient one leaves it pending for the next run.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from waybill.canonical import model
from waybill.canonical.views import ErpOrderView
from waybill.connectors import erp as connector
from waybill.connectors.http import TransientHTTPError
from waybill.connectors.pages import Page
from waybill.core.errors import RecordRejected
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
        lines, stray = _lines_by_order(page.related.get("lines", []))

        def to_order(rec: dict[str, Any]) -> model.Order:
            mine = lines.get(rec["id"], [])
            if stray:  # an unreadable line may be one of this order's: stored without it, the order would be wrong
                listed, read = rec.get("order_line") or (), {ln.get("id") for ln in mine}
                missing = [i for i in listed if i not in read]
                if missing or not isinstance(listed, list):
                    raise RecordRejected(f"line {missing[0] if missing else listed!r} could not be read",
                                         "order.order_line")
            return mapping.to_order(system, rec, mine)

        entities, rejects = sync.collect(page.records, to_order, key_of)
        return entities, [*rejects, *stray]
    one = {"customers": mapping.to_customer, "invoices": mapping.to_invoice, "payments": mapping.to_payment}[stream]
    return sync.collect(page.records, partial(one, system), key_of)


def _lines_by_order(lines: list[Any]) -> tuple[dict[int, list[dict[str, Any]]], list[model.Reject]]:
    """An order page's lines by order id, and a dead letter for each line whose order cannot be read."""
    by_order: dict[int, list[dict[str, Any]]] = {}
    stray: list[model.Reject] = []
    for ln in lines:
        order = ln.get("order_id") if isinstance(ln, dict) else None
        if isinstance(order, list) and order and type(order[0]) is int:
            by_order.setdefault(order[0], []).append(ln)
            continue
        line_id = ln.get("id") if isinstance(ln, dict) else None
        stray.append(model.Reject(f"sale.order.line/{line_id}", "malformed line: no order id", "order_line.order_id",
                                  json.dumps(ln, sort_keys=True, default=str).encode()))
    return by_order, stray


replay_customers = sync.replayer("customers", connector.page_from_raw, map_page)
replay_orders = sync.replayer("orders", connector.page_from_raw, map_page)
replay_invoices = sync.replayer("invoices", connector.page_from_raw, map_page)
replay_payments = sync.replayer("payments", connector.page_from_raw, map_page)
for _stream in STREAMS:
    replay.register(SYSTEM, _stream, f"{__name__}:replay_{_stream}")


def run(store: Store | None = None, *, conn_id: str = "waybill_erp", streams: tuple[str, ...] = STREAMS,
        push: bool = True) -> FlowCounts:
    """Pull every stream, then write back pending EDI orders; returns the summed counts."""
    store = store or Store.open()
    erp = connector.ErpConnector.from_connection(conn_id)
    counts = sync.pull_streams(store, SYSTEM, streams, fetch=erp.fetch, map_page=map_page)
    if push:
        counts += push_orders(store, erp)
    return counts


def push_orders(store: Store, erp: connector.ErpConnector, limit: int = 500) -> FlowCounts:
    """Create pending EDI orders in the ERP: created (published), found there already (unchanged),
    refused for good (dead) or left pending after a transient failure (retry)."""
    counts = FlowCounts()
    worker = outbox.worker_name()
    with store.begin() as conn:  # claimed: two workers never search-then-create the same order
        items = outbox.claim(conn, SYSTEM, worker=worker, now=utcnow(), lease=store.claim_lease, limit=limit)
    with store.engine.connect() as conn:
        views = {i.id: erp_reads.order(conn, i.entity_id, SYSTEM) for i in items}
    try:
        for item in items:
            counts += _push_one(store, erp, item, views[item.id])
    finally:  # rows not settled (the run stopped): free for the next run at once
        with store.begin() as conn:
            outbox.release(conn, [i.id for i in items], worker)
    return counts


def _push_one(store: Store, erp: connector.ErpConnector, item: outbox.OutboxItem, view: ErpOrderView) -> FlowCounts:
    """Create one claimed EDI order in the ERP, or settle why not."""
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
        return FlowCounts(dead=1)
    except TransientHTTPError as err:
        _settle(store, item, str(err), dead=False)
        return FlowCounts(retry=1)
    _settle(store, item, None, dead=False)
    event(log, "order-written-back", order=number, erp_id=erp_id, outcome=outcome, key=item.idempotency_key)
    return FlowCounts(published=1) if outcome == "ok" else FlowCounts(unchanged=1)


def _settle(store: Store, item: outbox.OutboxItem, reason: str | None, dead: bool) -> None:
    with store.begin() as conn:
        if reason is None:
            outbox.mark_delivered(conn, [item.id], utcnow())
        else:
            outbox.mark_failed(conn, item.id, reason, dead=dead)
            event(log, "write-back-failed", target="erp", entity=item.entity, entity_id=item.entity_id,
                  dead=dead, reason=reason)
