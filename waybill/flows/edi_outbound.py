"""Flow edi_outbound: deliver the outbox rows of target "edi" to trading partners over SFTP.

For each pending row (a shipment, an ERP invoice, or an order when routes send orders to "edi") the
flow reads the current canonical row, finds the partner through the order it belongs to (an order
that came from edi:<partner>), maps it (see `document`; only documents in the profile's outbound
sets are sent, the others are settled as not wanted), wraps it in an
interchange with the hub's control numbers, records it in the outbound ledger (its 997/CONTRL will
come back) and uploads it under a name made from the row's idempotency key. A redelivery after a
crash finds that name already on the server and does not send twice. Rows that concern no partner
are settled without sending; rows that cannot be mapped are marked dead with the reason.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import paramiko
from sqlalchemy import Connection, select

from waybill.canonical import model
from waybill.connectors.sftp import SftpClient, SftpError
from waybill.core.errors import RecordRejected
from waybill.core.logs import event, get_logger
from waybill.edi.hooks import OutboundKey
from waybill.edi.model import Interchange
from waybill.edi.serializer import OutboundMessage, build_interchange, write_interchange
from waybill.flows.edi_inbound import Partner, load_partner
from waybill.mappings import edi_outbound
from waybill.store import outbox, shipments
from waybill.store.edi_state import StoreControlNumbers, StoreLedger
from waybill.store.schema import invoice, invoice_line, order_line, orders, shipment
from waybill.store.store import Store, utcnow

log = get_logger("flows.edi_outbound")

TARGET = "edi"



def document(partner: Partner, entity_kind: str, entity: object, related: object) -> OutboundMessage:
    """The message body for a row: 856/945/DESADV when a shipment is first notified (945 when every
    order is a fulfilment order a client sent), a 214 for its later status changes, 810/INVOIC for
    invoices, 855/ORDRSP for orders."""
    x12 = partner.profile.standard == "X12"
    now = utcnow()
    if entity_kind == "status":
        if not x12:
            raise RecordRejected("status messages to EDIFACT partners (IFTSTA) are not written yet", "shipment")
        return edi_outbound.status_214(related, entity)
    if entity_kind == "invoice":
        return (edi_outbound.invoice_810 if x12 else edi_outbound.invoic)(entity, related)
    if entity_kind == "order":
        return (edi_outbound.order_ack_855 if x12 else edi_outbound.ordrsp)(entity, now)
    if x12 and related and all(o.kind == "fulfilment" for o in related):
        return edi_outbound.shipping_advice_945(entity, related, now)
    return (edi_outbound.ship_notice_856 if x12 else edi_outbound.desadv)(entity, related, now)


def run(store: Store | None = None, clients: dict[str, SftpClient] | None = None,
        page: int = 1000, **_options: object) -> dict[str, int]:
    """Deliver every pending "edi" outbox row, `page` rows at a time; `clients` (partner id ->
    client) replaces the Connections.

    Counts: received (rows), published (sent), unchanged (nothing for a partner), dead (cannot be
    mapped), rejected (partner unreachable or its host key refused: the rows stay pending, and the
    partner's other rows wait for the next run)."""
    store = store or Store.open()
    clients = dict(clients or {})
    opened: list[SftpClient] = []
    down: set[str] = set()
    counts = dict(received=0, published=0, dead=0, unchanged=0, rejected=0)
    last = 0
    try:
        while True:
            with store.engine.connect() as conn:
                items = outbox.pending(conn, TARGET, page, after=last)
            if not items:
                break
            for item in items:
                counts["received"] += 1
                counts[deliver(store, item, clients, opened, down)] += 1
            last = items[-1].id
    finally:
        for c in opened:
            c.close()
    event(log, "edi-outbound", **counts)
    return counts


def deliver(store: Store, item: outbox.OutboxItem, clients: dict[str, SftpClient],
            opened: list[SftpClient], down: set[str]) -> str:
    """Deliver one row; returns the count it adds to (see `run`)."""
    with store.engine.connect() as conn:
        try:
            found = load(conn, item)
        except RecordRejected as err:
            return _settle(store, item, "dead", str(err))
    if found is None:
        return _settle(store, item, "unchanged")
    kind, partner, entity, related = found
    try:
        body = document(partner, kind, entity, related)
    except RecordRejected as err:
        return _settle(store, item, "dead", f"{partner.context.system}: {err}")
    if body.type not in partner.profile.outbound_sets:  # the partner does not take this document
        return _settle(store, item, "unchanged")
    if partner.id in down:
        return "rejected"
    client = clients.get(partner.id)
    if client is None:
        client = clients[partner.id] = SftpClient.from_conn_id(partner.conn_id, partner.context.system)
        opened.append(client)
    name = f"{body.type}_{re.sub(r'[^A-Za-z0-9]+', '-', item.idempotency_key)}.{_ext(partner)}"
    try:
        if not client.exists(name):  # a redelivery of a file already sent does not send it again
            interchange = envelope(store, partner, body)
            client.upload(name, write_interchange(interchange, line_end=partner.profile.line_end)
                          .encode(partner.profile.encoding, "replace"))
    except (SftpError, paramiko.SSHException, OSError) as err:
        down.add(partner.id)
        with store.begin() as conn:
            outbox.mark_failed(conn, item.id, f"{partner.context.system}: {err}", dead=False)
        event(log, "edi-partner-unreachable", partner=partner.id, error=str(err)[:300])
        return "rejected"
    return _settle(store, item, "published")


def envelope(store: Store, partner: Partner, body: OutboundMessage) -> Interchange:
    """The interchange around `body`, with fresh control numbers, recorded as awaiting its ack."""
    p = partner.profile
    interchange = build_interchange(p.standard, p.us, p.partner, [body], partner_id=p.id,
                                    control_numbers=StoreControlNumbers(store), separators=p.separators,
                                    interchange_version=p.version, ack_requested=p.expects_acks)
    if p.expects_acks:
        ledger = StoreLedger(store)
        controls = [m.control_number for m in interchange.messages]
        ledger.expect(OutboundKey(p.standard, p.us.id, p.partner.id, "interchange", interchange.control_number),
                      controls)
        for g in interchange.groups:
            ledger.expect(OutboundKey(p.standard, p.us.id, p.partner.id, "group", g.control_number), controls)
    return interchange


def _ext(partner: Partner) -> str:
    return "x12" if partner.profile.standard == "X12" else "edi"


def _settle(store: Store, item: outbox.OutboxItem, outcome: str, reason: str | None = None) -> str:
    with store.begin() as conn:
        if outcome == "dead":
            outbox.mark_failed(conn, item.id, reason or "", dead=True)
            event(log, "edi-outbound-dead", entity=item.entity, entity_id=item.entity_id, reason=reason)
        else:
            outbox.mark_delivered(conn, [item.id], utcnow())
    return outcome


# --- canonical rows back into model objects -------------------------------------------------------


Found = tuple[str, Partner, object, object]


def load(conn: Connection, item: outbox.OutboxItem) -> Found | None:
    """(document kind, partner, entity, related) for a row, or None when no partner's order is
    involved; RecordRejected when the row's entity is gone."""
    loader = _LOADERS.get(item.entity)
    return loader(conn, item) if loader else None


def _load_shipment(conn: Connection, item: outbox.OutboxItem) -> Found | None:
    """A shipment with its partner's orders; once notified, kind "status" with its current status
    as a DeliveryEvent and the shipment as related."""
    row = conn.execute(select(shipment).where(shipment.c.id == item.entity_id)).one_or_none()
    if row is None:
        raise RecordRejected(f"shipment {item.entity_id} no longer exists")
    refs = shipments.order_refs(conn, [row.id])[row.id]
    found = [o for o in (_order(conn, r) for r in refs) if o is not None]
    partner = _partner_of(found)
    if partner is None:
        return None
    ship = model.Shipment(model.Ref(row.system, row.external_id), "", row.carrier, row.tracking_number,
                          row.sscc, tuple(refs), None, row.ship_date, row.eta, row.packages)
    if outbox.delivered_before(conn, item):
        status = model.DeliveryEvent(f"{row.external_id}/{row.status}", row.status, row.status_code or "",
                                     row.status_at or utcnow(), row.system, ship.ref, row.tracking_number,
                                     row.last_place)
        return "status", partner, status, ship
    return "shipment", partner, ship, [o for o in found if o.ref.system == partner.context.system]


def _load_invoice(conn: Connection, item: outbox.OutboxItem) -> Found | None:
    row = conn.execute(select(invoice).where(invoice.c.id == item.entity_id)).one_or_none()
    if row is None:
        raise RecordRejected(f"invoice {item.entity_id} no longer exists")
    order = _order_by_id(conn, row.order_id) if row.order_id else None
    partner = _partner_of([order] if order else [])
    if partner is None:
        return None
    lines = tuple(model.InvoiceLine(r.line_no, Decimal(r.quantity), Decimal(r.unit_price), Decimal(r.amount),
                                    r.sku, r.description)
                  for r in conn.execute(select(invoice_line).where(invoice_line.c.invoice_id == row.id)
                                        .order_by(invoice_line.c.line_no)))
    inv = model.Invoice(model.Ref(row.system, row.external_id), model.Ref("hub", str(row.customer_id)), "",
                        row.number, row.invoice_date, row.due_date, row.currency, Decimal(row.amount_total),
                        Decimal(row.amount_open), row.kind, None, row.status, lines)
    return "invoice", partner, inv, order


def _load_order(conn: Connection, item: outbox.OutboxItem) -> Found | None:
    order = _order_by_id(conn, item.entity_id)
    if order is None:
        raise RecordRejected(f"order {item.entity_id} no longer exists")
    partner = _partner_of([order])
    return ("order", partner, order, None) if partner else None


_LOADERS = {"shipment": _load_shipment, "invoice": _load_invoice, "order": _load_order}


def _partner_of(found: list[model.Order]) -> Partner | None:
    for o in found:
        if o.ref.system.startswith("edi:"):
            return load_partner(o.ref.system.split(":", 1)[1])
    return None


def _order(conn: Connection, ref: model.Ref) -> model.Order | None:
    oid = conn.execute(select(orders.c.id).where(orders.c.system == ref.system,
                                                 orders.c.external_id == ref.external_id)).scalar()
    return _order_by_id(conn, oid) if oid is not None else None


def _order_by_id(conn: Connection, order_id: int) -> model.Order | None:
    row = conn.execute(select(orders).where(orders.c.id == order_id)).one_or_none()
    if row is None:
        return None
    lines = tuple(
        model.OrderLine(r.line_no, Decimal(r.quantity), r.sku, r.gtin, r.description, r.uom,
                        Decimal(r.unit_price) if r.unit_price is not None else None, Decimal(r.quantity_shipped))
        for r in conn.execute(select(order_line).where(order_line.c.order_id == order_id)
                              .order_by(order_line.c.line_no)))
    ship_to = model.Address(**json.loads(row.ship_to)) if row.ship_to else None
    return model.Order(model.Ref(row.system, row.external_id), model.Ref("hub", str(row.customer_id)), "",
                       row.order_date, row.currency, row.kind, row.status, row.po_number, row.requested_date,
                       ship_to=ship_to, lines=lines)
