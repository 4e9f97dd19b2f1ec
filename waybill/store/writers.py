"""Writers: canonical entities into the store's tables, inside the caller's transaction.

Every writer reads what is stored for the batch's keys in one query per chunk, compares in Python
and writes only what is new or changed, in bulk:
- an update whose source version is older than the stored one is skipped (stale);
- an update whose content hash equals the stored one writes nothing and yields no change;
- a reference that cannot be resolved (unknown customer, unknown shipment) rejects that record.
Each inserted or changed row becomes an outbox.Change.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from operator import attrgetter
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, bindparam, delete, select, tuple_, update

from waybill.canonical import model
from waybill.core.errors import RecordRejected
from waybill.store import bulk
from waybill.store.crypto import Cipher
from waybill.store.outbox import Change
from waybill.store.schema import (
    customer,
    customer_identity,
    delivery_event,
    invoice,
    invoice_line,
    order_line,
    orders,
    payment,
    shipment,
    stock_level,
)

CHUNK = 500
E = TypeVar("E")


@dataclass
class Context:
    conn: Connection
    cipher: Cipher
    now: dt.datetime


@dataclass
class Outcome:
    """What a writer did; `rejects` pairs a message id with the record it could not store."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    changes: list[Change] = field(default_factory=list)
    rejects: list[tuple[int | None, RecordRejected, model.Entity]] = field(default_factory=list)

    def add(self, other: Outcome) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.stale += other.stale
        self.changes += other.changes
        self.rejects += other.rejects


Item = tuple[int | None, Any]  # (message id, entity)


def write_all(ctx: Context, items: list[Item]) -> Outcome:
    """Write a batch's entities in dependency order: customers first, events after shipments."""
    by_type: dict[type, list[Item]] = {}
    for item in items:
        by_type.setdefault(type(item[1]), []).append(item)
    out = Outcome()
    out.add(write_customers(ctx, by_type.get(model.Customer, [])))
    for spec in (STOCK, SHIPMENT, ORDER, INVOICE, PAYMENT):
        out.add(write_keyed(ctx, spec, by_type.get(spec.type, [])))
    out.add(write_events(ctx, by_type.get(model.DeliveryEvent, [])))
    return out


# --- helpers -------------------------------------------------------------------------------------


def _chunks(seq: Sequence[E], size: int = CHUNK) -> Iterable[Sequence[E]]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def _latest(items: list[Item]) -> list[Item]:
    """One item per ref: the highest version, the later one on a tie."""
    best: dict[model.Ref, Item] = {}
    for item in items:
        ref = item[1].ref
        held = best.get(ref)
        if held is None or item[1].version >= held[1].version:
            best[ref] = item
    return list(best.values())


def _by_ref(conn: Connection, table: Table, refs: Iterable[model.Ref], *cols: Any) -> dict[tuple[str, str], Any]:
    """Rows of a (system, external_id)-keyed table for the given refs, keyed by (system, id)."""
    by_system: dict[str, list[str]] = {}
    for r in set(refs):
        by_system.setdefault(r.system, []).append(r.external_id)
    found: dict[tuple[str, str], Any] = {}
    for system, ids in by_system.items():
        for chunk in _chunks(sorted(ids), 5000):
            q = select(table.c.system, table.c.external_id, *cols).where(
                table.c.system == system, bulk.in_list(conn, table.c.external_id, chunk)
            )
            for row in conn.execute(q):
                found[(row[0], row[1])] = row
    return found


def resolve_customers(conn: Connection, refs: Iterable[model.Ref]) -> dict[model.Ref, int]:
    """Hub customer ids for (system, external id) refs, through the crosswalk."""
    refs = set(refs)
    found = _by_ref(conn, customer_identity, refs, customer_identity.c.customer_id)
    return {r: found[(r.system, r.external_id)][2] for r in refs if (r.system, r.external_id) in found}


