"""The hub's database schema (SQLAlchemy Core), the single source for the migrations in waybill/store/migrations.

Every canonical table keeps the source's `version`, a keyed `row_hash` of its content (so an
unchanged replay writes nothing) and `last_message_id`, the message that last changed the row
(the audit trail). Money is Numeric(18, 4); times are naive UTC.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = BigInteger().with_variant(Integer(), "sqlite")  # INTEGER PRIMARY KEY is SQLite's rowid
MONEY = Numeric(18, 4)
QTY = Numeric(18, 4)


def _audit() -> list[Column[Any]]:
    return [
        Column("version", String(40), nullable=False),
        Column("row_hash", String(32), nullable=False),
        Column("last_message_id", ID, nullable=True),
        Column("updated_at", DateTime, nullable=False),
    ]


message = Table(
    "message",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("system", String(40), nullable=False),
    Column("stream", String(60), nullable=False),
    Column("key", String(300), nullable=False, default=""),
    Column("sha256", String(64), nullable=False),
    Column("raw", LargeBinary, nullable=True),  # sealed (waybill.store.crypto) unless key_id is NULL
    Column("archive_path", Text, nullable=True),
    Column("size", Integer, nullable=False),
    Column("state", String(12), nullable=False),
    Column("reason", Text, nullable=True),
    Column("field_path", String(200), nullable=True),
    Column("parent_id", ID, ForeignKey("message.id"), nullable=True),
    Column("received_at", DateTime, nullable=False),
    Column("processed_at", DateTime, nullable=True),
    Column("attempts", Integer, nullable=False, default=1),
    Column("key_id", String(16), nullable=True),  # the key the raw bytes are sealed under (NULL: plain, legacy)
    Column("purged_at", DateTime, nullable=True),  # raw bytes removed (retention or an erasure request)
    Index("ix_message_state", "state", "system", "stream"),
    Index("ix_message_sha", "system", "stream", "sha256"),
)

customer = Table(
    "customer",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("tax_id", String(40), nullable=True, index=True),
    Column("gln", String(13), nullable=True, index=True),
    Column("industry", String(80), nullable=True),
    Column("credit_limit", MONEY, nullable=True),
    Column("currency", String(3), nullable=True),
    Column("payment_terms", String(80), nullable=True),
    Column("status", String(20), nullable=False),
    Column("contacts_enc", Text, nullable=True),  # AES-256-GCM, see waybill.store.crypto
    Column("addresses", Text, nullable=True),  # JSON, AES-256-GCM like contacts_enc
    *_audit(),
)

customer_identity = Table(
    "customer_identity",
    metadata,
    Column("system", String(40), primary_key=True),
    Column("external_id", String(120), primary_key=True),
    Column("customer_id", ID, ForeignKey("customer.id"), nullable=False, index=True),
    Column("version", String(40), nullable=True),
    Column("row_hash", String(32), nullable=True),
    Column("matched_by", String(20), nullable=False),  # crosswalk, tax_id, gln, alias, new
)

orders = Table(
    "orders",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("system", String(40), nullable=False),
    Column("external_id", String(120), nullable=False),
    Column("customer_id", ID, ForeignKey("customer.id"), nullable=False, index=True),
    Column("kind", String(12), nullable=False),
    Column("status", String(20), nullable=False),
    Column("po_number", String(80), nullable=True, index=True),
    Column("order_date", Date, nullable=False),
    Column("requested_date", Date, nullable=True),
    Column("currency", String(3), nullable=False),
    Column("amount_untaxed", MONEY, nullable=True),
    Column("amount_total", MONEY, nullable=True),
    Column("ship_to", Text, nullable=True),  # JSON
    *_audit(),
    UniqueConstraint("system", "external_id", name="uq_orders_ref"),
)

order_line = Table(
    "order_line",
    metadata,
    Column("order_id", ID, ForeignKey("orders.id"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("sku", String(80), nullable=True),
    Column("gtin", String(14), nullable=True),
    Column("description", String(300), nullable=True),
    Column("quantity", QTY, nullable=False),
    Column("uom", String(10), nullable=False),
    Column("unit_price", MONEY, nullable=True),
    Column("quantity_shipped", QTY, nullable=False),
)

stock_level = Table(
    "stock_level",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("system", String(40), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("item", String(80), nullable=False),
    Column("gtin", String(14), nullable=True),
    Column("location", String(80), nullable=False),
    Column("on_hand", QTY, nullable=False),
    Column("allocated", QTY, nullable=False),
    Column("available", QTY, nullable=False),
    Column("as_of", DateTime, nullable=False),
    *_audit(),
    UniqueConstraint("system", "external_id", name="uq_stock_level_ref"),
)

shipment = Table(
    "shipment",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("system", String(40), nullable=False),
    Column("external_id", String(120), nullable=False),
    Column("customer_id", ID, ForeignKey("customer.id"), nullable=True, index=True),
    Column("carrier", String(40), nullable=False),
    Column("tracking_number", String(60), nullable=True, index=True),
    Column("sscc", String(18), nullable=True),
    Column("ship_date", Date, nullable=True),
    Column("packages", Integer, nullable=False),
    Column("eta", DateTime, nullable=True),
    Column("status", String(20), nullable=False),
    Column("substatus", String(40), nullable=True),
    Column("status_at", DateTime, nullable=True),
    Column("status_code", String(20), nullable=True),
    Column("last_place", String(120), nullable=True),
    Column("delivered_at", DateTime, nullable=True),
    *_audit(),
    UniqueConstraint("system", "external_id", name="uq_shipment_ref"),
)

shipment_order_ref = Table(
    "shipment_order_ref",
    metadata,
    Column("shipment_id", ID, ForeignKey("shipment.id"), primary_key=True),
    Column("position", Integer, primary_key=True),  # the order refs' order in the shipment
    Column("system", String(40), nullable=False),
    Column("external_id", String(120), nullable=False),
    Index("ix_shipment_order_ref_order", "system", "external_id"),  # an order's shipments
)

# Another system's id of a hub order: the ERP's sale.order of an order a partner sent, written back
# (found by its client_order_ref and customer). The ERP's changes of it land on the partner's order;
# `version` is the last one taken from that system (its versions are compared with its own).
order_alias = Table(
    "order_alias",
    metadata,
    Column("system", String(40), primary_key=True),
    Column("external_id", String(120), primary_key=True),
    Column("order_id", ID, ForeignKey("orders.id"), nullable=False, index=True),
    Column("version", String(40), nullable=True),
)

# The orders an invoice bills when it bills several (an ERP invoice for "S00032, S00031").
invoice_order = Table(
    "invoice_order",
    metadata,
    Column("invoice_id", ID, ForeignKey("invoice.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("order_id", ID, ForeignKey("orders.id"), nullable=False, index=True),
)

delivery_event = Table(
    "delivery_event",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("shipment_id", ID, ForeignKey("shipment.id"), nullable=False, index=True),
    Column("source", String(40), nullable=False),
    Column("event_id", String(120), nullable=False),
    Column("status", String(20), nullable=False),
    Column("substatus", String(40), nullable=True),
    Column("raw_code", String(20), nullable=False),
    Column("occurred_at", DateTime, nullable=False),
    Column("place", String(120), nullable=True),
    Column("estimate_only", Boolean, nullable=False),
    Column("eta", DateTime, nullable=True),
    Column("last_message_id", ID, nullable=True),
    UniqueConstraint("source", "event_id", name="uq_delivery_event_ref"),
)

delivery_case = Table(
    "delivery_case",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("system", String(40), nullable=False),
    Column("external_id", String(120), nullable=False),
    Column("shipment_id", ID, ForeignKey("shipment.id"), nullable=False, index=True),
    Column("customer_id", ID, ForeignKey("customer.id"), nullable=False),
    Column("order_id", ID, nullable=True),
    Column("problem", String(20), nullable=False),
    Column("state", String(10), nullable=False),
    Column("priority", String(10), nullable=False),
    Column("detail", String(500), nullable=False),
    Column("opened_at", DateTime, nullable=False),
    Column("closed_at", DateTime, nullable=True),
    *_audit(),
    UniqueConstraint("system", "external_id", name="uq_delivery_case_ref"),
)

invoice = Table(
    "invoice",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("system", String(40), nullable=False),
    Column("external_id", String(120), nullable=False),
    Column("customer_id", ID, ForeignKey("customer.id"), nullable=False, index=True),
    Column("order_id", ID, nullable=True),
    Column("number", String(60), nullable=False),
    Column("kind", String(12), nullable=False),
    Column("status", String(20), nullable=False),
    Column("invoice_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_total", MONEY, nullable=False),
    Column("amount_open", MONEY, nullable=False),
    *_audit(),
    UniqueConstraint("system", "external_id", name="uq_invoice_ref"),
)

invoice_line = Table(
    "invoice_line",
    metadata,
    Column("invoice_id", ID, ForeignKey("invoice.id"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("sku", String(80), nullable=True),
    Column("description", String(300), nullable=True),
    Column("quantity", QTY, nullable=False),
    Column("unit_price", MONEY, nullable=False),
    Column("amount", MONEY, nullable=False),
)

payment = Table(
    "payment",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("system", String(40), nullable=False),
    Column("external_id", String(120), nullable=False),
    Column("customer_id", ID, ForeignKey("customer.id"), nullable=False, index=True),
    Column("invoice_id", ID, nullable=True, index=True),
    Column("payment_date", Date, nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
    *_audit(),
    UniqueConstraint("system", "external_id", name="uq_payment_ref"),
)

customer_fact = Table(
    "customer_fact",
    metadata,
    Column("customer_id", ID, ForeignKey("customer.id"), primary_key=True),
    Column("tier", String(1), nullable=False),
    Column("revenue_12m", MONEY, nullable=False),
    Column("lifetime_value", MONEY, nullable=False),
    Column("churn_warning", Boolean, nullable=False),
    Column("overdue_total", MONEY, nullable=False),
    Column("aging", Text, nullable=False),  # JSON bucket -> amount
    Column("as_of", Date, nullable=False),
    *_audit(),
)

cursor = Table(
    "cursor",
    metadata,
    Column("system", String(40), primary_key=True),
    Column("stream", String(60), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

# the last pass over a stream that read it to its end: what the hub holds of the stream is complete
# as of `started_at` (a flow built from it, the finance feed of a day, waits for one after that day)
stream_pass = Table(
    "stream_pass",
    metadata,
    Column("system", String(40), primary_key=True),
    Column("stream", String(60), primary_key=True),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("target", String(40), nullable=False),
    Column("entity", String(20), nullable=False),
    Column("entity_id", ID, nullable=False),
    Column("idempotency_key", String(120), nullable=False, unique=True),
    Column("state", String(12), nullable=False),  # pending, delivered, dead
    Column("attempts", Integer, nullable=False),
    Column("reason", Text, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("delivered_at", DateTime, nullable=True),
    # the worker delivering the row, and until when (outbox.claim)
    Column("claimed_by", String(80), nullable=True),
    Column("claimed_until", DateTime, nullable=True),
    # what a delivered row told its target, when the next row must not say it again (outbox.last_digest)
    Column("digest", String(64), nullable=True),
    Index("ix_outbox_pending", "target", "state", "id"),
)

control_number = Table(
    "control_number",
    metadata,
    Column("partner", String(60), primary_key=True),
    Column("kind", String(10), primary_key=True),
    Column("last_value", BigInteger, nullable=False),
)

interchange = Table(
    "interchange",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    # inbound: the partner whose inbox it came through; outbound: ""
    Column("partner", String(60), nullable=False, server_default=""),
    Column("direction", String(3), nullable=False),  # in, out
    Column("level", String(12), nullable=False),  # interchange, group
    Column("standard", String(10), nullable=False),
    Column("sender", String(40), nullable=False),
    Column("receiver", String(40), nullable=False),
    Column("control_number", String(20), nullable=False),
    Column("message_id", ID, nullable=True),
    Column("messages", Text, nullable=True),  # JSON list of message control numbers
    Column("state", String(20), nullable=False),  # received, sent, A, E, P, R
    Column("ack", Text, nullable=True),  # JSON of the acknowledgment's per-message statuses
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("partner", "direction", "level", "standard", "sender", "receiver", "control_number",
                     name="uq_interchange_ref"),
)

flow_run = Table(
    "flow_run",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("flow", String(60), nullable=False),
    Column("run_id", String(200), nullable=False),
    Column("state", String(12), nullable=False),  # success, failed
    Column("detail", Text, nullable=True),
    Column("counts", Text, nullable=True),  # JSON
    Column("at", DateTime, nullable=False),
    Index("ix_flow_run_flow", "flow", "at"),
)

privacy_audit = Table(
    "privacy_audit",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("action", String(20), nullable=False),  # purge, forget, rotate
    Column("subject", String(200), nullable=True),  # e.g. the hub customer id of an erasure
    Column("detail", Text, nullable=True),  # JSON: counts per kind, cut-offs, key ids
    Index("ix_privacy_audit_at", "action", "at"),
)

reconciliation = Table(
    "reconciliation",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("drift", Boolean, nullable=False),  # a difference that is not a known dead letter
    Column("report", Text, nullable=False),  # JSON: per entity and pair of systems, counts, checksums, differences
)
