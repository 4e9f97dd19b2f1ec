"""Flow crm_publish: deliver the hub's pending CRM changes (outbox target "crm") to Salesforce.

Accounts go first (customer and customer_fact changes both become the customer's Account, facts
included when computed), then Orders and Shipments, which refer to their Account by external id.
Several pending changes of one row become one record: the current row is what is sent. Each
request's results are marked in the outbox right away: delivered, dead with the CRM's error (a
permanent rejection does not hold back the other records), or left pending when the error is
transient. When the org's API limit is (nearly) reached the run stops and the rest waits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from waybill.connectors.crm import CrmClient, CrmLimitReached, Record
from waybill.core.logs import event, get_logger
from waybill.mappings import crm as crm_map
from waybill.store import outbox
from waybill.store.outbox import OutboxItem
from waybill.store.schema import customer, customer_fact, customer_identity, orders, shipment
from waybill.store.store import Store, utcnow

log = get_logger("flows.crm_publish")
TARGET = "crm"
#: The CRM keeps the idempotency key of the change that last wrote each record (audit, redelivery).
CHANGE_KEY = "Waybill_Change_Key__c"
CHUNK = 500


def _accounts(conn: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    facts = {r.customer_id: r._mapping for r in _rows(conn, customer_fact, customer_fact.c.customer_id, ids)}
    erp_ids: dict[int, str] = {}
    for chunk in _chunks(ids):
        q = (select(customer_identity.c.customer_id, func.min(customer_identity.c.external_id))
             .where(customer_identity.c.system == "erp", customer_identity.c.customer_id.in_(chunk))
             .group_by(customer_identity.c.customer_id))
        erp_ids.update(dict(conn.execute(q).all()))
    return {r.id: crm_map.account(r._mapping, erp_ids.get(r.id), facts.get(r.id))
            for r in _rows(conn, customer, customer.c.id, ids)}


def _orders(conn: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    return {r.id: crm_map.order(r._mapping) for r in _rows(conn, orders, orders.c.id, ids)}


def _shipments(conn: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    return {r.id: crm_map.shipment(r._mapping) for r in _rows(conn, shipment, shipment.c.id, ids)}


#: CRM object, the hub entities that feed it, and how to build its records from hub ids.
PLAN: tuple[tuple[str, frozenset[str], Callable[[Connection, list[int]], dict[int, dict[str, Any]]]], ...] = (
    (crm_map.ACCOUNT, frozenset({"customer", "customer_fact"}), _accounts),
    (crm_map.ORDER, frozenset({"order"}), _orders),
    (crm_map.SHIPMENT, frozenset({"shipment"}), _shipments),
)


def run(store: Store | None = None, client: CrmClient | None = None, limit: int = 50_000,
        **_options: object) -> dict[str, int]:
    """Publish up to `limit` pending changes; counts of changes read, delivered and dead-lettered."""
    store = store or Store.open()
    with store.engine.connect() as conn:
        items = outbox.pending(conn, TARGET, limit)
    counts = {"received": len(items), "published": 0, "dead": 0}
    if not items:
        return counts
    client = client or CrmClient()
    known = frozenset().union(*(entities for _, entities, _ in PLAN))
    _settle(store, [(i.id, f"no CRM object for entity {i.entity}") for i in items if i.entity not in known], counts)
    try:
        for obj, entities, build in PLAN:
            _publish(store, client, obj, [i for i in items if i.entity in entities], build, counts)
    except CrmLimitReached as err:
        event(log, "crm-limit", system=TARGET, reason=str(err), usage=client.usage)
    event(log, "published", system=TARGET, requests=client.requests, **counts)
    return counts


def _publish(store: Store, client: CrmClient, obj: str, items: Sequence[OutboxItem],
             build: Callable[[Connection, list[int]], dict[int, dict[str, Any]]], counts: dict[str, int]) -> None:
    if not items:
        return
    rows: dict[int, list[int]] = defaultdict(list)  # hub id -> outbox ids
    change_key: dict[int, str] = {}  # hub id -> idempotency key of its latest pending change
    for i in items:
        rows[i.entity_id].append(i.id)
        change_key[i.entity_id] = i.idempotency_key
    with store.engine.connect() as conn:
        records = build(conn, sorted(rows))
    _settle(store, [(oid, f"{obj} {hub_id}: the hub row no longer exists")
                    for hub_id, oids in rows.items() if hub_id not in records for oid in oids], counts)
    batch = [Record(str(hub_id), {**fields, CHANGE_KEY: change_key[hub_id]}) for hub_id, fields in records.items()]
    for results in client.upsert(obj, crm_map.EXTERNAL_ID, batch):
        delivered: list[int] = []
        with store.begin() as conn:
            for res in results:
                oids = rows[int(res.key)]
                if res.ok:
                    delivered += oids
                    continue
                for oid in oids:
                    outbox.mark_failed(conn, oid, f"CRM rejected {obj} {crm_map.EXTERNAL_ID}={res.key}: {res.error}",
                                       dead=not res.transient)
                if not res.transient:
                    counts["dead"] += len(oids)
                    event(log, "crm-rejected", system=TARGET, stream=obj, record=res.key, reason=res.error)
            outbox.mark_delivered(conn, delivered, utcnow())
        counts["published"] += len(delivered)


def _settle(store: Store, dead: list[tuple[int, str]], counts: dict[str, int]) -> None:
    """Dead-letter outbox rows that cannot be published at all."""
    if not dead:
        return
    with store.begin() as conn:
        for oid, reason in dead:
            outbox.mark_failed(conn, oid, reason, dead=True)
    counts["dead"] += len(dead)


def _rows(conn: Connection, table: Any, key: Any, ids: list[int]) -> list[Any]:
    return [r for chunk in _chunks(ids) for r in conn.execute(select(table).where(key.in_(chunk)))]


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]
