"""The canonical customer model: what every source is mapped into and every target is fed from.

Entities are plain frozen dataclasses, produced by the pure functions in `mappings/` and written by
`waybill.store.store.Store.apply`. Each entity names the system that sent it and that system's own id; the
hub keeps its own ids and a crosswalk (`CustomerIdentity`) to every system's ids.

`version` is the source's own notion of recency, made sortable as a string by `version_of`; an
update whose version is older than the stored one never overwrites it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, NamedTuple

#: Canonical delivery statuses: the vocabulary of AfterShip, EasyPost and karrio, in the order a
#: parcel normally moves through them. A finer meaning goes in the event's substatus (e.g.
#: in_transit/picked_up), the carrier's own code in raw_code; waybill.canonical.tracking maps codes.
DELIVERY_STATUSES: tuple[str, ...] = (
    "pre_transit",
    "in_transit",
    "out_for_delivery",
    "available_for_pickup",
    "attempt_failed",
    "delivered",
    "exception",
    "return_to_sender",
    "cancelled",
    "unknown",
)
#: Statuses that end a shipment's life: a late scan of an earlier event never undoes them.
TERMINAL_STATUSES: frozenset[str] = frozenset({"delivered", "return_to_sender", "cancelled"})

ORDER_KINDS: tuple[str, ...] = ("sale", "return", "fulfilment")
ORDER_STATUSES: tuple[str, ...] = (
    "draft",
    "confirmed",
    "partially_shipped",
    "shipped",
    "delivered",
    "invoiced",
    "cancelled",
)
CUSTOMER_STATUSES: tuple[str, ...] = ("active", "blocked", "inactive", "prospect")
#: Value tiers of customers (waybill.canonical.insights), best first.
VALUE_TIERS: tuple[str, ...] = ("A", "B", "C")
INVOICE_KINDS: tuple[str, ...] = ("invoice", "credit_note")

#: Aging buckets of the receivable view, by days overdue (inclusive upper bounds; None = open end).
AGING_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("current", 0),
    ("1-30", 30),
    ("31-60", 60),
    ("61-90", 90),
    ("over_90", None),
)


def aging_bucket(days_overdue: int) -> str:
    """The aging bucket of an open item `days_overdue` days past its due date (<= 0: current)."""
    for name, upper in AGING_BUCKETS:
        if upper is None or days_overdue <= upper:
            return name
    raise AssertionError("the last bucket is open-ended")


def version_of(value: dt.datetime | dt.date | int | str) -> str:
    """Turn a source's version (timestamp, sequence number or ready string) into a sortable string.

    Timestamps become ISO-8601 in UTC with microseconds; integers are zero-padded to 20 digits so
    that string order is numeric order.
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat() + "T00:00:00.000000"
    if isinstance(value, int):
        return f"{value:020d}"
    return value


#: System families that name one instance after a ':' ("carrier:fedex", "edi:acme"); the others
#: ("erp", "crm", "wms", "tms", "hub") are one word.
INSTANCE_FAMILIES: frozenset[str] = frozenset({"carrier", "edi"})


class Ref(NamedTuple):
    """A record's id in one system, e.g. Ref("erp", "res.partner/42").

    Written as "system:external_id" (`str`) and read back with `Ref.parse`, the one parser of that
    format. A NamedTuple: refs are hashed and compared for every record of every sync, in C this way."""

    system: str
    external_id: str

    def __str__(self) -> str:
        return f"{self.system}:{self.external_id}"

    @classmethod
    def parse(cls, text: str) -> Ref:
        """The Ref that `str` wrote: "erp:res.partner/42" -> Ref("erp", "res.partner/42"),
        "edi:acme:850/1" -> Ref("edi:acme", "850/1").

        The system is its family, plus the instance for INSTANCE_FAMILIES; everything after that
        (':' and '/' included) is the external id. ValueError when a part is missing."""
        family, _, rest = text.partition(":")
        system = family
        if family in INSTANCE_FAMILIES:
            instance, _, rest = rest.partition(":")
            system = f"{family}:{instance}" if instance else ""
        if not system or not rest:
            shape = f"'{family}:<instance>:<id>'" if family in INSTANCE_FAMILIES else "'system:external_id'"
            raise ValueError(f"ref {text!r} must look like {shape}")
        return cls(system, rest)


@dataclass(frozen=True, slots=True)
class Contact:
    """A person at a customer. Phone and e-mail are personal data: stored encrypted, masked in logs."""

    name: str
    email: str | None = None
    phone: str | None = None
    role: str | None = None


@dataclass(frozen=True, slots=True)
class Address:
    kind: str  # billing, shipping, ...
    street: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2
    name: str | None = None
    gln: str | None = None


@dataclass(frozen=True, slots=True)
class Customer:
    ref: Ref
    name: str
    version: str
    tax_id: str | None = None
    gln: str | None = None
    industry: str | None = None
    credit_limit: Decimal | None = None
    currency: str | None = None
    payment_terms: str | None = None
    status: str = "active"
    contacts: tuple[Contact, ...] = ()
    addresses: tuple[Address, ...] = ()
    #: Ids of the same customer in other systems that this source knows (an explicit crosswalk).
    aliases: tuple[Ref, ...] = ()


