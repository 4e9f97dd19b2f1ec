"""Writers: canonical entities into the store's tables, inside the caller's transaction.

Every writer reads what is stored for the batch's keys in one query per chunk, compares in Python
and writes only what is new or changed, in bulk:
- an update whose source version is older than the stored one is skipped (stale);
- an update whose content hash equals the stored one writes nothing and yields no change;
- a reference that cannot be resolved (unknown customer, unknown shipment) rejects that record with
  UnknownReference: the store parks it until the reference arrives (waybill.store.parking).
Each inserted or changed row becomes an outbox.Change.

One module per entity family (customers, orders, invoices, stock, shipments, facts); `common` holds what
they share and `keyed` the writer of every entity keyed by (system, external id).
"""

from __future__ import annotations

from waybill.canonical import model
from waybill.store.writers.common import Context, Item, Outcome, Rejected
from waybill.store.writers.customers import write_customers
from waybill.store.writers.facts import write_facts
from waybill.store.writers.invoices import INVOICE, PAYMENT
from waybill.store.writers.keyed import write_keyed
from waybill.store.writers.orders import ORDER
from waybill.store.writers.shipments import SHIPMENT, write_events
from waybill.store.writers.stock import STOCK

__all__ = ["Context", "Item", "Outcome", "Rejected", "write_all"]


def write_all(ctx: Context, items: list[Item]) -> Outcome:
    """Write a batch's entities in dependency order: customers first, events after shipments."""
    by_type: dict[type, list[Item]] = {}
    for item in items:
        by_type.setdefault(type(item.entity), []).append(item)
    out = Outcome()
    out.add(write_customers(ctx, by_type.get(model.Customer, [])))
    for spec in (STOCK, SHIPMENT, ORDER, INVOICE, PAYMENT):
        out.add(write_keyed(ctx, spec, by_type.get(spec.type, [])))
    out.add(write_events(ctx, by_type.get(model.DeliveryEvent, [])))
    out.add(write_facts(ctx, by_type.get(model.CustomerFacts, [])))
    return out
