"""Flow edi_outbound: deliver the outbox rows of target "edi" to trading partners over SFTP.

For each pending row (a shipment, an ERP invoice, or an order when routes send orders to "edi") the
flow reads what the hub holds now (waybill.store.reads.edi: canonical entities and read models),
finds the partner through the order it belongs to (an order that came from edi:<partner>), maps it
(see `document`; only documents in the profile's outbound sets are sent, the others are settled as
not wanted), wraps it in an interchange with the hub's control numbers, records it in the outbound
ledger (its 997/CONTRL will come back) and uploads it under a name made from the row's idempotency
key. A redelivery after a crash finds that name already on the server and does not send twice.
The rows of one entity go out in order, a row waiting while an earlier one is unsettled, and a row
whose document would repeat the one its entity sent last (a 214 of an unchanged status after a
change the partner's documents do not carry) is settled without sending.
Rows that concern no partner are settled without sending; rows that cannot be mapped are marked
dead with the reason; rows for a partner that cannot be reached stay pending for the next run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import paramiko
from sqlalchemy import Connection

from waybill.canonical.model import Order
from waybill.canonical.views import InvoiceDocument, ShipmentDocument
from waybill.connectors.sftp import SftpClient, SftpError
from waybill.core.errors import RecordRejected
from waybill.core.logs import event, get_logger
from waybill.edi.hooks import OutboundKey
from waybill.edi.model import Interchange
from waybill.edi.serializer import OutboundMessage, build_interchange, write_interchange
from waybill.flows.counts import FlowCounts
from waybill.flows.partners import Partner, is_partner_system, partner_of
from waybill.mappings import edi_outbound
from waybill.store import outbox
from waybill.store.crypto import Cipher
from waybill.store.edi_state import StoreControlNumbers, StoreLedger
from waybill.store.reads import edi as reads
from waybill.store.store import Store, utcnow

log = get_logger("flows.edi_outbound")

TARGET = reads.TARGET

#: what delivering one row adds to (see `run`)
Outcome = Literal["published", "unchanged", "dead", "retry"]


@dataclass(frozen=True)
class Outgoing:
    """What an outbox row tells one partner: the read model its document is written from."""

    partner: Partner
    subject: ShipmentDocument | InvoiceDocument | Order
    #: a shipment notified before: what goes out now is its status
    notified: bool = False


def document(out: Outgoing, now: dt.datetime) -> OutboundMessage:
    """The message body: 856/945/DESADV when a shipment is first notified (945 when every order is a
    fulfilment order a client sent), a 214/IFTSTA for its later status changes, 810/INVOIC for invoices,
    855/ORDRSP for orders."""
    x12 = out.partner.profile.standard == "X12"
    subject = out.subject
    if isinstance(subject, InvoiceDocument):
        return (edi_outbound.invoice_810 if x12 else edi_outbound.invoic)(subject.invoice, subject.order)
    if isinstance(subject, Order):
        return (edi_outbound.order_ack_855 if x12 else edi_outbound.ordrsp)(subject, now)
    if out.notified:
        return (edi_outbound.status_214 if x12 else edi_outbound.iftsta)(subject.shipment, subject.status, now)
    orders = [o for o in subject.orders if o.ref.system == out.partner.system]
    if x12 and orders and all(o.kind == "fulfilment" for o in orders):
        return edi_outbound.shipping_advice_945(subject.shipment, orders, now)
    return (edi_outbound.ship_notice_856 if x12 else edi_outbound.desadv)(subject.shipment, orders, now)


class Sessions:
    """One SFTP client per partner for a run, and the partners found unreachable in it.

    Clients handed in (partner id -> client) are used as they are and left open; the others are
    opened from the partners' Connections when first needed and closed by `close`."""

    def __init__(self, given: Mapping[str, SftpClient] | None = None) -> None:
        self.clients = dict(given or {})
        self.opened: list[SftpClient] = []
        self.down: set[str] = set()
        self.cleaned: set[str] = set()

    def client(self, partner: Partner) -> SftpClient:
        """The partner's client; on first use in a run, our uploads a killed run left half-way are
        removed from its outbox (the rename never happened: the partner never saw them)."""
        if partner.id not in self.clients:
            self.clients[partner.id] = SftpClient.from_conn_id(partner.conn_id, partner.system)
            self.opened.append(self.clients[partner.id])
        client = self.clients[partner.id]
        if partner.id not in self.cleaned:
            self.cleaned.add(partner.id)
            # best effort: an unreachable partner fails the upload that follows, which says why
            with contextlib.suppress(SftpError, paramiko.SSHException, OSError):
                client.clean_stale_parts()
        return client

    def close(self) -> None:
        for client in self.opened:
            client.close()


