"""The crosswalk (customer_identity): which ids a hub customer has in the other systems."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, ScalarSelect, func, select

from waybill.store.schema import customer_identity


def external_id(customer_id: ColumnElement[int], system: str) -> ScalarSelect[str]:
    """The customer's id in `system`, as a column beside `customer_id` in a read's select.

    The least id when the crosswalk holds several for that system (a stable choice), NULL when it
    holds none. Correlated to `customer_id`, so it reads the crosswalk by its customer index.
    """
    return (select(func.min(customer_identity.c.external_id))
            .where(customer_identity.c.customer_id == customer_id, customer_identity.c.system == system)
            .scalar_subquery())


def customers_of(conn: Connection, system: str) -> dict[str, int]:
    """Every id the crosswalk holds for `system`, with the hub customer it names."""
    q = select(customer_identity.c.external_id, customer_identity.c.customer_id).where(
        customer_identity.c.system == system)
    return dict(conn.execute(q).tuples().all())
