"""What the EDI flows read from the hub, as canonical entities and read models.

Outbound: the shipment, invoice or order an "edi" outbox row names, with its true version, its lines
and what its partner document needs (waybill.canonical.views). Inbound: hub customers by the GLN
a partner's document names. Also what partners' documents became in the hub (their orders and stock
levels) and how the "edi" outbox rows fared. The EDI engine's own state (registry, control numbers,
ledger) is in waybill.store.edi_state.

Shipments name their orders by ref (read with waybill.store.shipments.order_refs).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Table, select

from waybill.canonical.model import Address, Invoice, InvoiceLine, Order, OrderLine, Ref, Shipment, StockLevel
from waybill.canonical.views import InvoiceDocument, ShipmentDocument, ShipmentStatus
from waybill.store import order_alias
from waybill.store.crypto import Cipher
from waybill.store.schema import (
    customer,
    customer_identity,
    invoice,
    invoice_line,
    order_line,
    orders,
    outbox,
    shipment,
    stock_level,
)
from waybill.store.shipments import order_refs

#: the system of the hub's own ids (a hub customer is Ref("hub", "<customer id>"))
HUB = "hub"
#: the outbox target of partner documents
TARGET = "edi"


@dataclass(frozen=True)
class Delivery:
    """One "edi" outbox row and how it fared."""

    entity: str
    entity_id: int
    state: str  # pending, delivered, dead
    attempts: int
    reason: str | None


# --- inbound -------------------------------------------------------------------------------------


def customers_by_gln(conn: Connection, glns: Iterable[str]) -> dict[str, Ref]:
    """The ref of the hub customer with each of `glns` (its first identity by system and id)."""
    wanted = sorted(set(glns))
    if not wanted:
        return {}
    c, ident = customer.c, customer_identity.c
    rows = conn.execute(select(c.gln, ident.system, ident.external_id)
                        .join(customer_identity, ident.customer_id == c.id)
                        .where(c.gln.in_(wanted)).order_by(ident.system, ident.external_id))
    found: dict[str, Ref] = {}
    for gln, system, external_id in rows:
        found.setdefault(gln, Ref(system, external_id))
    return found


def partner_orders(conn: Connection, cipher: Cipher, system: str, po_numbers: Iterable[str]) -> dict[str, Order]:
    """The purchase orders (850) that partner `system` sent with these numbers, as the hub holds them,
    by number; each order's customer is its first identity (system, id), as a partner's document names it."""
    refs = {f"850/{po}" for po in po_numbers}
    found = _orders(conn, cipher, (orders.c.system == system) & orders.c.external_id.in_(sorted(refs))) if refs else {}
    customer_ids = sorted({int(o.customer.external_id) for o in found.values()})
    ident = customer_identity.c
    first_identity: dict[int, Ref] = {}
    for customer_id, ident_system, external_id in conn.execute(
            select(ident.customer_id, ident.system, ident.external_id).where(ident.customer_id.in_(customer_ids))
            .order_by(ident.customer_id, ident.system, ident.external_id)):
        first_identity.setdefault(customer_id, Ref(ident_system, external_id))
    return {str(o.po_number): replace(o, customer=first_identity.get(int(o.customer.external_id), o.customer))
            for o in found.values()}


# --- outbound read models ------------------------------------------------------------------------


def shipment_view(conn: Connection, cipher: Cipher, shipment_id: int) -> ShipmentDocument | None:
    """The shipment with its current status and the orders it names that the hub holds."""
    row = conn.execute(select(shipment).where(shipment.c.id == shipment_id)).one_or_none()
    if row is None:
        return None
    refs = order_refs(conn, [shipment_id])[shipment_id]
    ids = order_ids(conn, refs)
    ship = Shipment(Ref(row.system, row.external_id), row.version, row.carrier, row.tracking_number, row.sscc,
                    tuple(refs), _hub_ref(row.customer_id), row.ship_date, row.eta, row.packages)
    status = ShipmentStatus(row.status, row.status_code or "", row.status_at, row.last_place)
    return ShipmentDocument(ship, status, tuple(orders_by_id(conn, cipher, [ids[r] for r in refs if r in ids])))


def invoice_view(conn: Connection, cipher: Cipher, invoice_id: int) -> InvoiceDocument | None:
    """The invoice with its lines and the order it bills (when the hub holds it)."""
    row = conn.execute(select(invoice).where(invoice.c.id == invoice_id)).one_or_none()
    if row is None:
        return None
    order = order_by_id(conn, cipher, row.order_id) if row.order_id is not None else None
    lines = tuple(InvoiceLine(r.line_no, r.quantity, r.unit_price, r.amount, r.sku, r.description)
                  for r in conn.execute(select(invoice_line).where(invoice_line.c.invoice_id == invoice_id)
                                        .order_by(invoice_line.c.line_no)))
    inv = Invoice(Ref(row.system, row.external_id), Ref(HUB, str(row.customer_id)), row.version, row.number,
                  row.invoice_date, row.due_date, row.currency, row.amount_total, row.amount_open, row.kind,
                  order.ref if order else None, row.status, lines)
    return InvoiceDocument(inv, order)


def order_ids(conn: Connection, refs: Iterable[Ref]) -> dict[Ref, int]:
    """The hub ids of the orders of `refs` that the hub holds (also under another system's id: the
    ERP's number of a partner's order written back)."""
    refs = set(refs)
    found = _ids(conn, orders, refs)
    return found | {r: a.order_id for r, a in order_alias.lookup(conn, refs - found.keys()).items()}


def shipment_ids(conn: Connection, refs: Iterable[Ref]) -> dict[Ref, int]:
    """The hub ids of the shipments of `refs` that the hub holds."""
    return _ids(conn, shipment, refs)


def order_by_id(conn: Connection, cipher: Cipher, order_id: int) -> Order | None:
    """The order with hub id `order_id` and its lines."""
    return next(iter(orders_by_id(conn, cipher, [order_id])), None)


def orders_by_id(conn: Connection, cipher: Cipher, ids: list[int]) -> list[Order]:
    """The orders of `ids` that the hub holds, with their lines, in the order of `ids`."""
    found = _orders(conn, cipher, orders.c.id.in_(ids)) if ids else {}
    return [found[i] for i in ids if i in found]


# --- what partners' documents became -------------------------------------------------------------


def orders_from(conn: Connection, cipher: Cipher, system: str) -> list[Order]:
    """Every order that `system` sent, with its lines, by external id."""
    return sorted(_orders(conn, cipher, orders.c.system == system).values(), key=lambda o: o.ref.external_id)


def stock_levels_from(conn: Connection, system: str) -> list[StockLevel]:
    """Every stock level that `system` reported, by item and location."""
    s = stock_level.c
    return [StockLevel(Ref(r.system, r.external_id), r.item, r.location, r.on_hand, r.allocated, r.as_of,
                       r.version, r.gtin)
            for r in conn.execute(select(stock_level).where(s.system == system).order_by(s.item, s.location))]


def customer_names(conn: Connection, refs: Iterable[Ref]) -> dict[Ref, str]:
    """The names of the hub customers of `refs` (hub refs, as canonical read models carry them)."""
    ids = {int(r.external_id): r for r in refs if r.system == HUB}
    if not ids:
        return {}
    rows = conn.execute(select(customer.c.id, customer.c.name).where(customer.c.id.in_(sorted(ids))))
    return {ids[cid]: name for cid, name in rows}


def deliveries(conn: Connection) -> list[Delivery]:
    """Every "edi" outbox row, oldest first."""
    o = outbox.c
    return [Delivery(*r) for r in conn.execute(
        select(o.entity, o.entity_id, o.state, o.attempts, o.reason).where(o.target == TARGET).order_by(o.id))]


# --- rows into entities --------------------------------------------------------------------------


def _ids(conn: Connection, table: Table, refs: Iterable[Ref]) -> dict[Ref, int]:
    """The hub ids of the rows of `table` (system, external_id) for `refs`, where the hub holds them."""
    found: dict[Ref, int] = {}
    for ref in set(refs):
        row_id = conn.execute(select(table.c.id).where(table.c.system == ref.system,
                                                       table.c.external_id == ref.external_id)).scalar()
        if row_id is not None:
            found[ref] = row_id
    return found


def _orders(conn: Connection, cipher: Cipher, where: ColumnElement[bool]) -> dict[int, Order]:
    """The orders matching `where`, by hub id, with their lines."""
    lines: defaultdict[int, list[OrderLine]] = defaultdict(list)
    for r in conn.execute(select(order_line).where(order_line.c.order_id.in_(select(orders.c.id).where(where)))
                          .order_by(order_line.c.order_id, order_line.c.line_no)):
        lines[r.order_id].append(OrderLine(r.line_no, r.quantity, r.sku, r.gtin, r.description, r.uom, r.unit_price,
                                           r.quantity_shipped))
    return {row.id: _order(row, tuple(lines[row.id]), cipher)
            for row in conn.execute(select(orders).where(where).order_by(orders.c.id))}


def _order(row: Row[Any], lines: tuple[OrderLine, ...], cipher: Cipher) -> Order:
    ship_to = Address(**json.loads(cipher.reveal(row.ship_to))) if row.ship_to else None
    return Order(Ref(row.system, row.external_id), Ref(HUB, str(row.customer_id)), row.version, row.order_date,
                 row.currency, row.kind, row.status, row.po_number, row.requested_date, row.amount_untaxed,
                 row.amount_total, ship_to, lines)


def _hub_ref(customer_id: int | None) -> Ref | None:
    return Ref(HUB, str(customer_id)) if customer_id is not None else None
