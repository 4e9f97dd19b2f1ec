"""Outbound read models: what the hub holds, as the targets (CRM, ERP write-back, finance) read it.

The store builds these from its tables (waybill.store.reads, waybill.store.receivables); the
outbound mappings turn them into the targets' records. They are the canonical entities as stored:
with the hub's own ids, the stored state (status, facts) and the crosswalk ids a target needs, so a
mapping never sees a table row. What a partner's EDI document needs (ShipmentDocument,
InvoiceDocument) carries the canonical entities themselves, with their version. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from waybill.canonical import model
from waybill.canonical.model import Invoice, Order, Ref, Shipment


@dataclass(frozen=True)
class AccountView:
    """A hub customer: its canonical fields (contacts and addresses aside), its id in the ERP and its
    value facts once computed."""

    id: int
    name: str
    tax_id: str | None
    industry: str | None
    credit_limit: Decimal | None
    currency: str | None
    payment_terms: str | None
    status: str
    #: the customer's id in the ERP (the crosswalk's ERP external id), if it has one
    erp_id: str | None
    facts: model.CustomerFacts | None


@dataclass(frozen=True)
class OrderView:
    """A hub order's header: the canonical order's fields and its customer's hub id."""

    id: int
    ref: Ref
    customer_id: int
    kind: str
    status: str
    po_number: str | None
    order_date: dt.date
    requested_date: dt.date | None
    currency: str
    amount_untaxed: Decimal | None
    amount_total: Decimal | None


@dataclass(frozen=True)
class ErpOrderView:
    """An order as the ERP write-back sends it: its header, its lines in line order and its
    customer's id in the ERP (None when the crosswalk has none)."""

    order: OrderView
    lines: tuple[model.OrderLine, ...]
    customer_erp_ref: Ref | None


@dataclass(frozen=True)
class CaseView:
    """A delivery case as the CRM gets it: the case and whether the CRM already received it."""

    case: model.DeliveryCase
    in_crm: bool


@dataclass(frozen=True)
class ShipmentView:
    """A hub shipment: the canonical shipment's fields, its customer's hub id and its tracking state
    (status folded from its delivery events)."""

    id: int
    ref: Ref
    customer_id: int | None
    carrier: str
    tracking_number: str | None
    sscc: str | None
    #: the orders it carries, in the order the source listed them
    order_refs: tuple[Ref, ...]
    ship_date: dt.date | None
    packages: int
    eta: dt.datetime | None
    status: str
    status_code: str | None
    status_at: dt.datetime | None
    last_place: str | None
    delivered_at: dt.datetime | None
    substatus: str | None = None


@dataclass(frozen=True)
class InvoiceView:
    """A hub invoice or credit note: the canonical invoice's header and its customer's hub id."""

    id: int
    ref: Ref
    customer_id: int
    number: str
    kind: str
    status: str
    invoice_date: dt.date
    due_date: dt.date
    currency: str
    amount_total: Decimal
    amount_open: Decimal


@dataclass(frozen=True)
class PaymentView:
    """A hub payment, its customer's and (when it settles one) its invoice's hub ids."""

    id: int
    ref: Ref
    customer_id: int
    invoice_id: int | None
    payment_date: dt.date
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class OpenItem:
    """One open receivable as of a cut-off day (waybill.store.receivables), with the customer's ids
    in the ERP and the CRM."""

    customer_id: int
    erp_id: str | None
    crm_id: str | None
    customer_name: str
    invoice_number: str
    invoice_date: dt.date
    due_date: dt.date
    currency: str
    amount_total: Decimal
    amount_open: Decimal
    days_overdue: int
    aging_bucket: str
    last_payment_date: dt.date | None
    #: the invoice's product lines (the ERP's account.move.line)
    lines: tuple[model.InvoiceLine, ...] = ()


# --- partner documents (EDI outbound) ---------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ShipmentStatus:
    """Where the hub says a shipment is now: the status its events moved it to (not any one event)."""

    status: str  # one of model.DELIVERY_STATUSES
    code: str  # the reporting source's own code ("" when none)
    at: dt.datetime | None  # when it happened; None while nobody reported a status
    place: str | None = None


@dataclass(frozen=True, slots=True)
class ShipmentDocument:
    """A shipment with its current status and the orders of its `order_refs` that the hub holds."""

    shipment: Shipment
    status: ShipmentStatus
    orders: tuple[Order, ...] = ()


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    """An invoice with the order it bills, when the hub holds that order."""

    invoice: Invoice
    order: Order | None = None


@dataclass(frozen=True)
class ShipmentWatch:
    """What the delivery-exception rules look at of one shipment: its tracking state, its
    customer's value tier (None before facts are computed), its first order and what that order
    promised (the requested date)."""

    shipment_id: int
    customer_id: int
    tier: str | None
    order_id: int | None
    promised: dt.date | None
    carrier: str
    tracking_number: str | None
    status: str
    substatus: str | None
    status_code: str | None
    status_at: dt.datetime | None
    eta: dt.datetime | None
    delivered_at: dt.datetime | None
