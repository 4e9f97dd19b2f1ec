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
import json
from collections.abc import Sequence
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from waybill.canonical import model
from waybill.canonical.views import ErpOrderView
from waybill.connectors import erp as connector
from waybill.connectors.http import TransientHTTPError
from waybill.connectors.pages import Page
from waybill.core.errors import ConfigError, RecordRejected
from waybill.core.logs import event, get_logger
from waybill.flows import partners, replay, sync
from waybill.flows.counts import FlowCounts
from waybill.mappings import erp as mapping
from waybill.store import order_alias, outbox
from waybill.store.reads import erp as erp_reads
from waybill.store.store import Store, utcnow

log = get_logger("flows.erp_sync")
SYSTEM = "erp"
STREAMS: tuple[str, ...] = ("customers", "orders", "invoices", "payments")


def map_page(system: str, stream: str, page: Page) -> tuple[list[model.Entity], list[model.Reject]]:
    """Map one page of an ERP stream (pure): the commercial partners it names first, then its records."""
    spec = connector.STREAMS[stream]
    key_of = mapping.key_of(spec.model)
    ctx = mapping.context_of(page.related)
    customers: list[model.Entity] = list(mapping.customers_of(system, page.related.get("partners", ())))
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
            return mapping.to_order(system, rec, mine, ctx)

        entities, rejects = sync.collect(page.records, to_order, key_of)
        rejects = [*rejects, *stray]
    elif stream == "customers":
        entities, rejects = sync.collect(page.records, partial(mapping.to_customer, system), key_of)
    elif stream == "invoices":
        moves: dict[int, list[dict[str, Any]]] = {}
        for ln in page.related.get("invoice_lines", []):
            moves.setdefault(ln["move_id"][0], []).append(ln)
        entities, rejects = sync.collect(
            page.records, lambda r: mapping.to_invoice(system, r, ctx, moves.get(r["id"], ())), key_of)
    else:
        entities, rejects = sync.collect(page.records, lambda r: mapping.to_payment(system, r, ctx), key_of)
    return customers + entities, rejects


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
    """Write pending EDI orders to the ERP: created (published), changed there by an amendment
    (published), already there as they are (unchanged), refused for good (dead: no ERP account, a
    change Odoo does not allow), or left pending with the reason: a transient failure (retry) or an
    item the ERP does not have yet (retry: the order goes out once the product exists).

    The ERP's order is found by client_order_ref and partner; a partner's profile ([hub.erp]) says
    whether to confirm it and maps the partner's item ids to the ERP's internal references."""
    counts = FlowCounts()
    worker = outbox.worker_name()
    with store.begin() as conn:  # claimed: two workers never search-then-create the same order
        items = outbox.claim(conn, SYSTEM, worker=worker, now=utcnow(), lease=store.claim_lease, limit=limit)
    with store.engine.connect() as conn:
        views = {i.id: erp_reads.order(conn, i.entity_id, SYSTEM) for i in items}
    timezone = ZoneInfo(erp.timezone)
    try:
        for item in items:
            counts += _push_one(store, erp, item, views[item.id], timezone=timezone)
    finally:  # rows not settled (the run stopped): free for the next run at once
        with store.begin() as conn:
            outbox.release(conn, [i.id for i in items], worker)
    return counts


def _push_one(store: Store, erp: connector.ErpConnector, item: outbox.OutboxItem, view: ErpOrderView, *,
              timezone: ZoneInfo) -> FlowCounts:
    """Write one claimed EDI order to the ERP, or settle why not."""
    number = view.order.ref.external_id
    settings = _write_back_settings(view.order.ref.system)
    try:
        partner = mapping.partner_id(view.customer_erp_ref)
        found = mapping.resolve_items(view.lines, [
            mapping.ErpProduct(r["id"], r.get("default_code") or None, r.get("barcode") or None)
            for r in erp.products(*mapping.item_keys(view.lines, settings.items))], settings.items)
        values = mapping.to_sale_order(view, partner, found, timezone)
        outcome, erp_id, erp_number = _put(erp, values, settings.confirm)
    except mapping.UnknownItem as err:
        _settle(store, item, f"erp order {number} waits: {err.reason} at {err.field_path}", dead=False)
        return FlowCounts(retry=1)
    except (RecordRejected, connector.ErpError) as err:
        reason = err.reason
        if isinstance(err, RecordRejected) and err.field_path:
            reason += f" at {err.field_path}"
        _settle(store, item, f"erp refused order {number}: {reason}", dead=True)
        return FlowCounts(dead=1)
    except TransientHTTPError as err:
        _settle(store, item, str(err), dead=False)
        return FlowCounts(retry=1)
    # the ERP's order is this hub order: its changes, invoices and deliveries come back to it
    _settle(store, item, None, dead=False, alias=mapping.order_ref(SYSTEM, erp_number))
    event(log, "order-written-back", order=number, erp_id=erp_id, outcome=outcome, key=item.idempotency_key)
    return FlowCounts(unchanged=1) if outcome == "duplicate" else FlowCounts(published=1)


def _put(erp: connector.ErpConnector, values: dict[str, Any], confirm: bool) -> tuple[str, int, str]:
    """Create the order, or amend the ERP's order for the same purchase order and partner; returns
    the outcome and the ERP order's id and number."""
    existing = erp.find_order(values["client_order_ref"], values["partner_id"])
    if existing is None:
        order_id, number = erp.new_order(values, confirm=confirm)
        return "created", order_id, number
    commands = mapping.amendment(values, erp.product_lines(existing["id"]))
    if not commands:
        return "duplicate", int(existing["id"]), str(existing["name"])
    if existing["state"] == "cancel" or existing.get("locked"):
        raise connector.ErpError("sale.order", "write", "OrderClosed",
                                 f"{existing['name']} is {'locked' if existing.get('locked') else 'cancelled'} in the "
                                 f"ERP: the change must be made there")
    erp.change_order(int(existing["id"]), commands)
    return "amended", int(existing["id"]), str(existing["name"])


def _write_back_settings(system: str) -> partners.ErpWriteBack:
    """A partner's [hub.erp] settings for its orders; the defaults for other systems and for a
    partner without a profile here."""
    if not partners.is_partner_system(system) or system.partition(":")[2] not in partners.partner_ids():
        return partners.ErpWriteBack()
    return partners.partner_of(system).erp


def _settle(store: Store, item: outbox.OutboxItem, reason: str | None, dead: bool, *,
            alias: model.Ref | None = None) -> None:
    with store.begin() as conn:
        if alias is not None:
            order_alias.link(conn, alias, item.entity_id)
        if reason is None:
            outbox.mark_delivered(conn, [item.id], utcnow())
        else:
            outbox.mark_failed(conn, item.id, reason, dead=dead)
            event(log, "write-back-failed", target="erp", entity=item.entity, entity_id=item.entity_id,
                  dead=dead, reason=reason)
