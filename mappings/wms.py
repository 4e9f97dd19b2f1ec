"""WMS records -> the canonical model. Pure: no I/O.

Hub ids (Ref system "wms", or the system the flow names):
- stock levels: "<sku>@<location>"  (location is the WMS bin, e.g. WH1/A-03-2; the warehouse is its prefix)
- shipments:    the WMS shipment id, e.g. "SHP000123"
A shipment quotes ERP order names and the ERP partner id; they become ERP refs
("sale.order/<name>", "res.partner/<id>", see mappings/erp.py) so the hub links them to what the
ERP sync stored. Versions are the WMS change numbers (`seq`), which only grow.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from waybill.canonical import model
from waybill.canonical.model import Ref
from waybill.core.errors import RecordRejected
from waybill.mappings.erp import customer_ref, order_ref


def stock_key(rec: dict[str, Any]) -> str:
    return f"{rec.get('sku')}@{rec.get('location')}"


def shipment_key(rec: dict[str, Any]) -> str:
    return str(rec.get("id"))


def _qty(v: Any, path: str) -> Decimal:
    try:
        return Decimal(str(v))
    except (InvalidOperation, ValueError):
        raise RecordRejected(f"not a quantity: {v!r}", path) from None


def _when(v: Any, path: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(v))
    except ValueError:
        raise RecordRejected(f"not a timestamp: {v!r}", path) from None


def _seq(rec: dict[str, Any], path: str) -> str:
    if not isinstance(rec.get("seq"), int):
        raise RecordRejected(f"missing change number: {rec.get('seq')!r}", f"{path}.seq")
    return model.version_of(rec["seq"])


def to_stock(system: str, rec: dict[str, Any]) -> model.StockLevel:
    """A stock record (sku, gtin, location, on_hand, allocated) -> StockLevel."""
    return model.StockLevel(
        ref=Ref(system, stock_key(rec)), item=str(rec.get("sku") or ""), location=str(rec.get("location") or ""),
        on_hand=_qty(rec.get("on_hand"), "stock.on_hand"), allocated=_qty(rec.get("allocated"), "stock.allocated"),
        as_of=_when(rec.get("updated_at"), "stock.updated_at"), version=_seq(rec, "stock"),
        gtin=rec.get("gtin") or None,
    )


def to_shipment(system: str, rec: dict[str, Any], erp_system: str = "erp") -> model.Shipment:
    """An outbound shipment -> Shipment (SSCC of its first package; packages counted)."""
    packages = rec.get("packages") or []
    if not isinstance(packages, list):
        raise RecordRejected(f"expected a list, got {packages!r}", "shipment.packages")
    customer = rec.get("customer_ref")
    return model.Shipment(
        ref=Ref(system, shipment_key(rec)), version=_seq(rec, "shipment"), carrier=str(rec.get("carrier") or ""),
        tracking_number=rec.get("tracking_number") or None, sscc=packages[0].get("sscc") if packages else None,
        order_refs=tuple(order_ref(erp_system, str(o)) for o in rec.get("order_refs") or ()),
        customer=customer_ref(erp_system, customer) if customer else None,
        ship_date=_when(rec["ship_date"], "shipment.ship_date").date() if rec.get("ship_date") else None,
        eta=_when(rec["eta"], "shipment.eta") if rec.get("eta") else None, packages=len(packages),
    )
