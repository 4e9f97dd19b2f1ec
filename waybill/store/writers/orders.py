"""Orders and their lines."""

from __future__ import annotations

from dataclasses import asdict
from operator import attrgetter
from typing import Any

from waybill.canonical import model
from waybill.store.schema import order_line, orders
from waybill.store.writers.common import json_text
from waybill.store.writers.keyed import KeyedSpec, Resolved, need

# attrgetter builds each line's tuple in C: this runs for every order line of every sync.
_LINE_FIELDS = attrgetter("line_no", "sku", "gtin", "description", "quantity", "uom", "unit_price",
                          "quantity_shipped")


def _values(o: model.Order, r: Resolved) -> tuple[Any, ...]:
    return (
        need(r, "customer", o.customer, "order.customer"), o.kind, o.status, o.po_number, o.order_date,
        o.requested_date, o.currency, o.amount_untaxed, o.amount_total,
        json_text(asdict(o.ship_to)) if o.ship_to else None,
    )


ORDER = KeyedSpec(
    entity="order", type=model.Order, table=orders,
    columns=("customer_id", "kind", "status", "po_number", "order_date", "requested_date", "currency",
             "amount_untaxed", "amount_total", "ship_to"),
    values=_values,
    refs={"customer": lambda o: o.customer},
    child=order_line,
    child_columns=("order_id", "line_no", "sku", "gtin", "description", "quantity", "uom", "unit_price",
                   "quantity_shipped"),
    child_rows=lambda o: list(map(_LINE_FIELDS, o.lines)),
    sealed=("ship_to",),
)
