"""Other systems' ids of hub orders (table order_alias): the ERP's sale.order of an order that a
partner sent and the hub wrote back is the same hub order, so the ERP's changes, invoices and
deliveries of it reach the partner's order (and the CRM sees one order)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import Connection, and_, bindparam, exists, select, update

from waybill.canonical.model import Ref
from waybill.store import bulk
from waybill.store.schema import order_alias, orders, outbox
from waybill.store.writers.common import LIST_CHUNK, chunks


class Alias(NamedTuple):
    """The hub order behind an alias, the alias's last version, and the order row's version and hash."""

    order_id: int
    version: str | None
    row_version: str
    row_hash: str


def link(conn: Connection, ref: Ref, order_id: int) -> None:
    """Make `ref` (e.g. erp:sale.order/S00029) another id of hub order `order_id` (idempotent)."""
    a = order_alias.c
    current = conn.execute(select(a.order_id).where(a.system == ref.system, a.external_id == ref.external_id)).scalar()
    if current is None:
        conn.execute(order_alias.insert().values(system=ref.system, external_id=ref.external_id, order_id=order_id))
    elif current != order_id:
        conn.execute(update(order_alias).where(a.system == ref.system, a.external_id == ref.external_id)
                     .values(order_id=order_id, version=None))


def lookup(conn: Connection, refs: Iterable[Ref]) -> dict[Ref, Alias]:
    """The aliases among `refs`, with their hub order."""
    a, o = order_alias.c, orders.c
    by_system: dict[str, list[str]] = {}
    for r in set(refs):
        by_system.setdefault(r.system, []).append(r.external_id)
    found: dict[Ref, Alias] = {}
    for system, ids in by_system.items():
        for chunk in chunks(sorted(ids), LIST_CHUNK):
            q = (select(a.system, a.external_id, a.order_id, a.version, o.version.label("row_version"), o.row_hash)
                 .join(orders, o.id == a.order_id)
                 .where(a.system == system, bulk.in_list(conn, a.external_id, chunk)))
            for row in conn.execute(q):
                found[Ref(row.system, row.external_id)] = Alias(int(row.order_id), row.version, row.row_version,
                                                                row.row_hash)
    return found


def written_back(conn: Connection, keys: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str, int], Alias]:
    """The hub orders written back to a system (an outbox row of that target exists) that have no
    alias there yet, by (system, purchase order number, customer id): that system's order with the
    same number and customer is the one the write-back made (it finds it the same way), read
    before its alias was recorded. An order whose alias is already recorded is not matched again."""
    wanted = set(keys)
    a, o, x = order_alias.c, orders.c, outbox.c
    found: dict[tuple[str, str, int], Alias] = {}
    for system in sorted({k[0] for k in wanted}):
        numbers = sorted({po for s, po, _ in wanted if s == system})
        for chunk in chunks(numbers, LIST_CHUNK):
            q = (select(o.id, o.po_number, o.customer_id, o.version, o.row_hash)
                 .where(bulk.in_list(conn, o.po_number, chunk), o.system != system,
                        exists().where(and_(x.target == system, x.entity == "order", x.entity_id == o.id)),
                        ~exists().where(and_(a.system == system, a.order_id == o.id)))
                 .order_by(o.id))
            for row in conn.execute(q):
                key = (system, row.po_number, int(row.customer_id))
                if key in wanted:
                    found.setdefault(key, Alias(int(row.id), None, row.version, row.row_hash))
    return found


def set_versions(conn: Connection, versions: dict[Ref, str]) -> None:
    """Remember the last version taken through each alias."""
    if not versions:
        return
    a = order_alias.c
    conn.execute(update(order_alias).where(a.system == bindparam("_system"), a.external_id == bindparam("_ext"))
                 .values(version=bindparam("_version")),
                 [{"_system": r.system, "_ext": r.external_id, "_version": v} for r, v in versions.items()])