def _json(value: Any) -> str | None:
    if value is None or value == () or value == []:
        return None
    return json.dumps(value, default=str, sort_keys=True, separators=(",", ":"))


# --- customers -----------------------------------------------------------------------------------

_MERGED = ("name", "tax_id", "gln", "industry", "credit_limit", "currency", "payment_terms", "status")


def write_customers(ctx: Context, items: list[Item]) -> Outcome:
    """Customers with identity resolution: crosswalk, then explicit aliases, tax id or GLN.

    A record from a system the hub has not seen for this customer joins the existing customer when
    a strong key matches, instead of creating a duplicate. Each system's record fills the fields
    it knows (non-empty values); the customer row records the message that changed it last.
    """
    out = Outcome()
    if not items:
        return out
    items = _latest(items)
    conn = ctx.conn
    refs = {i[1].ref for i in items} | {a for i in items for a in i[1].aliases}
    idents = _by_ref(conn, customer_identity, refs, customer_identity.c.customer_id,
                     customer_identity.c.version, customer_identity.c.row_hash)
    tax_ids = {i[1].tax_id for i in items if i[1].tax_id}
    glns = {i[1].gln for i in items if i[1].gln}
    by_tax: dict[str, int] = {}
    by_gln: dict[str, int] = {}
    for chunk in _chunks(sorted(tax_ids)):
        by_tax.update({t: cid for cid, t in conn.execute(select(customer.c.id, customer.c.tax_id).where(customer.c.tax_id.in_(chunk)))})
    for chunk in _chunks(sorted(glns)):
        by_gln.update({g: cid for cid, g in conn.execute(select(customer.c.id, customer.c.gln).where(customer.c.gln.in_(chunk)))})

    for message_id, c in items:
        key = (c.ref.system, c.ref.external_id)
        ident = idents.get(key)
        if ident is not None and ident.version is not None and c.version < ident.version:
            out.stale += 1
            continue
        digest = ctx.cipher.row_hash(repr(_customer_content(c)))
        if ident is not None and ident.row_hash == digest:
            out.unchanged += 1
            continue
        cid, matched_by = _match(c, ident, idents, by_tax, by_gln)
        if cid is None:
            cid = _insert_customer(ctx, c, message_id)
            out.inserted += 1
            changed = True
        else:
            changed = _merge_customer(ctx, cid, c, message_id)
            out.updated += int(changed)
            out.unchanged += int(not changed)
        _upsert_identity(conn, c.ref, cid, c.version, digest, matched_by, exists=ident is not None)
        idents[key] = _Ident(c.ref.system, c.ref.external_id, cid, c.version, digest)
        for alias in c.aliases:
            if (alias.system, alias.external_id) not in idents:
                _upsert_identity(conn, alias, cid, None, None, "alias", exists=False)
                idents[(alias.system, alias.external_id)] = _Ident(alias.system, alias.external_id, cid, None, None)
        if c.tax_id:
            by_tax.setdefault(c.tax_id, cid)
        if c.gln:
            by_gln.setdefault(c.gln, cid)
        if changed:
            out.changes.append(Change("customer", cid, c.ref.system))
    return out


@dataclass(frozen=True)
class _Ident:
    system: str
    external_id: str
    customer_id: int
    version: str | None
    row_hash: str | None


def _match(c: model.Customer, ident: Any, idents: dict, by_tax: dict, by_gln: dict) -> tuple[int | None, str]:
    if ident is not None:
        return ident.customer_id, "crosswalk"
    for alias in c.aliases:
        hit = idents.get((alias.system, alias.external_id))
        if hit is not None:
            return hit.customer_id, "alias"
    if c.tax_id and c.tax_id in by_tax:
        return by_tax[c.tax_id], "tax_id"
    if c.gln and c.gln in by_gln:
        return by_gln[c.gln], "gln"
    return None, "new"


