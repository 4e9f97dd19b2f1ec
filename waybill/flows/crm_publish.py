"""Flow crm_publish: deliver the hub's pending CRM changes (outbox target "crm") to Salesforce.

Accounts go first (customer and customer_fact changes both become the customer's Account, facts
included when computed), then Orders and Shipments, which refer to their Account by external id,
then the Cases of delivery problems (waybill.flows.delivery_exceptions), which refer to all three.
A record whose Account is not delivered (it failed for now, or is still pending) waits for a later
run. Rows are claimed (waybill.store.outbox.claim), so an overlapping run never sends them twice.
Several pending changes of one row become one record: the current row is what is sent. Each
request's results are marked in the outbox right away: delivered, dead with the CRM's error (a
permanent rejection does not hold back the other records), or left pending when the error is
transient. When the org's API limit is (nearly) reached the run stops and the rest waits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

from waybill.connectors.crm import CrmClient, CrmLimitReached, Record
from waybill.core.logs import event, get_logger
from waybill.flows.counts import FlowCounts
from waybill.mappings import crm as crm_map
from waybill.store import outbox
from waybill.store.outbox import OutboxItem
from waybill.store.reads import crm as crm_reads
from waybill.store.store import Store, utcnow

log = get_logger("flows.crm_publish")
TARGET = "crm"
#: The CRM keeps the idempotency key of the change that last wrote each record (audit, redelivery).
CHANGE_KEY = "Waybill_Change_Key__c"
V = TypeVar("V")


@dataclass(frozen=True)
class CrmObject(Generic[V]):
    """A CRM object, the hub entities whose changes feed it, how the store reads them and how
    one view becomes a record."""

    name: str
    entities: frozenset[str]
    read: Callable[[Connection, Sequence[int] | None], dict[int, V]]  # None: every row
    record: Callable[[V], dict[str, Any]]
    #: the hub customer whose Account a record refers to (None: the object is an Account)
    parent: Callable[[V], int | None] | None = None

    def records(self, conn: Connection, ids: Sequence[int]) -> tuple[dict[int, dict[str, Any]], list[int]]:
        """The records of the hub ids `ids` that still exist and can go now, by hub id; and the
        hub ids that wait because their Account is not in the CRM yet (pending, failed for now)."""
        views = self.read(conn, ids)
        waiting: list[int] = []
        if self.parent is not None:
            parents = {hub_id: self.parent(v) for hub_id, v in views.items()}
            ready = outbox.delivered_entities(conn, TARGET, "customer",
                                              [p for p in parents.values() if p is not None])
            waiting = [hub_id for hub_id, p in parents.items() if p is not None and p not in ready]
        return {hub_id: self.record(v) for hub_id, v in views.items() if hub_id not in waiting}, waiting


#: In publishing order: Orders, Shipments and Cases refer to their Account, and go only once it is delivered.
PLAN: tuple[CrmObject[Any], ...] = (
    CrmObject(crm_map.ACCOUNT, frozenset({"customer", "customer_fact"}), crm_reads.accounts, crm_map.account),
    CrmObject(crm_map.ORDER, frozenset({"order"}), crm_reads.orders, crm_map.order, lambda v: v.customer_id),
    CrmObject(crm_map.SHIPMENT, frozenset({"shipment"}), crm_reads.shipments, crm_map.shipment,
              lambda v: v.customer_id),
    CrmObject(crm_map.CASE, frozenset({"delivery_case"}), crm_reads.cases, crm_map.case,
              lambda v: v.case.customer_id),
)


def run(store: Store | None = None, *, client: CrmClient | None = None, limit: int = 50_000) -> FlowCounts:
    """Publish up to `limit` pending changes: outbox rows read (received), delivered (published),
    dead-lettered (dead) and left pending after a transient refusal (retry)."""
    store = store or Store.open()
    worker = outbox.worker_name()
    with store.begin() as conn:  # claimed: an overlapping run takes other rows, or none
        items = outbox.claim(conn, TARGET, worker=worker, now=utcnow(), lease=store.claim_lease, limit=limit)
    counts = FlowCounts(received=len(items))
    if not items:
        return counts
    client = client or CrmClient()
    known = frozenset().union(*(obj.entities for obj in PLAN))
    _settle(store, [(i.id, f"no CRM object for entity {i.entity}") for i in items if i.entity not in known], counts)
    try:
        for obj in PLAN:
            _publish(store, client, obj, [i for i in items if i.entity in obj.entities], counts=counts)
    except CrmLimitReached as err:
        event(log, "crm-limit", system=TARGET, reason=str(err), usage=client.usage)
    finally:  # what was not settled (children waiting, a stop at the API limit) is free again at once
        with store.begin() as conn:
            outbox.release(conn, [i.id for i in items], worker)
    event(log, "published", system=TARGET, requests=client.requests, **counts.as_dict())
    return counts


def _publish(store: Store, client: CrmClient, obj: CrmObject[Any], items: Sequence[OutboxItem], *,
             counts: FlowCounts) -> None:
    if not items:
        return
    rows: dict[int, list[int]] = defaultdict(list)  # hub id -> outbox ids
    change_key: dict[int, str] = {}  # hub id -> idempotency key of its latest pending change
    for i in items:
        rows[i.entity_id].append(i.id)
        change_key[i.entity_id] = i.idempotency_key
    with store.engine.connect() as conn:
        records, waiting = obj.records(conn, sorted(rows))
    if waiting:  # their Account comes first: they stay pending (released at the end of the run)
        counts.retry += sum(len(rows[hub_id]) for hub_id in waiting)
        event(log, "crm-waits-for-account", system=TARGET, stream=obj.name, records=len(waiting))
    _settle(store, [(oid, f"{obj.name} {hub_id}: the hub row no longer exists")
                    for hub_id, oids in rows.items() if hub_id not in records and hub_id not in waiting
                    for oid in oids], counts)
    batch = [Record(str(hub_id), {**fields, CHANGE_KEY: change_key[hub_id]}) for hub_id, fields in records.items()]
    for results in client.upsert(obj.name, crm_map.EXTERNAL_ID, batch):
        delivered: list[int] = []
        with store.begin() as conn:
            for res in results:
                oids = rows[int(res.key)]
                if res.ok:
                    delivered += oids
                    continue
                for oid in oids:
                    outbox.mark_failed(conn, oid,
                                       f"CRM rejected {obj.name} {crm_map.EXTERNAL_ID}={res.key}: {res.error}",
                                       dead=not res.transient)
                if res.transient:
                    counts.retry += len(oids)
                    continue
                counts.dead += len(oids)
                event(log, "crm-rejected", system=TARGET, stream=obj.name, record=res.key, reason=res.error)
            outbox.mark_delivered(conn, delivered, utcnow())
        counts.published += len(delivered)


def _settle(store: Store, dead: list[tuple[int, str]], counts: FlowCounts) -> None:
    """Dead-letter outbox rows that cannot be published at all."""
    if not dead:
        return
    with store.begin() as conn:
        for oid, reason in dead:
            outbox.mark_failed(conn, oid, reason, dead=True)
    counts.dead += len(dead)
