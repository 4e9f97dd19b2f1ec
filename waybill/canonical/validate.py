"""Data-quality checks on canonical entities before they are stored.

A failed check raises RecordRejected naming the field path (e.g. `order.lines[2].quantity`); the
store dead-letters that record and goes on with the rest, so nothing is stored half-way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from waybill.canonical import model
from waybill.core.errors import RecordRejected

#: ISO 4217 codes accepted as currencies (active codes in trade use).
CURRENCIES: frozenset[str] = frozenset({
    "AED", "ARS", "AUD", "BGN", "BRL", "CAD", "CHF", "CLP", "CNY", "COP", "CZK", "DKK", "EGP", "EUR", "GBP",
    "HKD", "HUF", "IDR", "ILS", "INR", "ISK", "JPY", "KRW", "KWD", "MAD", "MXN", "MYR", "NGN", "NOK", "NZD",
    "PEN", "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SEK", "SGD", "THB", "TND", "TRY", "TWD",
    "UAH", "USD", "VND", "ZAR",
})
EARLIEST = dt.date(1990, 1, 1)
LATEST = dt.date(2100, 12, 31)


def check(entity: model.Entity) -> None:
    """Raise RecordRejected if the entity is incomplete or impossible."""
    _CHECKS[type(entity)](entity)


def _required(value: object, path: str) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RecordRejected("missing mandatory field", path)


def _non_negative(value: Decimal | None, path: str) -> None:
    if value is not None and value < 0:
        raise RecordRejected(f"negative value {value}", path)


def _currency(value: str | None, path: str) -> None:
    _required(value, path)
    if value not in CURRENCIES:
        raise RecordRejected(f"unknown currency {value!r}", path)


def _date(value: dt.date | dt.datetime | None, path: str, required: bool = True) -> None:
    if value is None:
        if required:
            raise RecordRejected("missing mandatory field", path)
        return
    day = value.date() if isinstance(value, dt.datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise RecordRejected(f"date {value.isoformat()} out of range", path)


def _ref(ref: model.Ref | None, path: str) -> None:
    if ref is None:
        raise RecordRejected("missing mandatory field", path)
    _required(ref.system, f"{path}.system")
    _required(ref.external_id, f"{path}.external_id")


def _customer(c: model.Customer) -> None:
    _ref(c.ref, "customer.ref")
    _required(c.name, "customer.name")
    _required(c.version, "customer.version")
    _non_negative(c.credit_limit, "customer.credit_limit")
    if c.currency is not None:
        _currency(c.currency, "customer.currency")
    if c.status not in model.CUSTOMER_STATUSES:
        raise RecordRejected(f"unknown status {c.status!r}", "customer.status")
    if c.gln is not None and not (c.gln.isdigit() and len(c.gln) == 13):
        raise RecordRejected(f"GLN must be 13 digits, got {c.gln!r}", "customer.gln")
    for i, contact in enumerate(c.contacts):
        _required(contact.name, f"customer.contacts[{i}].name")


def _order(o: model.Order) -> None:
    # Hot path: the common all-valid case costs a few comparisons; the helpers name the failure.
    if not (o.ref and o.ref.system and o.ref.external_id):
        _ref(o.ref, "order.ref")
    if not (o.customer and o.customer.system and o.customer.external_id):
        _ref(o.customer, "order.customer")
    if not o.version:
        _required(o.version, "order.version")
    if o.order_date is None or not EARLIEST <= o.order_date <= LATEST:
        _date(o.order_date, "order.order_date")
    if o.requested_date is not None and not EARLIEST <= o.requested_date <= LATEST:
        _date(o.requested_date, "order.requested_date")
    if o.currency not in CURRENCIES:
        _currency(o.currency, "order.currency")
    if o.kind not in model.ORDER_KINDS:
        raise RecordRejected(f"unknown kind {o.kind!r}", "order.kind")
    if o.status not in model.ORDER_STATUSES:
        raise RecordRejected(f"unknown status {o.status!r}", "order.status")
    if o.amount_total is not None and o.amount_total < 0:
        _non_negative(o.amount_total, "order.amount_total")
    seen: set[int] = set()
    for i, line in enumerate(o.lines):
        # Hot path (every order line of every sync): plain comparisons, helpers only on failure.
        if line.line_no in seen:
            raise RecordRejected(f"duplicate line number {line.line_no}", f"order.lines[{i}].line_no")
        seen.add(line.line_no)
        if line.sku is None and line.gtin is None:
            raise RecordRejected("a line needs a SKU or a GTIN", f"order.lines[{i}].sku")
        if line.quantity is None or line.quantity < 0:
            _required(line.quantity, f"order.lines[{i}].quantity")
            _non_negative(line.quantity, f"order.lines[{i}].quantity")
        if line.quantity_shipped < 0:
            _non_negative(line.quantity_shipped, f"order.lines[{i}].quantity_shipped")
        if line.unit_price is not None and line.unit_price < 0:
            _non_negative(line.unit_price, f"order.lines[{i}].unit_price")


def _stock(s: model.StockLevel) -> None:
    _ref(s.ref, "stock.ref")
    _required(s.item, "stock.item")
    _required(s.location, "stock.location")
    _non_negative(s.on_hand, "stock.on_hand")
    _non_negative(s.allocated, "stock.allocated")
    _date(s.as_of, "stock.as_of")


def _shipment(s: model.Shipment) -> None:
    _ref(s.ref, "shipment.ref")
    _required(s.carrier, "shipment.carrier")
    _required(s.version, "shipment.version")
    _date(s.ship_date, "shipment.ship_date", required=False)
    _date(s.eta, "shipment.eta", required=False)
    if s.packages < 0:
        raise RecordRejected(f"negative value {s.packages}", "shipment.packages")
    if s.sscc is not None and not (s.sscc.isdigit() and len(s.sscc) == 18):
        raise RecordRejected(f"SSCC must be 18 digits, got {s.sscc!r}", "shipment.sscc")


def _event(e: model.DeliveryEvent) -> None:
    _required(e.event_id, "event.event_id")
    _required(e.source, "event.source")
    if e.shipment is None and not e.tracking_number:
        raise RecordRejected("an event needs a shipment or a tracking number", "event.shipment")
    if e.status not in model.DELIVERY_STATUSES:
        raise RecordRejected(f"unknown status {e.status!r}", "event.status")
    _date(e.occurred_at, "event.occurred_at")


def _invoice(i: model.Invoice) -> None:
    _ref(i.ref, "invoice.ref")
    _ref(i.customer, "invoice.customer")
    _required(i.number, "invoice.number")
    _date(i.invoice_date, "invoice.invoice_date")
    _date(i.due_date, "invoice.due_date")
    _currency(i.currency, "invoice.currency")
    if i.kind not in model.INVOICE_KINDS:
        raise RecordRejected(f"unknown kind {i.kind!r}", "invoice.kind")
    _non_negative(i.amount_total, "invoice.amount_total")
    _non_negative(i.amount_open, "invoice.amount_open")
    if i.amount_open > i.amount_total:
        raise RecordRejected("open amount exceeds the total", "invoice.amount_open")


def _payment(p: model.Payment) -> None:
    _ref(p.ref, "payment.ref")
    _ref(p.customer, "payment.customer")
    _date(p.payment_date, "payment.payment_date")
    _currency(p.currency, "payment.currency")
    _non_negative(p.amount, "payment.amount")


def _facts(f: model.CustomerFacts) -> None:
    _required(f.version, "customer_fact.version")
    _date(f.as_of, "customer_fact.as_of")
    if f.tier not in model.VALUE_TIERS:
        raise RecordRejected(f"unknown tier {f.tier!r}", "customer_fact.tier")
    _non_negative(f.overdue_total, "customer_fact.overdue_total")
    buckets = tuple(name for name, _ in model.AGING_BUCKETS)
    if tuple(f.aging) != buckets:
        raise RecordRejected(f"aging buckets {tuple(f.aging)} instead of {buckets}", "customer_fact.aging")
    for name, amount in f.aging.items():
        _non_negative(amount, f"customer_fact.aging[{name}]")


def _case(c: model.DeliveryCase) -> None:
    _ref(c.ref, "case.ref")
    if c.problem not in model.CASE_PROBLEMS:
        raise RecordRejected(f"unknown problem {c.problem!r}", "case.problem")
    if c.state not in model.CASE_STATES:
        raise RecordRejected(f"unknown state {c.state!r}", "case.state")
    if (c.state == "closed") != (c.closed_at is not None):
        raise RecordRejected("a closed case needs closed_at, an open one none", "case.closed_at")
    _required(c.detail, "case.detail")


_CHECKS: dict[type, Callable[[Any], None]] = {
    model.Customer: _customer,
    model.Order: _order,
    model.StockLevel: _stock,
    model.Shipment: _shipment,
    model.DeliveryEvent: _event,
    model.Invoice: _invoice,
    model.Payment: _payment,
    model.CustomerFacts: _facts,
    model.DeliveryCase: _case,
}