@dataclass(frozen=True, slots=True)
class OrderLine:
    line_no: int
    quantity: Decimal
    sku: str | None = None
    gtin: str | None = None
    description: str | None = None
    uom: str = "EA"
    unit_price: Decimal | None = None
    quantity_shipped: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Order:
    ref: Ref
    customer: Ref
    version: str
    order_date: dt.date
    currency: str
    kind: str = "sale"
    status: str = "confirmed"
    po_number: str | None = None
    requested_date: dt.date | None = None
    amount_untaxed: Decimal | None = None
    amount_total: Decimal | None = None
    ship_to: Address | None = None
    lines: tuple[OrderLine, ...] = ()


@dataclass(frozen=True, slots=True)
class StockLevel:
    ref: Ref  # external id: "<item>@<location>"
    item: str
    location: str
    on_hand: Decimal
    allocated: Decimal
    as_of: dt.datetime
    version: str
    gtin: str | None = None

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.allocated


@dataclass(frozen=True, slots=True)
class Shipment:
    ref: Ref
    version: str
    carrier: str
    tracking_number: str | None = None
    sscc: str | None = None
    order_refs: tuple[Ref, ...] = ()
    customer: Ref | None = None
    ship_date: dt.date | None = None
    eta: dt.datetime | None = None
    packages: int = 1


@dataclass(frozen=True, slots=True)
class DeliveryEvent:
    """One scan or status message about a shipment, found by shipment ref or tracking number."""

    event_id: str  # unique per source, used to recognise the same event twice
    status: str  # one of DELIVERY_STATUSES ("unknown" with substatus "unmapped_code": a code no table knows)
    raw_code: str
    occurred_at: dt.datetime
    source: str
    shipment: Ref | None = None
    tracking_number: str | None = None
    place: str | None = None
    #: An estimate-only status (X12 214 AT7 with only an ETA) updates the ETA, never the status.
    estimate_only: bool = False
    eta: dt.datetime | None = None
    substatus: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    line_no: int
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    sku: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Invoice:
    ref: Ref
    customer: Ref
    version: str
    number: str
    invoice_date: dt.date
    due_date: dt.date
    currency: str
    amount_total: Decimal
    amount_open: Decimal
    kind: str = "invoice"
    order: Ref | None = None
    status: str = "posted"
    lines: tuple[InvoiceLine, ...] = ()
    #: every order the invoice bills, when it bills several (`order` is the first of them)
    orders: tuple[Ref, ...] = ()


@dataclass(frozen=True, slots=True)
class Payment:
    ref: Ref
    customer: Ref
    version: str
    payment_date: dt.date
    amount: Decimal
    currency: str
    invoice: Ref | None = None


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    """A hub customer's value facts for the CRM, computed by the hub (waybill.canonical.insights).

    The hub is their source, so they are keyed by the hub's own customer id rather than a Ref;
    `version` is version_of(as_of): facts as of an earlier day never overwrite later ones.
    """

    customer_id: int
    version: str
    as_of: dt.date
    tier: str  # one of VALUE_TIERS
    revenue_12m: Decimal
    lifetime_value: Decimal
    churn_warning: bool
    overdue_total: Decimal
    #: open amount per aging bucket (AGING_BUCKETS' names, in their order)
    aging: dict[str, Decimal]


#: Problems a delivery can have that the customer's account team is told of (waybill.canonical.exceptions).
CASE_PROBLEMS: tuple[str, ...] = ("failed_delivery", "stalled", "late", "returning")
CASE_STATES: tuple[str, ...] = ("open", "closed")


@dataclass(frozen=True, slots=True)
class DeliveryCase:
    """One problem of one shipment, as the CRM's Case about it: opened when a rule first sees the
    problem, updated when what is known of it changes, closed when the parcel is delivered.

    Derived by the hub from hub rows, so it names them by hub id; its ref is
    Ref("hub", "case/<shipment id>/<problem>"), one case per shipment and problem."""

    ref: Ref
    version: str
    shipment_id: int
    customer_id: int
    problem: str  # one of CASE_PROBLEMS
    state: str  # one of CASE_STATES
    priority: str  # the CRM's Case priority: High, Medium, Low (from the customer's tier)
    detail: str
    opened_at: dt.datetime
    order_id: int | None = None
    closed_at: dt.datetime | None = None


Entity = (Customer | Order | StockLevel | Shipment | DeliveryEvent | Invoice | Payment | CustomerFacts
          | DeliveryCase)

MessageState = Literal["received", "processed", "rejected", "dead", "duplicate", "replayed", "parked"]


@dataclass(slots=True)
class Reject:
    """A record that could not be mapped or failed validation: dead-lettered, replayable."""

    key: str
    reason: str
    field_path: str | None = None
    raw: bytes = b""


@dataclass(slots=True)
class InboundMessage:
    """One inbound message (API page, EDI file, SOAP reply) and what it was mapped into.

    `raw` is kept in the message log before anything is acted on; `entities` and `rejects` are the
    mapping's outcome. A message whose content (sha256) was already processed for the same system
    and stream is recognised as a duplicate and its entities are skipped.
    """

    raw: bytes
    key: str = ""
    entities: list[Entity] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    #: Set when the whole message is refused (e.g. an EDI interchange that fails validation).
    rejected_reason: str | None = None
    #: Set when the message was logged earlier with Store.receive (e.g. a downloaded file).
    message_id: int | None = None


@dataclass(slots=True)
class Batch:
    """What one fetch of one stream produced, applied by the store in one transaction."""

    system: str
    stream: str
    messages: list[InboundMessage] = field(default_factory=list)
    #: The stream's next cursor, committed with the data it describes (None: leave unchanged).
    cursor: str | None = None
