"""Reconciliation: are the hub, the ERP and the CRM in step? Per entity and pair of systems, the
record counts, a checksum of the records' contents on each side, and every record that differs.

- ERP -> hub (customers, orders, invoices, payments): every record the ERP holds now, read in full
  through the connector and mapped as a sync would, against what the hub stores for system "erp",
  by the content hash the store itself compares (waybill.store.reconcile).
- hub -> finance (open items): the AR feed the hub would deliver for a cut-off day against the file
  finance holds for it, row by row (by invoice number).
- hub -> CRM (Accounts, Orders, Shipments): the record the hub would send for every row whose
  changes were all delivered, against the CRM's record of that external id, field by field.
  Rows with changes still in the outbox are in flight, not drift.

A record the hub dead-lettered is named with its dead letter and is not counted as drift: it is
already on the operator's list (`waybill messages --state dead`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection

from waybill.canonical import model
from waybill.connectors import erp as erp_connector
from waybill.connectors import finance
from waybill.connectors.crm import CrmClient
from waybill.flows import crm_publish, erp_sync
from waybill.mappings import crm as crm_map
from waybill.mappings import finance as finance_map
from waybill.store import outbox, receivables
from waybill.store import reconcile as kept
from waybill.store.store import Store, utcnow

#: ERP stream -> the hub entity its records become
ERP_ENTITIES = {"customers": "customer", "orders": "order", "invoices": "invoice", "payments": "payment"}


@dataclass(frozen=True)
class Difference:
    """One record that is not the same on both sides: `problem` says how, `known` names the hub's
    dead letter for it when there is one."""

    key: str
    problem: str
    known: str | None = None


@dataclass
class Check:
    """One entity between two systems."""

    entity: str
    left: str
    right: str
    counts: dict[str, int]
    checksums: dict[str, str]
    differences: list[Difference] = field(default_factory=list)
    in_flight: int = 0  # hub rows with changes not yet delivered (not compared)

    @property
    def drift(self) -> bool:
        return any(d.known is None for d in self.differences)


@dataclass
class Report:
    checks: list[Check]
    id: int | None = None

    @property
    def drift(self) -> bool:
        return any(c.drift for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {"drift": self.drift, "checks": [{**asdict(c), "drift": c.drift} for c in self.checks]}


def run(store: Store | None = None, *, erp: erp_connector.ErpConnector | None = None, crm: CrmClient | None = None,
        feed_target: finance.FeedTarget | None = None, cutoff: dt.date | None = None,
        systems: Iterable[str] = ("erp", "crm", "finance"), progress: Callable[[str], None] | None = None) -> Report:
    """Reconcile the hub with the ERP, the CRM and finance (the Connections waybill_erp, waybill_crm
    and waybill_finance unless given; finance's feed of `cutoff`, by default yesterday's as the flow
    delivers it) and keep the report in the hub."""
    store = store or Store.open()
    wanted = set(systems)
    checks: list[Check] = []
    if "erp" in wanted:
        erp = erp or erp_connector.ErpConnector.from_connection()
        for stream, entity in ERP_ENTITIES.items():
            if progress:
                progress(f"erp {stream}")
            checks.append(_erp_check(store, erp, stream, entity))
    if "crm" in wanted:
        crm = crm or CrmClient()
        crm_ids: dict[str, dict[str, str]] = {}
        for obj in crm_publish.PLAN:  # Accounts first: the others name them
            if progress:
                progress(f"crm {obj.name}")
            checks.append(_crm_check(store, crm, obj, crm_ids))
    if "finance" in wanted:
        if progress:
            progress("finance feed")
        checks.append(_finance_check(store, feed_target or finance.target(),
                                     cutoff or utcnow().date() - dt.timedelta(days=1)))
    report = Report(checks)
    with store.begin() as conn:
        report.id = kept.record(conn, utcnow(), drift=report.drift, report=report.as_dict())
    return report


# --- ERP -> hub -------------------------------------------------------------------------------------

def _erp_check(store: Store, erp: erp_connector.ErpConnector, stream: str, entity: str) -> Check:
    entities: list[model.Entity] = []
    refused: list[str] = []
    for page in erp.fetch(stream, None):
        mapped, rejects = erp_sync.map_page(erp_sync.SYSTEM, stream, page)
        # a stream also maps what its records refer to (an order's commercial partner): only its own entity
        entities += [e for e in mapped if isinstance(e, _TYPES[entity])]
        refused += [r.key for r in rejects]
    with store.engine.connect() as conn:
        source = {ref.external_id: h for ref, h in kept.source_hashes(conn, store.cipher, entities, utcnow()).items()}
        hub = kept.stored_hashes(conn, entity, erp_sync.SYSTEM)
        dead = kept.dead_letters(conn, erp_sync.SYSTEM)
    unresolved = {e.ref.external_id for e in entities if isinstance(e, _KEYED)} - source.keys()
    keyed: dict[str, str | None] = {**dict.fromkeys(refused), **dict.fromkeys(unresolved), **source}
    differences = []
    for key in sorted(keyed.keys() | hub.keys()):
        problem = _compare(keyed.get(key, _ABSENT), hub.get(key, _ABSENT), "erp", "hub")
        if problem:
            known = dead.get(key) or dead.get(f"{erp_sync.SYSTEM}:{key}")  # a mapper's key, or the store's
            differences.append(Difference(key, problem, f"dead letter {known}" if known else None))
    return Check(entity, "erp", "hub", {"erp": len(keyed), "hub": len(hub)},
                 {"erp": _checksum(keyed), "hub": _checksum(hub)}, differences)


_ABSENT = "<absent>"
_TYPES: dict[str, type[model.Customer | model.Order | model.Invoice | model.Payment]] = {
    "customer": model.Customer, "order": model.Order,
    "invoice": model.Invoice, "payment": model.Payment}
_KEYED = tuple(_TYPES.values())


def _compare(left: str | None, right: str | None, lname: str, rname: str) -> str | None:
    """How a record differs between two sides (None: it does not)."""
    if left == _ABSENT:
        return f"missing in {lname}"
    if right == _ABSENT:
        return f"missing in {rname}"
    if left is None:
        return f"{lname} record cannot be mapped or stored"
    return None if left == right else "content differs"


# --- hub -> finance ---------------------------------------------------------------------------------

def _finance_check(store: Store, target: finance.FeedTarget, cutoff: dt.date) -> Check:
    with store.engine.connect() as conn:
        expected = finance_map.feed(receivables.open_items(conn, cutoff), cutoff)
    ours = _feed_rows(expected.data)
    held = target.read(expected.data_name)
    theirs = _feed_rows(held) if held is not None else {}
    differences = [] if held is not None else [Difference(expected.data_name, "missing in finance")]
    for key in sorted(ours.keys() | theirs.keys()):
        if key not in theirs:
            differences.append(Difference(key, "missing in finance"))
        elif key not in ours:
            differences.append(Difference(key, "missing in hub"))
        elif ours[key] != theirs[key]:
            changed = [c for c, a, b in zip(finance_map.COLUMNS, ours[key], theirs[key], strict=False) if a != b]
            differences.append(Difference(key, "differs in finance: " + ", ".join(changed)))
    return Check("open_item", "hub", "finance", {"hub": len(ours), "finance": len(theirs)},
                 {"hub": _checksum({k: _digest({"row": v}) for k, v in ours.items()}),
                  "finance": _checksum({k: _digest({"row": v}) for k, v in theirs.items()})}, differences)


def _feed_rows(data: bytes) -> dict[str, list[str]]:
    """The feed's rows by invoice number."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    at = finance_map.COLUMNS.index("invoice_number")
    return {row[at]: row for row in rows[1:] if len(row) > at}


