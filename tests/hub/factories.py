"""Small builders of canonical entities for hub tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from waybill.canonical import model


def customer(ext: str = "1", system: str = "erp", version: int = 1, **kw) -> model.Customer:
    kw.setdefault("name", f"Customer {ext}")
    return model.Customer(ref=model.Ref(system, ext), version=model.version_of(version), **kw)


def order(ext: str = "SO1", cust: str = "1", version: int = 1, lines: int = 2, system: str = "erp",
          cust_system: str = "erp", **kw) -> model.Order:
    kw.setdefault("order_date", dt.date(2026, 3, 1))
    kw.setdefault("currency", "EUR")
    return model.Order(
        ref=model.Ref(system, ext), customer=model.Ref(cust_system, cust), version=model.version_of(version),
        lines=tuple(model.OrderLine(i + 1, Decimal(i + 2), sku=f"SKU-{i}", unit_price=Decimal("9.50"))
                    for i in range(lines)),
        **kw,
    )


def batch(*entities, key: str = "page-1", cursor: str | None = None, system: str = "erp",
          stream: str = "test", raw: bytes | None = None) -> model.Batch:
    body = raw if raw is not None else repr(entities).encode()
    return model.Batch(system, stream, [model.InboundMessage(body, key, list(entities))], cursor=cursor)
