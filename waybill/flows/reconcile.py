"""Reconciliation: are the hub, its sources, the CRM and finance in step? Per entity and pair of
systems, the record counts, a checksum of the records' contents on each side, and every record
that differs, by name. Sources are read in full, read-only, through their connectors.

- ERP -> hub (customers, orders, invoices, payments) and WMS -> hub (stock levels, shipments):
  every record the source holds now, mapped as a sync would, against what the hub stores for that
  system, by the content hash the store itself compares (waybill.store.reconcile).
- TMS -> hub (delivery events): every event of the TMS feed against the events the hub stored from
  the TMS, by event id, on status, code, time and place (what moves a shipment's status).
- carriers -> hub (latest tracking status of each open shipment): each carrier with open shipments
  is asked for their tracking now; its latest scan per number against the latest the hub stored
  from that carrier.
- hub -> finance (open items): the AR feed the hub would deliver for a cut-off day against the file
  finance holds for it, row by row (by invoice number).
- hub -> CRM (Accounts, Orders, Shipments, Cases): the record the hub would send for every row
  whose changes were all delivered, against the CRM's record of that external id, field by field;
  and every CRM record the hub never sent (created in the CRM: "only in crm", by the CRM's id).
  Rows with changes still in the outbox are in flight, not drift.

A record the hub dead-lettered, or parked while it waits for its reference, is named with its
message and is not counted as drift: it is already on the operator's list (`waybill messages`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection

from waybill.canonical import model
from waybill.connectors import carrier_profile, finance
from waybill.connectors import erp as erp_connector
from waybill.connectors import tms as tms_connector
from waybill.connectors import wms as wms_connector
from waybill.connectors.crm import CrmClient
from waybill.connectors.pages import Page
from waybill.core.errors import ConfigError
from waybill.flows import carrier_tracking, crm_publish, erp_sync, tms_delivery, wms_stock
from waybill.mappings import crm as crm_map
from waybill.mappings import finance as finance_map
from waybill.store import outbox, receivables
from waybill.store import reconcile as kept
from waybill.store.reads import logistics
from waybill.store.store import Store, utcnow

#: every system reconciliation can compare with, in the order it reads them
SYSTEMS = ("erp", "wms", "tms", "carrier", "crm", "finance")
#: source system -> stream -> the hub entity its records become
SOURCE_ENTITIES: dict[str, dict[str, str]] = {
    "erp": {"customers": "customer", "orders": "order", "invoices": "invoice", "payments": "payment"},
    "wms": {"stock": "stock", "shipments": "shipment"},
}
MapPage = Callable[[str, str, Page], tuple[list[model.Entity], list[model.Reject]]]
_MAPPERS: dict[str, MapPage] = {"erp": erp_sync.map_page, "wms": wms_stock.map_page}
_T = TypeVar("_T")


class Source(Protocol):
    """A source's connector as reconciliation reads it: every page of a stream from its start."""

    def fetch(self, stream: str, cursor: str | None) -> Iterator[Page]: ...