# --- hub -> CRM -------------------------------------------------------------------------------------

def _crm_check(store: Store, crm: CrmClient, obj: crm_publish.CrmObject[Any], crm_ids: dict[str, dict[str, str]]
               ) -> Check:
    """`crm_ids` collects object -> external id -> CRM record id of the records read, so that the
    lookups of later objects (an Order's Account) are checked against the record they must name."""
    with store.engine.connect() as conn:
        expected = {str(i): obj.record(view) for i, view in obj.read(conn, None).items()}
        flying = _in_flight(conn, obj)
    compared = {k: v for k, v in expected.items() if k not in flying}
    differences, theirs = [], {}
    seen = crm_ids.setdefault(obj.name, {})
    for key, record in compared.items():
        found = crm.get(obj.name, crm_map.EXTERNAL_ID, key)
        if found is None:
            differences.append(Difference(key, "missing in crm"))
            continue
        seen[key] = str(found.get("Id"))
        changed = sorted(f for f, ours in record.items() if not _same(ours, _their_value(f, ours, found, crm_ids)))
        if changed:
            differences.append(Difference(key, "differs in crm: " + ", ".join(changed)))
        theirs[key] = {f: _their_value(f, ours, found, crm_ids) if f in changed else ours for f, ours in record.items()}
    return Check(obj.name, "hub", "crm", {"hub": len(compared), "crm": len(theirs)},
                 {"hub": _checksum({k: _digest(v) for k, v in compared.items()}),
                  "crm": _checksum({k: _digest(v) for k, v in theirs.items()})},
                 differences, in_flight=len(expected) - len(compared))


def _their_value(name: str, ours: object, found: dict[str, Any], crm_ids: dict[str, dict[str, str]]) -> object:
    """The CRM's value of field `name`. A lookup by external id ({"Waybill_Id__c": "7"} under a
    relationship name) is stored as the related record's id in the lookup field (Account -> AccountId,
    Account__r -> Account__c): read back as the external id of the record it names."""
    if not isinstance(ours, dict):
        return found.get(name)
    target = name.removesuffix("__r")
    lookup = f"{target}__c" if name.endswith("__r") else f"{name}Id"
    by_id = {v: k for k, v in crm_ids.get(target, {}).items()}
    return {crm_map.EXTERNAL_ID: by_id.get(str(found.get(lookup)), found.get(lookup))}


def _in_flight(conn: Connection, obj: crm_publish.CrmObject[Any]) -> set[str]:
    """Hub ids of the object with a change still waiting in the CRM's outbox (accounts: their
    customer's and its facts' changes)."""
    _, rows = outbox.undelivered(conn, target=crm_publish.TARGET, limit=None)
    return {str(r.entity_id) for r in rows if r.entity in obj.entities}


def _same(ours: object, theirs: object) -> bool:
    if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)):
        return abs(float(ours) - float(theirs)) < 0.005  # money to the cent, as the CRM keeps it
    return ours == theirs


def _digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()


def _checksum(hashes: dict[str, str | None]) -> str:
    """One checksum over every record's key and content hash: equal on both sides iff they agree."""
    h = hashlib.sha256()
    for key in sorted(hashes):
        h.update(f"{key}\0{hashes[key] or ''}\n".encode())
    return h.hexdigest()[:16]
