"""Reads of shipments that other tables complete (their order refs are rows of shipment_order_ref)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from waybill.canonical import model
from waybill.store.schema import shipment_order_ref
from waybill.store.writers.common import chunks


def order_refs(conn: Connection, shipment_ids: Iterable[int]) -> dict[int, list[model.Ref]]:
    """The orders each shipment ships, in the order the source listed them (every id asked for
    is a key; a shipment without order refs has an empty list)."""
    t = shipment_order_ref
    found: dict[int, list[model.Ref]] = {sid: [] for sid in shipment_ids}
    for chunk in chunks(sorted(found)):
        q = select(t.c.shipment_id, t.c.system, t.c.external_id).where(t.c.shipment_id.in_(chunk)).order_by(
            t.c.shipment_id, t.c.position)
        for sid, system, external_id in conn.execute(q):
            found[sid].append(model.Ref(system, external_id))
    return found