def run(store: Store | None = None, *, clients: Mapping[str, SftpClient] | None = None,
        page: int = 1000) -> FlowCounts:
    """Deliver every pending "edi" outbox row, `page` rows at a time; `clients` (partner id ->
    client) replaces the Connections.

    Counts: received (rows read), published (documents sent), unchanged (nothing for a partner, or a
    document it does not take), dead (cannot be mapped, or its entity is gone), retry (partner
    unreachable or its host key refused: the rows stay pending, and the partner's other rows wait for
    the next run; also a row waiting for an earlier row of its entity that is not settled yet)."""
    store = store or Store.open()
    sessions = Sessions(clients)
    counts = FlowCounts()
    last = 0
    worker = outbox.worker_name()
    try:
        while True:
            with store.begin() as conn:  # claimed: an overlapping run never builds the same document
                items = outbox.claim(conn, TARGET, worker=worker, now=utcnow(), lease=store.claim_lease, limit=page,
                                     after=last)
            if not items:
                break
            try:
                for item in items:
                    counts += _one(deliver(store, item, sessions))
            finally:  # rows not settled (partner unreachable, the run stopped): free for the next run
                with store.begin() as conn:
                    outbox.release(conn, [i.id for i in items], worker)
            last = items[-1].id
    finally:
        sessions.close()
    event(log, "edi-outbound", **counts.as_dict())
    return counts


def _one(outcome: Outcome) -> FlowCounts:
    """The counts of one row read and delivered with `outcome`."""
    return FlowCounts(received=1, **{outcome: 1})


def deliver(store: Store, item: outbox.OutboxItem, sessions: Sessions) -> Outcome:
    """Deliver one row; returns the count it adds to (see `run`)."""
    with store.engine.connect() as conn:
        if outbox.earlier_pending(conn, item):  # documents of one entity go out in order, each once
            return "retry"
        try:
            out = outgoing(conn, store.cipher, item)
        except RecordRejected as err:
            return _settle(store, item, "dead", str(err))
        told = outbox.last_digest(conn, item)
    if out is None:
        return _settle(store, item, "unchanged")
    partner = out.partner
    try:
        body = document(out, utcnow())
        digest = _digest(document(out, _EPOCH))
    except RecordRejected as err:
        return _settle(store, item, "dead", f"{partner.system}: {err}")
    if body.type not in partner.profile.outbound_sets:  # the partner does not take this document
        return _settle(store, item, "unchanged")
    if digest == told:  # a later version that changes nothing the document says (a 214's status)
        return _settle(store, item, "unchanged", digest=digest)
    if partner.id in sessions.down:
        return "retry"
    name = f"{body.type}_{re.sub(r'[^A-Za-z0-9]+', '-', item.idempotency_key)}.{_ext(partner)}"
    client = sessions.client(partner)
    try:
        if not client.exists(name):  # a redelivery of a file already sent does not send it again
            interchange = envelope(store, partner, body)
            client.upload(name, write_interchange(interchange, line_end=partner.profile.line_end)
                          .encode(partner.profile.encoding, "replace"))
    except (SftpError, paramiko.SSHException, OSError) as err:
        sessions.down.add(partner.id)
        with store.begin() as conn:
            outbox.mark_failed(conn, item.id, f"{partner.system}: {err}", dead=False)
        event(log, "edi-partner-unreachable", partner=partner.id, error=str(err)[:300])
        return "retry"
    return _settle(store, item, "published", digest=digest)


#: the time a document is built at for its digest: what it says, not when it was written
_EPOCH = dt.datetime(2000, 1, 1)


def _digest(body: OutboundMessage) -> str:
    """What a document says, as a digest: its type and segments."""
    return hashlib.sha256(json.dumps([body.type, body.segments], default=str).encode()).hexdigest()


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


def _settle(store: Store, item: outbox.OutboxItem, outcome: Outcome, reason: str | None = None, *,
            digest: str | None = None) -> Outcome:
    with store.begin() as conn:
        if outcome == "dead":
            outbox.mark_failed(conn, item.id, reason or "", dead=True)
            event(log, "edi-outbound-dead", entity=item.entity, entity_id=item.entity_id, reason=reason)
        else:
            outbox.mark_delivered(conn, [item.id], utcnow(), digest)
    return outcome


# --- what a row tells which partner --------------------------------------------------------------


def outgoing(conn: Connection, cipher: Cipher, item: outbox.OutboxItem) -> Outgoing | None:
    """What the row tells which partner, or None when no partner's order is involved;
    RecordRejected when the row's entity is gone."""
    if item.entity == "shipment":
        ship = reads.shipment_view(conn, cipher, item.entity_id)
        if ship is None:
            raise RecordRejected(f"shipment {item.entity_id} no longer exists")
        partner = _partner_of(ship.orders)
        return Outgoing(partner, ship, outbox.delivered_before(conn, item)) if partner else None
    if item.entity == "invoice":
        inv = reads.invoice_view(conn, cipher, item.entity_id)
        if inv is None:
            raise RecordRejected(f"invoice {item.entity_id} no longer exists")
        partner = _partner_of([inv.order] if inv.order else [])
        return Outgoing(partner, inv) if partner else None
    if item.entity == "order":
        order = reads.order_by_id(conn, cipher, item.entity_id)
        if order is None:
            raise RecordRejected(f"order {item.entity_id} no longer exists")
        partner = _partner_of([order])
        return Outgoing(partner, order) if partner else None
    return None


def _partner_of(orders: Iterable[Order]) -> Partner | None:
    """The partner of the first of `orders` that a partner sent."""
    return next((partner_of(o.ref.system) for o in orders if is_partner_system(o.ref.system)), None)
