"""The writer of entities keyed by (system, external id): one KeyedSpec per entity type says how
its fields map onto its table (and its child lines, if any)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table, bindparam, delete, update

from waybill.canonical import model
from waybill.core.errors import RecordRejected, UnknownReference
from waybill.store import bulk
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


def _resolve(conn: Connection, kind: str, refs: set[model.Ref]) -> dict[model.Ref, int]:
    if kind == "customer":
        return resolve_customers(conn, refs)
    return ids_by_ref(conn, {"order": orders, "invoice": invoice}[kind], refs)


def write_keyed(ctx: Context, spec: KeyedSpec, items: list[Item]) -> Outcome:
    """Insert new, update changed, skip stale and unchanged rows of one entity type, in bulk."""
    out = Outcome()
    if not items:
        return out
    conn = ctx.conn
    items = latest(items)
    resolved = {kind: _resolve(conn, kind, {r for _, e in items if (r := get(e)) is not None})
                for kind, get in spec.refs.items()}
    prepared = []
    for message_id, e in items:
        try:
            values = spec.values(e, resolved)
        except RecordRejected as err:
            err.key = str(e.ref)
            out.rejects.append(Rejected(message_id, err, e))
            continue
        children = spec.child_rows(e) if spec.child_rows else []
        content = spec.hashed(e, values, children) if spec.hashed else (values, children)
        prepared.append(Prepared(message_id, e, values, children, ctx.cipher.row_hash(repr(content))))

    t = spec.table
    stored = by_ref(conn, t, (p.entity.ref for p in prepared), t.c.id, t.c.version, t.c.row_hash)
    new: list[Prepared] = []
    changed: list[Written] = []
    for p in prepared:
        row = stored.get(p.entity.ref)
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
    if spec.child is not None:
        parent = spec.child.c[spec.child_columns[0]]
        for chunk in chunks([w.row_id for w in changed]):
            conn.execute(delete(spec.child).where(parent.in_(chunk)))
        bulk.insert_rows(conn, spec.child, spec.child_columns, [
            (w.row_id, *child) for w in (*inserted, *changed) for child in w.prepared.children
        ])
    out.inserted += len(inserted)
    out.updated += len(changed)
    out.changes += [Change(spec.entity, w.row_id, w.prepared.entity.ref.system) for w in (*inserted, *changed)]
    return out


def _insert(ctx: Context, spec: KeyedSpec, rows: list[Written]) -> None:
    cols = ("id", "system", "external_id", *spec.columns, "version", "row_hash", "last_message_id", "updated_at",
            *spec.insert_only)
    bulk.insert_rows(ctx.conn, spec.table, cols, [
        (w.row_id, p.entity.ref.system, p.entity.ref.external_id, *p.values, p.entity.version, p.row_hash,
         p.message_id, ctx.now, *spec.insert_only.values())
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
        {"_id": w.row_id, **dict(zip(spec.columns, p.values, strict=True)), "version": p.entity.version,
         "row_hash": p.row_hash, "last_message_id": p.message_id, "updated_at": ctx.now}
        for w in rows for p in (w.prepared,)
    ])