def _customer_content(c: model.Customer) -> tuple:
    return (c.name, c.tax_id, c.gln, c.industry, c.credit_limit, c.currency, c.payment_terms, c.status,
            c.contacts, c.addresses, c.aliases)


def _customer_values(ctx: Context, c: model.Customer) -> tuple[dict[str, Any], str | None]:
    """The customer's column values (contacts encrypted) and its contacts as plaintext JSON."""
    values = {f: getattr(c, f) for f in _MERGED}
    contacts = _json([asdict(x) for x in c.contacts])
    values["contacts_enc"] = ctx.cipher.encrypt(contacts) if contacts else None
    values["addresses"] = _json([asdict(a) for a in c.addresses])
    return values, contacts


def _customer_row_hash(ctx: Context, row: dict[str, Any], contacts: str | None) -> str:
    """The keyed hash of a customer row's content, over the plaintext contacts (ciphertexts differ
    on every encryption)."""
    return ctx.cipher.row_hash(repr(tuple(row[k] for k in (*_MERGED, "addresses")) + (contacts,)))


def _insert_customer(ctx: Context, c: model.Customer, message_id: int | None) -> int:
    values, contacts = _customer_values(ctx, c)
    values.update(version=c.version, last_message_id=message_id, updated_at=ctx.now,
                  row_hash=_customer_row_hash(ctx, values, contacts))
    return ctx.conn.execute(customer.insert().returning(customer.c.id), values).scalar_one()


def _merge_customer(ctx: Context, cid: int, c: model.Customer, message_id: int | None) -> bool:
    """Fill the stored customer with this record's non-empty fields; True if anything changed."""
    conn = ctx.conn
    stored = conn.execute(select(customer).where(customer.c.id == cid)).one()._asdict()
    values, contacts = _customer_values(ctx, c)
    incoming = {k: v for k, v in values.items() if v is not None}
    stored_contacts = ctx.cipher.decrypt(stored["contacts_enc"]) if stored["contacts_enc"] else None
    if "contacts_enc" in incoming and stored_contacts == contacts:
        incoming.pop("contacts_enc")  # same contacts: keep the stored ciphertext
    changed = {k: v for k, v in incoming.items() if _differs(stored.get(k), v)}
    if not changed:
        return False
    current = {**stored, **changed}
    merged_contacts = contacts if "contacts_enc" in changed else stored_contacts
    changed.update(row_hash=_customer_row_hash(ctx, current, merged_contacts),
                   version=max(stored["version"], c.version), last_message_id=message_id, updated_at=ctx.now)
    conn.execute(update(customer).where(customer.c.id == cid).values(**changed))
    return True


def _differs(stored: Any, new: Any) -> bool:
    if stored is None:
        return new is not None
    try:
        return type(new)(stored) != new
    except (TypeError, ValueError, ArithmeticError):
        return stored != new


def _upsert_identity(conn: Connection, ref: model.Ref, cid: int, version: str | None, digest: str | None,
                     matched_by: str, exists: bool) -> None:
    if exists:
        conn.execute(
            update(customer_identity)
            .where(customer_identity.c.system == ref.system, customer_identity.c.external_id == ref.external_id)
            .values(customer_id=cid, version=version, row_hash=digest)
        )
    else:
        conn.execute(customer_identity.insert().values(
            system=ref.system, external_id=ref.external_id, customer_id=cid, version=version,
            row_hash=digest, matched_by=matched_by))


# --- entities keyed by (system, external id) -----------------------------------------------------


@dataclass(frozen=True)
class KeyedSpec:
    """How one entity type maps onto its table (and its child lines, if any)."""

    entity: str
    type: type
    table: Table
    columns: tuple[str, ...]
    #: entity, resolved references -> column values in `columns` order (may raise RecordRejected)
    values: Callable[[Any, dict[str, dict]], tuple]
    #: reference kinds this entity needs resolved before `values`: name -> (entity -> Ref | None)
    refs: dict[str, Callable[[Any], model.Ref | None]] = field(default_factory=dict)
    child: Table | None = None
    child_columns: tuple[str, ...] = ()
    child_rows: Callable[[Any], list[tuple]] | None = None
    #: values for columns that only an insert sets (derived later, e.g. a shipment's status)
    insert_only: dict[str, Any] = field(default_factory=dict)
    customer_of: Callable[[Any], model.Ref | None] | None = None


