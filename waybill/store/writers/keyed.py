"""The writer of entities keyed by (system, external id): one KeyedSpec per entity type says how
its fields map onto its table (and its child lines, if any)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table, bindparam, delete, update

from waybill.canonical import model
from waybill.core.errors import RecordRejected, UnknownReference
from waybill.store import bulk, order_alias
from waybill.store.outbox import Change
from waybill.store.schema import invoice, orders
from waybill.store.writers.common import (
    Context,
    Item,
    Outcome,
    Rejected,
    by_ref,
    chunks,
    ids_by_ref,
    latest,
    resolve_customers,
)

#: reference kind -> the hub ids of the refs of that kind that a batch names
Resolved = dict[str, dict[model.Ref, int]]


@dataclass(frozen=True)
class KeyedSpec:
    """How one entity type maps onto its table (and its child lines, if any)."""

    entity: str
    type: type
    table: Table
    columns: tuple[str, ...]
    #: entity, resolved references -> column values in `columns` order (may raise RecordRejected)
    values: Callable[[Any, Resolved], tuple[Any, ...]]
    #: reference kinds this entity needs resolved before `values`: name -> (entity -> Ref | None)
    refs: dict[str, Callable[[Any], model.Ref | None]] = field(default_factory=dict)
    child: Table | None = None
    child_columns: tuple[str, ...] = ()
    #: entity -> its child rows, each in `child_columns` order without the parent id
    child_rows: Callable[[Any], list[tuple[Any, ...]]] | None = None
    #: entity, values, child rows -> what its row hash covers, when not (values, child rows)
    hashed: Callable[[Any, tuple[Any, ...], list[tuple[Any, ...]]], tuple[Any, ...]] | None = None
    #: values for columns that only an insert sets (derived later, e.g. a shipment's status)
    insert_only: dict[str, Any] = field(default_factory=dict)
    #: columns of personal data (text), stored encrypted; the row hash covers their plaintext
    sealed: tuple[str, ...] = ()
    #: connection, rows inserted or changed -> writes their rows in other tables (e.g. link tables)
    after: Callable[[Connection, list[Written]], None] | None = None

    @cached_property
    def sealed_at(self) -> tuple[int, ...]:
        """The positions of the sealed columns in `columns`."""
        return tuple(self.columns.index(c) for c in self.sealed)


class Prepared(NamedTuple):
    """One entity ready to write: its column values, child rows and content hash."""

    message_id: int | None
    entity: Any
    values: tuple[Any, ...]
    children: list[tuple[Any, ...]]
    row_hash: str


class Written(NamedTuple):
    """A prepared entity and the hub id of its row (new or existing)."""

    row_id: int
    prepared: Prepared


def need(resolved: Resolved, kind: str, ref: model.Ref | None, path: str) -> int | None:
    """The hub id of a reference the entity must have resolved (None for no reference);
    UnknownReference at `path` when the hub does not know it (yet)."""
    if ref is None:
        return None
    hit = resolved[kind].get(ref)
    if hit is None:
        raise UnknownReference(f"{kind} {ref}", path)
    return hit


def resolve(conn: Connection, kind: str, refs: set[model.Ref]) -> dict[model.Ref, int]:
    if kind == "customer":
        return resolve_customers(conn, refs)
    found = ids_by_ref(conn, {"order": orders, "invoice": invoice}[kind], refs)
    if kind == "order" and len(found) < len(refs):  # another system's id of a hub order
        found |= {r: a.order_id for r, a in order_alias.lookup(conn, refs - found.keys()).items()}
    return found


def prepare(ctx: Context, spec: KeyedSpec, items: list[Item]) -> tuple[list[Prepared], list[Rejected]]:
    """Each entity's column values, child rows and content hash (what is compared with the stored
    row), after resolving its references; the ones that cannot be resolved are rejected."""
    resolved = {kind: resolve(ctx.conn, kind, {r for _, e in items if (r := get(e)) is not None})
                for kind, get in spec.refs.items()}
    prepared, rejects = [], []
    for message_id, e in items:
        try:
            values = spec.values(e, resolved)
        except RecordRejected as err:
            err.key = str(e.ref)
            rejects.append(Rejected(message_id, err, e))
            continue
        children = spec.child_rows(e) if spec.child_rows else []
        content = spec.hashed(e, values, children) if spec.hashed else (values, children)
        prepared.append(Prepared(message_id, e, values, children, ctx.cipher.row_hash(repr(content))))
    return prepared, rejects


def write_keyed(ctx: Context, spec: KeyedSpec, items: list[Item]) -> Outcome:
    """Insert new, update changed, skip stale and unchanged rows of one entity type, in bulk."""
    out = Outcome()
    if not items:
        return out
    conn = ctx.conn
    items = latest(items)
    prepared, out.rejects = prepare(ctx, spec, items)
    t = spec.table
    stored = by_ref(conn, t, (p.entity.ref for p in prepared), t.c.id, t.c.version, t.c.row_hash)
    new: list[Prepared] = []
    changed: list[Written] = []
    aliases = _aliases(conn, spec, [p for p in prepared if p.entity.ref not in stored]) if t is orders else {}
    alias_versions: dict[model.Ref, str] = {}
    for p in prepared:
        row = stored.get(p.entity.ref)
        alias = aliases.get(p.entity.ref) if row is None else None
        if alias is not None:
            # the hub order this system's record is an alias of: versions compare with the alias's own,
            # the order keeps its own version (its source's amendments compare with that)
            if alias.version is not None and p.entity.version < alias.version:
                out.stale += 1
                continue
            alias_versions[p.entity.ref] = p.entity.version
            if p.row_hash == alias.row_hash:
                out.unchanged += 1
            else:
                changed.append(Written(alias.order_id, p._replace(entity=replace(p.entity, version=alias.row_version))))
            continue
        if row is None:
            new.append(p)
        elif p.entity.version < row.version:
            out.stale += 1
        elif p.row_hash == row.row_hash:
            out.unchanged += 1
        else:
            changed.append(Written(row.id, p))
    inserted = [Written(i, p) for i, p in zip(bulk.allocate_ids(conn, t, len(new)), new, strict=True)]
    _insert(ctx, spec, inserted)
    _update(ctx, spec, changed)
    order_alias.set_versions(conn, alias_versions)
    if spec.child is not None:
        parent = spec.child.c[spec.child_columns[0]]
        for chunk in chunks([w.row_id for w in changed]):
            conn.execute(delete(spec.child).where(parent.in_(chunk)))
        bulk.insert_rows(conn, spec.child, spec.child_columns, [
            (w.row_id, *child) for w in (*inserted, *changed) for child in w.prepared.children
        ])
    if spec.after is not None:
        spec.after(conn, [*inserted, *changed])
    out.inserted += len(inserted)
    out.updated += len(changed)
    out.changes += [Change(spec.entity, w.row_id, w.prepared.entity.ref.system) for w in (*inserted, *changed)]
    return out


def _aliases(conn: Connection, spec: KeyedSpec, unstored: list[Prepared]) -> dict[model.Ref, order_alias.Alias]:
    """The hub orders that orders of other systems are aliases of: the recorded aliases, and an
    order the hub wrote back whose copy in that system is read before its alias was recorded (a run
    killed after the create, an overlapping pull), linked now so it never becomes a second order."""
    found = order_alias.lookup(conn, [p.entity.ref for p in unstored])
    customer = spec.columns.index("customer_id")
    keys = {(p.entity.ref.system, p.entity.po_number, p.values[customer]): p.entity.ref
            for p in unstored if p.entity.ref not in found and getattr(p.entity, "po_number", None)}
    for key, alias in order_alias.written_back(conn, keys).items():
        order_alias.link(conn, keys[key], alias.order_id)
        found[keys[key]] = alias
    return found


def _stored(ctx: Context, spec: KeyedSpec, values: tuple[Any, ...]) -> tuple[Any, ...]:
    """A prepared row's values as stored: its sealed columns encrypted (only rows being written pay)."""
    for i in spec.sealed_at:
        if values[i] is not None:
            values = (*values[:i], ctx.cipher.encrypt(values[i]), *values[i + 1:])
    return values


def _insert(ctx: Context, spec: KeyedSpec, rows: list[Written]) -> None:
    cols = ("id", "system", "external_id", *spec.columns, "version", "row_hash", "last_message_id", "updated_at",
            *spec.insert_only)
    bulk.insert_rows(ctx.conn, spec.table, cols, [
        (w.row_id, p.entity.ref.system, p.entity.ref.external_id, *_stored(ctx, spec, p.values), p.entity.version,
         p.row_hash, p.message_id, ctx.now, *spec.insert_only.values())
        for w in rows for p in (w.prepared,)
    ])


def _update(ctx: Context, spec: KeyedSpec, rows: list[Written]) -> None:
    if not rows:
        return
    t = spec.table
    stmt = update(t).where(t.c.id == bindparam("_id")).values(
        {c: bindparam(c) for c in (*spec.columns, "version", "row_hash", "last_message_id", "updated_at")}
    )
    ctx.conn.execute(stmt, [
        {"_id": w.row_id, **dict(zip(spec.columns, _stored(ctx, spec, p.values), strict=True)),
         "version": p.entity.version,
         "row_hash": p.row_hash, "last_message_id": p.message_id, "updated_at": ctx.now}
        for w in rows for p in (w.prepared,)
    ])