@dataclass(frozen=True)
class Difference:
    """One record that is not the same on both sides: `problem` says how, `known` names the hub's
    dead letter or parked record for it when there is one."""

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
    #: systems not compared, with the reason (their Connection is not configured)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def drift(self) -> bool:
        return any(c.drift for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {"drift": self.drift, "checks": [{**asdict(c), "drift": c.drift} for c in self.checks],
                "skipped": self.skipped}


def run(store: Store | None = None, *, erp: Source | None = None, wms: Source | None = None,
        tms: Source | None = None, trackers: Sequence[carrier_tracking.Tracker] | None = None,
        crm: CrmClient | None = None, feed_target: finance.FeedTarget | None = None, cutoff: dt.date | None = None,
        systems: Iterable[str] | None = None, progress: Callable[[str], None] | None = None) -> Report:
    """Reconcile the hub with the systems named in `systems`, or with every one whose Connection
    is configured (waybill_erp, waybill_wms, waybill_tms, each carrier profile's, waybill_crm and
    waybill_finance, unless given; finance's feed of `cutoff`, by default yesterday's as the flow
    delivers it), and keep the report in the hub. A system named in `systems` whose Connection is
    not configured is a ConfigError; otherwise it is skipped and the report says why."""
    store = store or Store.open()
    wanted = set(SYSTEMS if systems is None else systems)
    note = progress or (lambda _: None)
    report = Report([])

    def connect(system: str, make: Callable[[], _T]) -> _T | None:
        try:
            return make()
        except ConfigError as err:
            if systems is not None:
                raise
            report.skipped[system] = str(err)
            return None

    given: dict[str, Source | None] = {"erp": erp, "wms": wms}
    makers: dict[str, Callable[[], Source]] = {"erp": erp_connector.ErpConnector.from_connection,
                                               "wms": wms_connector.WmsConnector.from_connection}
    for system, streams in SOURCE_ENTITIES.items():
        source = (given[system] or connect(system, makers[system])) if system in wanted else None
        if source is None:
            continue
        for stream, entity in streams.items():
            note(f"{system} {stream}")
            report.checks.append(_source_check(store, system, source, stream=stream, entity=entity))
    if "tms" in wanted and (tms := tms or connect("tms", tms_connector.TmsConnector.from_connection)):
        note("tms events")
        report.checks.append(_tms_check(store, tms))
    if "carrier" in wanted:
        for tracker in trackers if trackers is not None else [t for _, t in carrier_tracking.open_trackers(store)]:
            note(f"{tracker.system} tracking")
            report.checks.append(_carrier_check(store, tracker))
    if "crm" in wanted and (crm := crm or connect("crm", CrmClient)):
        crm_ids: dict[str, dict[str, str]] = {}
        for obj in crm_publish.PLAN:  # Accounts first: the others name them
            note(f"crm {obj.name}")
            report.checks.append(_crm_check(store, crm, obj, crm_ids))
    if "finance" in wanted and (feed_target := feed_target or connect("finance", finance.target)):
        note("finance feed")
        report.checks.append(_finance_check(store, feed_target, cutoff or utcnow().date() - dt.timedelta(days=1)))
    with store.begin() as conn:
        report.id = kept.record(conn, utcnow(), drift=report.drift, report=report.as_dict())
    return report


# --- sources -> hub ---------------------------------------------------------------------------------

def _source_check(store: Store, system: str, source: Source, *, stream: str, entity: str) -> Check:
    entities: list[model.Entity] = []
    refused: list[str] = []
    for page in source.fetch(stream, None):
        mapped, rejects = _MAPPERS[system](system, stream, page)
        # a stream also maps what its records refer to (an order's commercial partner): only its own entity
        entities += [e for e in mapped if isinstance(e, _TYPES[entity])]
        refused += [r.key for r in rejects]
    with store.engine.connect() as conn:
        found = {ref.external_id: h for ref, h in kept.source_hashes(conn, store.cipher, entities, utcnow()).items()}
        hub = kept.stored_hashes(conn, entity, system)
        held = kept.held_back(conn, system)
    unresolved = {e.ref.external_id for e in entities if isinstance(e, _KEYED)} - found.keys()
    keyed: dict[str, str | None] = {**dict.fromkeys(refused), **dict.fromkeys(unresolved), **found}
    differences = []
    for key in sorted(keyed.keys() | hub.keys()):
        problem = _compare(keyed.get(key, _ABSENT), hub.get(key, _ABSENT), system, "hub")
        if problem:  # held under a mapper's key, or the store's
            differences.append(Difference(key, problem, _known(held, key, f"{system}:{key}")))
    return Check(entity, system, "hub", {system: len(keyed), "hub": len(hub)},
                 {system: _checksum(keyed), "hub": _checksum(hub)}, differences)


_ABSENT = "<absent>"
_TYPES: dict[str, type[model.Customer | model.Order | model.Invoice | model.Payment | model.StockLevel
                       | model.Shipment]] = {
    "customer": model.Customer, "order": model.Order, "invoice": model.Invoice, "payment": model.Payment,
    "stock": model.StockLevel, "shipment": model.Shipment}
_KEYED = tuple(_TYPES.values())


def _known(held: Mapping[str, tuple[str, int]], *keys: str) -> str | None:
    """The hub's message holding the record back under any of `keys`: "dead letter 12", "parked message 7"."""
    for key in keys:
        if key in held:
            state, message_id = held[key]
            return f"{'dead letter' if state == 'dead' else state + ' message'} {message_id}"
    return None


def _compare(left: str | None, right: str | None, lname: str, rname: str) -> str | None:
    """How a record differs between two sides (None: it does not)."""
    if left == _ABSENT:
        return f"missing in {lname}"
    if right == _ABSENT:
        return f"missing in {rname}"
    if left is None:
        return f"{lname} record cannot be mapped or stored"
    return None if left == right else "content differs"


# --- TMS -> hub -------------------------------------------------------------------------------------

def _tms_check(store: Store, tms: Source) -> Check:
    """The TMS's events against those the hub stored from it, keyed event/<id> as the mapping names them."""
    system, stream = tms_delivery.SYSTEM, tms_delivery.STREAM
    keyed: dict[str, str | None] = {}
    for page in tms.fetch(stream, None):
        mapped, rejects = tms_delivery.map_page(system, stream, page)
        keyed.update(dict.fromkeys(r.key for r in rejects))
        keyed.update((f"event/{e.event_id}", _event_digest(e)) for e in mapped if isinstance(e, model.DeliveryEvent))
    with store.engine.connect() as conn:
        hub: dict[str, str | None] = {f"event/{e.event_id}": _event_digest(e) for e in kept.stored_events(conn, system)}
        held = kept.held_back(conn, system)
    differences = []
    for key in sorted(keyed.keys() | hub.keys()):
        problem = _compare(keyed.get(key, _ABSENT), hub.get(key, _ABSENT), system, "hub")
        if problem:  # the mapper's key, the parked event's id, the store's key
            event_id = key.removeprefix("event/")
            differences.append(Difference(key, problem, _known(held, key, event_id, f"{system}:{event_id}")))
    return Check("delivery_event", system, "hub", {system: len(keyed), "hub": len(hub)},
                 {system: _checksum(keyed), "hub": _checksum(hub)}, differences)


def _event_digest(e: model.DeliveryEvent | kept.StoredEvent) -> str:
    """What of an event moves its shipment: status, code, time (UTC, to the second) and place."""
    at = e.occurred_at.astimezone(dt.UTC).replace(tzinfo=None) if e.occurred_at.tzinfo else e.occurred_at
    return _digest({"status": e.status, "substatus": e.substatus, "code": e.raw_code, "estimate_only": e.estimate_only,
                    "at": at.isoformat(timespec="seconds"), "place": e.place})


# --- carriers -> hub --------------------------------------------------------------------------------

def _carrier_check(store: Store, tracker: carrier_tracking.Tracker) -> Check:
    """The carrier's latest scan of each open shipment against the latest the hub stored from it."""
    profile = carrier_profile.load(tracker.carrier)
    mapping = carrier_tracking.mapping_module(profile)
    with store.engine.connect() as conn:
        numbers = logistics.open_numbers(conn, profile.codes or (profile.name,))
        stored = kept.carrier_events(conn, numbers)
        held = kept.held_back(conn, tracker.system)
    theirs: dict[str, str | None] = {}
    refused: dict[str, str] = {}
    for exchange in tracker.track(numbers):
        if exchange.fault is not None:
            refused.update(dict.fromkeys(exchange.numbers, exchange.fault))
            continue
        inbound = mapping.map_reply(tracker.system, exchange.reply)
        _latest(theirs, [e for e in inbound.entities if isinstance(e, model.DeliveryEvent)])
    wanted = set(numbers)
    ours: dict[str, str | None] = {}
    _latest(ours, stored)
    differences = []
    for number in sorted(wanted):
        if number in refused:
            differences.append(Difference(number, f"{tracker.system} refused the number: {refused[number]}",
                                          _known(held, f"{tracker.system}:{number}")))
        elif theirs.get(number) != ours.get(number):
            differences.append(Difference(number, f"latest status: {tracker.system} {theirs.get(number) or 'none'}, "
                                                  f"hub {ours.get(number) or 'none'}"))
    carrier_side = {n: theirs.get(n) for n in wanted if n not in refused}
    return Check("tracking_status", tracker.system, "hub", {tracker.system: len(carrier_side), "hub": len(ours)},
                 {tracker.system: _checksum(carrier_side), "hub": _checksum({n: ours.get(n) for n in wanted})},
                 differences)


def _latest(into: dict[str, str | None], events: Iterable[model.DeliveryEvent | kept.StoredEvent]) -> None:
    """Each tracking number's latest status scan (an estimate only moves no status) as
    "delivered (DL) at 2026-05-04 10:00"."""
    when: dict[str, dt.datetime] = {}
    for e in events:
        if e.estimate_only or not e.tracking_number:
            continue
        at = e.occurred_at.astimezone(dt.UTC).replace(tzinfo=None) if e.occurred_at.tzinfo else e.occurred_at
        if e.tracking_number not in when or at >= when[e.tracking_number]:
            when[e.tracking_number] = at
            into[e.tracking_number] = f"{e.status} ({e.raw_code}) at {at:%Y-%m-%d %H:%M}"


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
    only = _only_in_crm(crm, obj.name, expected.keys())
    differences += [Difference(rid, "only in crm" + (f" ({crm_map.EXTERNAL_ID} {ext})" if ext else ""))
                    for rid, ext in sorted(only.items())]
    return Check(obj.name, "hub", "crm", {"hub": len(compared), "crm": len(theirs) + len(only)},
                 {"hub": _checksum({k: _digest(v) for k, v in compared.items()}),
                  "crm": _checksum({**{k: _digest(v) for k, v in theirs.items()}, **dict.fromkeys(only)})},
                 differences, in_flight=len(expected) - len(compared))


def _only_in_crm(crm: CrmClient, obj: str, ours: Iterable[str]) -> dict[str, str | None]:
    """CRM id -> external id of each record of `obj` the hub never sent: none of its external ids
    (created in the CRM), or none at all."""
    sent = set(ours)
    return {str(r["Id"]): r.get(crm_map.EXTERNAL_ID)
            for r in crm.query_all(obj, ("Id", crm_map.EXTERNAL_ID)) if r.get(crm_map.EXTERNAL_ID) not in sent}


def _their_value(name: str, ours: object, found: dict[str, Any], crm_ids: dict[str, dict[str, str]]) -> object:
    """The CRM's value of field `name`. A lookup by external id ({"Waybill_Id__c": "7"} under a
    relationship name) is stored as the related record's id in the lookup field (Account -> AccountId,
    Account__r -> Account__c): read back as the external id of the record it names. The object a
    relationship names is standard (Order__r -> Order) or custom (Shipment__r -> Shipment__c)."""
    if not isinstance(ours, dict):
        return found.get(name)
    target = name.removesuffix("__r")
    lookup = f"{target}__c" if name.endswith("__r") else f"{name}Id"
    by_id = {v: k for k, v in (crm_ids.get(target) or crm_ids.get(f"{target}__c") or {}).items()}
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