def _resolve(conn: Connection, kind: str, refs: set[model.Ref]) -> dict[model.Ref, int]:
    if kind == "customer":
        return resolve_customers(conn, refs)
    table = {"order": orders, "invoice": invoice}[kind]
    found = _by_ref(conn, table, refs, table.c.id)
    return {r: found[(r.system, r.external_id)][2] for r in refs if (r.system, r.external_id) in found}


def _need(resolved: dict[str, dict], kind: str, ref: model.Ref | None, path: str) -> int | None:
    if ref is None:
        return None
    hit = resolved[kind].get(ref)
    if hit is None:
        raise RecordRejected(f"unknown {kind} {ref}", path)
    return hit


def write_keyed(ctx: Context, spec: KeyedSpec, items: list[Item]) -> Outcome:
    """Insert new, update changed, skip stale and unchanged rows of one entity type, in bulk."""
    out = Outcome()
    if not items:
        return out
    conn = ctx.conn
    items = _latest(items)
    resolved = {kind: _resolve(conn, kind, {r for _, e in items if (r := get(e)) is not None})
                for kind, get in spec.refs.items()}
    prepared = []
    for message_id, e in items:
        try:
            values = spec.values(e, resolved)
        except RecordRejected as err:
            err.key = str(e.ref)
            out.rejects.append((message_id, err, e))
            continue
        children = spec.child_rows(e) if spec.child_rows else []
        prepared.append((message_id, e, values, children, ctx.cipher.row_hash(repr((values, children)))))

    t = spec.table
    stored = _by_ref(conn, t, (p[1].ref for p in prepared), t.c.id, t.c.version, t.c.row_hash)
    new, changed = [], []
    for p in prepared:
        row = stored.get((p[1].ref.system, p[1].ref.external_id))
        if row is None:
            new.append(p)
        elif p[1].version < row.version:
            out.stale += 1
        elif p[4] == row.row_hash:
            out.unchanged += 1
        else:
            changed.append((row.id, p))

    ids = bulk.allocate_ids(conn, t, len(new))
    extra = tuple(spec.insert_only)
    cols = ("id", "system", "external_id", *spec.columns, "version", "row_hash", "last_message_id",
            "updated_at", *extra)
    bulk.insert_rows(conn, t, cols, [
        (i, e.ref.system, e.ref.external_id, *values, e.version, h, mid, ctx.now, *spec.insert_only.values())
        for i, (mid, e, values, _, h) in zip(ids, new)
    ])
    if changed:
        stmt = update(t).where(t.c.id == bindparam("_id")).values(
            {c: bindparam(c) for c in (*spec.columns, "version", "row_hash", "last_message_id", "updated_at")}
        )
        conn.execute(stmt, [
            {"_id": rid, **dict(zip(spec.columns, values)), "version": e.version, "row_hash": h,
             "last_message_id": mid, "updated_at": ctx.now}
            for rid, (mid, e, values, _, h) in changed
        ])
    if spec.child is not None:
        parent = spec.child.c[spec.child_columns[0]]
        for chunk in _chunks([rid for rid, _ in changed]):
            conn.execute(delete(spec.child).where(parent.in_(chunk)))
        bulk.insert_rows(conn, spec.child, spec.child_columns, [
            (pid, *child) for pid, p in [*zip(ids, new), *changed] for child in p[3]
        ])
    out.inserted += len(new)
    out.updated += len(changed)
    out.changes += [Change(spec.entity, pid, p[1].ref.system) for pid, p in [*zip(ids, new), *changed]]
    return out


