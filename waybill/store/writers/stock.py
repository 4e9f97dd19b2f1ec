"""Stock levels per item and location."""

from __future__ import annotations

from waybill.canonical import model
from waybill.store.schema import stock_level
from waybill.store.writers.keyed import KeyedSpec

STOCK = KeyedSpec(
    entity="stock", type=model.StockLevel, table=stock_level,
    columns=("item", "gtin", "location", "on_hand", "allocated", "available", "as_of"),
    values=lambda s, r: (s.item, s.gtin, s.location, s.on_hand, s.allocated, s.available, s.as_of),
)
