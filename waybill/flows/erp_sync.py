"""Flow erp_sync: pull customers, orders, invoices and payments from the ERP; write back EDI orders.

Pull: each stream through the generic loop (waybill.flows.sync) with the Odoo connector and the pure
mappings of mappings/erp.py, customers first so orders and invoices find their customer.
Push: orders that partners sent by EDI (outbox target "erp") are created as sale.order, found first
by client_order_ref so a redelivery creates nothing twice. A permanent refusal (unknown SKU, no ERP
account for the customer, an Odoo validation error) dead-letters that outbox row with the reason;
a transient one leaves it pending for the next run.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

from sqlalchemy import Connection, select

from waybill.canonical import model
from waybill.connectors import erp as connector
from waybill.connectors.http import TransientHTTPError
from waybill.connectors.pages import Page
from waybill.core.errors import RecordRejected
from waybill.core.logs import event, get_logger
from waybill.flows import replay, sync
from waybill.mappings import erp as mapping
from waybill.store import outbox
from waybill.store.schema import customer_identity, order_line, orders
from waybill.store.store import Store, utcnow

log = get_logger("flows.erp_sync")
SYSTEM = "erp"
STREAMS: tuple[str, ...] = ("customers", "orders", "invoices", "payments")


def map_page(system: str, stream: str, page: Page) -> tuple[list[model.Entity], list[model.Reject]]:
    """Map one page of an ERP stream (pure)."""
    spec = connector.STREAMS[stream]
    key_of = mapping.key_of(spec.model)
    if stream == "orders":
        lines: dict[int, list[dict]] = {}
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


def run(store: Store | None = None, conn_id: str = "waybill_erp", streams: tuple[str, ...] = STREAMS,
        push: bool = True, **_options: object) -> dict[str, int]:
    """Pull every stream, then write back pending EDI orders; returns the summed counts."""
    store = store or Store.open()
    erp = connector.ErpConnector.from_connection(conn_id)
    results = [sync.pull(store, SYSTEM, s, partial(erp.fetch, s), partial(map_page, SYSTEM, s)) for s in streams]
    if push:
        results.append(push_orders(store, erp))
    return sync.total(results)


def push_orders(store: Store, erp: connector.ErpConnector, limit: int = 500) -> dict[str, int]:
    """Create pending EDI orders in the ERP; counts delivered, duplicates, dead and retry."""
    counts: Counter[str] = Counter()
    with store.engine.connect() as conn:
        items = outbox.pending(conn, "erp", limit)
        loaded = {i.id: _load_order(conn, i.entity_id) for i in items}
    for item in items:
        order, lines, partner_id = loaded[item.id]
        try:
            if partner_id is None:
                raise RecordRejected("the customer has no ERP account (res.partner) in the crosswalk", "order.customer")
            products = erp.product_ids([ln["sku"] for ln in lines if ln["sku"]])
            values = mapping.to_sale_order(order, lines, partner_id, products)
            outcome, erp_id = erp.create_order(values)
        except (RecordRejected, connector.ErpError) as err:
            reason = err.reason
            if isinstance(err, RecordRejected) and err.field_path:
                reason += f" at {err.field_path}"
            _settle(store, item, f"erp refused order {order['external_id']}: {reason}", dead=True)
            counts["dead"] += 1
            continue
        except TransientHTTPError as err:
            _settle(store, item, str(err), dead=False)
            counts["retry"] += 1
            continue
        _settle(store, item, None, dead=False)
        counts["delivered" if outcome == "ok" else "duplicates"] += 1
        event(log, "order-written-back", order=order["external_id"], erp_id=erp_id, outcome=outcome,
              key=item.idempotency_key)
    return dict(counts)


def _settle(store: Store, item: outbox.OutboxItem, reason: str | None, dead: bool) -> None:
    with store.begin() as conn:
        if reason is None:
            outbox.mark_delivered(conn, [item.id], utcnow())
        else:
            outbox.mark_failed(conn, item.id, reason, dead=dead)
            event(log, "write-back-failed", target="erp", entity=item.entity, entity_id=item.entity_id,
                  dead=dead, reason=reason)


def _load_order(conn: Connection, order_id: int) -> tuple[dict[str, Any], list[dict[str, Any]], int | None]:
    """The hub order, its lines and its customer's ERP partner id (None if it has none)."""
    order = conn.execute(select(orders).where(orders.c.id == order_id)).one()._asdict()
    lines = [r._asdict() for r in conn.execute(
        select(order_line).where(order_line.c.order_id == order_id).order_by(order_line.c.line_no))]
    partner = conn.execute(select(customer_identity.c.external_id).where(
        customer_identity.c.customer_id == order["customer_id"], customer_identity.c.system == SYSTEM,
        customer_identity.c.external_id.like("res.partner/%")).limit(1)).scalar()
    return order, lines, int(partner.split("/", 1)[1]) if partner else None