_ORDER_LINE_FIELDS = attrgetter("line_no", "sku", "gtin", "description", "quantity", "uom", "unit_price",
                                "quantity_shipped")


def _order_values(o: model.Order, r: dict[str, dict]) -> tuple:
    return (
        _need(r, "customer", o.customer, "order.customer"), o.kind, o.status, o.po_number, o.order_date,
        o.requested_date, o.currency, o.amount_untaxed, o.amount_total,
        _json(asdict(o.ship_to)) if o.ship_to else None,
    )


ORDER = KeyedSpec(
    entity="order", type=model.Order, table=orders,
    columns=("customer_id", "kind", "status", "po_number", "order_date", "requested_date", "currency",
             "amount_untaxed", "amount_total", "ship_to"),
    values=_order_values,
    refs={"customer": lambda o: o.customer},
    child=order_line,
    child_columns=("order_id", "line_no", "sku", "gtin", "description", "quantity", "uom", "unit_price",
                   "quantity_shipped"),
    # attrgetter builds each line's tuple in C: this runs for every order line of every sync.
    child_rows=lambda o: list(map(_ORDER_LINE_FIELDS, o.lines)),
)

INVOICE = KeyedSpec(
    entity="invoice", type=model.Invoice, table=invoice,
    columns=("customer_id", "order_id", "number", "kind", "status", "invoice_date", "due_date", "currency",
             "amount_total", "amount_open"),
    values=lambda i, r: (
        _need(r, "customer", i.customer, "invoice.customer"), r["order"].get(i.order) if i.order else None,
        i.number, i.kind, i.status, i.invoice_date, i.due_date, i.currency, i.amount_total, i.amount_open,
    ),
    refs={"customer": lambda i: i.customer, "order": lambda i: i.order},
    child=invoice_line,
    child_columns=("invoice_id", "line_no", "sku", "description", "quantity", "unit_price", "amount"),
    child_rows=lambda i: [(ln.line_no, ln.sku, ln.description, ln.quantity, ln.unit_price, ln.amount)
                          for ln in i.lines],
)

PAYMENT = KeyedSpec(
    entity="payment", type=model.Payment, table=payment,
    columns=("customer_id", "invoice_id", "payment_date", "amount", "currency"),
    values=lambda p, r: (
        _need(r, "customer", p.customer, "payment.customer"), r["invoice"].get(p.invoice) if p.invoice else None,
        p.payment_date, p.amount, p.currency,
    ),
    refs={"customer": lambda p: p.customer, "invoice": lambda p: p.invoice},
)

STOCK = KeyedSpec(
    entity="stock", type=model.StockLevel, table=stock_level,
    columns=("item", "gtin", "location", "on_hand", "allocated", "available", "as_of"),
    values=lambda s, r: (s.item, s.gtin, s.location, s.on_hand, s.allocated, s.available, s.as_of),
)

SHIPMENT = KeyedSpec(
    entity="shipment", type=model.Shipment, table=shipment,
    columns=("customer_id", "carrier", "tracking_number", "sscc", "order_refs", "ship_date", "packages", "eta"),
    values=lambda s, r: (
        _need(r, "customer", s.customer, "shipment.customer"), s.carrier, s.tracking_number, s.sscc,
        _json([str(o) for o in s.order_refs]), s.ship_date, s.packages, s.eta,
    ),
    refs={"customer": lambda s: s.customer},
    insert_only={"status": "created"},
)


# --- delivery events -----------------------------------------------------------------------------

_EVENT_COLUMNS = ("id", "shipment_id", "source", "event_id", "status", "raw_code", "occurred_at", "place",
                  "estimate_only", "eta", "last_message_id")
_STATUS_COLUMNS = ("status", "status_at", "status_code", "last_place", "delivered_at", "eta")


