"""Writers: canonical entities into the store's tables, inside the caller's transaction.

Every writer reads what is stored for the batch's keys in one query per chunk, compares in Python
and writes only what is new or changed, in bulk:
- an update whose source version is older than the stored one is skipped (stale);
- an update whose content hash equals the stored one writes nothing and yields no change;
- a reference that cannot be resolved (unknown customer, unknown shipment) rejects that record with
  UnknownReference: the store parks it until the reference arrives (waybill.store.parking).
Each inserted or changed row becomes an outbox.Change.

One module per entity family (customers, orders, invoices, stock, shipments, facts, cases); `common` holds what
they share and `keyed` the writer of every entity keyed by (system, external id).
"""

from __future__ import annotations

from waybill.canonical import model
from waybill.store.writers.cases import CASE
from waybill.store.writers.common import Context, Item, Outcome, Rejected
from waybill.store.writers.customers import content_hash, write_customers
from waybill.store.writers.facts import write_facts
from waybill.store.writers.invoices import INVOICE, PAYMENT
from waybill.store.writers.keyed import KeyedSpec, prepare, write_keyed
from waybill.store.writers.orders import ORDER
from waybill.store.writers.shipments import SHIPMENT, write_events
from waybill.store.writers.stock import STOCK

__all__ = ["SPECS", "Context", "Item", "Outcome", "Rejected", "fingerprints", "write_all"]

#: the entities keyed by (system, external id), by outbox entity name
SPECS: dict[str, KeyedSpec] = {s.entity: s for s in (STOCK, SHIPMENT, ORDER, INVOICE, PAYMENT)}


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
    out.add(write_keyed(ctx, CASE, by_type.get(model.DeliveryCase, [])))
    return out


def fingerprints(ctx: Context, entities: list[model.Entity]) -> dict[model.Ref, str]:
    """The content hash each customer, stock level, shipment, order, invoice or payment would be
    stored with (what the store compares to find a change), by ref; writes nothing. Records whose
    references the hub cannot resolve have none."""
    out: dict[model.Ref, str] = {}
    for e in entities:
        if isinstance(e, model.Customer):
            out[e.ref] = content_hash(ctx, e)
    for spec in SPECS.values():
        prepared, _ = prepare(ctx, spec, [Item(None, e) for e in entities if isinstance(e, spec.type)])
        out.update((p.entity.ref, p.row_hash) for p in prepared)
    return out