def write_events(ctx: Context, items: list[Item]) -> Outcome:
    """Store new delivery events once each and move their shipments' status forward.

    Rules: an event older than the shipment's current status time does not change the status; a
    terminal status (delivered, returned, cancelled) is only replaced by a later terminal one; an
    estimate-only event updates the ETA, never the status.
    """
    out = Outcome()
    if not items:
        return out
    conn = ctx.conn
    cols = (shipment.c.id, *(shipment.c[c] for c in _STATUS_COLUMNS), shipment.c.tracking_number)
    by_ref = _by_ref(conn, shipment, {e.shipment for _, e in items if e.shipment}, *cols)
    numbers = sorted({e.tracking_number for _, e in items if e.shipment is None and e.tracking_number})
    by_number: dict[str, Any] = {}
    for chunk in _chunks(numbers):
        q = select(shipment.c.system, shipment.c.external_id, *cols).where(shipment.c.tracking_number.in_(chunk))
        for row in conn.execute(q):
            by_number[row.tracking_number] = row
    keys = sorted({(e.source, e.event_id) for _, e in items})
    seen: set[tuple[str, str]] = set()
    for chunk in _chunks(keys):
        q = select(delivery_event.c.source, delivery_event.c.event_id).where(
            tuple_(delivery_event.c.source, delivery_event.c.event_id).in_(chunk))
        seen.update((s, i) for s, i in conn.execute(q))

    fresh: dict[int, list[tuple[int | None, model.DeliveryEvent]]] = {}
    rows_by_id: dict[int, Any] = {}
    for message_id, e in items:
        row = by_ref.get((e.shipment.system, e.shipment.external_id)) if e.shipment else by_number.get(e.tracking_number)
        if row is None:
            err = RecordRejected(f"unknown shipment {e.shipment or e.tracking_number}", "event.shipment", e.event_id)
            out.rejects.append((message_id, err, e))
            continue
        if (e.source, e.event_id) in seen:
            out.unchanged += 1
            continue
        seen.add((e.source, e.event_id))
        fresh.setdefault(row.id, []).append((message_id, e))
        rows_by_id[row.id] = row

    total = sum(len(v) for v in fresh.values())
    ids = iter(bulk.allocate_ids(conn, delivery_event, total))
    bulk.insert_rows(conn, delivery_event, _EVENT_COLUMNS, [
        (next(ids), sid, e.source, e.event_id, e.status, e.raw_code, e.occurred_at, e.place, e.estimate_only,
         e.eta, mid) for sid, evs in fresh.items() for mid, e in evs
    ])
    out.inserted += total
    for sid, evs in fresh.items():
        row = rows_by_id[sid]
        before = {c: getattr(row, c) for c in _STATUS_COLUMNS}
        state = dict(before)
        last_message = None
        for mid, e in sorted(evs, key=lambda x: x[1].occurred_at):
            if fold_event(state, e):
                last_message = mid
        if state != before:
            conn.execute(update(shipment).where(shipment.c.id == sid).values(
                **state, last_message_id=last_message, updated_at=ctx.now))
            out.updated += 1
            out.changes.append(Change("shipment", sid, row.system))
    return out


def fold_event(state: dict[str, Any], e: model.DeliveryEvent) -> bool:
    """Apply one event to a shipment's status fields in place; True if anything changed."""
    before = dict(state)
    if e.eta is not None and (state["status_at"] is None or e.occurred_at >= state["status_at"]):
        state["eta"] = e.eta
    if not e.estimate_only and (state["status_at"] is None or e.occurred_at >= state["status_at"]):
        terminal_now = state["status"] in model.TERMINAL_STATUSES
        if not terminal_now or e.status in model.TERMINAL_STATUSES:
            state.update(status=e.status, status_at=e.occurred_at, status_code=e.raw_code,
                         last_place=e.place or state["last_place"])
            if e.status == "delivered":
                state["delivered_at"] = e.occurred_at
    return state != before

