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
from waybill.mappings import records
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
    return model.version_of(records.seq(rec, "seq", f"{path}.seq"))


def _required(rec: dict[str, Any], name: str, path: str) -> str:
    value = records.text(rec, name, path)
    if value is None:
        raise RecordRejected("missing mandatory field", path)
    return value


def to_stock(system: str, rec: dict[str, Any]) -> model.StockLevel:
    """A stock record (sku, gtin, location, on_hand, allocated) -> StockLevel."""
    item, location = _required(rec, "sku", "stock.sku"), _required(rec, "location", "stock.location")
    return model.StockLevel(
        ref=Ref(system, f"{item}@{location}"), item=item, location=location,
        on_hand=_qty(rec.get("on_hand"), "stock.on_hand"), allocated=_qty(rec.get("allocated"), "stock.allocated"),
        as_of=_when(rec.get("updated_at"), "stock.updated_at"), version=_seq(rec, "stock"),
        gtin=records.text(rec, "gtin", "stock.gtin"),
    )


def to_shipment(system: str, rec: dict[str, Any], erp_system: str = "erp") -> model.Shipment:
    """An outbound shipment -> Shipment (SSCC of its first package; packages counted)."""
    packages = records.items(rec, "packages", "shipment.packages", of=dict)
    customer = records.text(rec, "customer_ref", "shipment.customer_ref")
    return model.Shipment(
        ref=Ref(system, records.ident(rec, "id", "shipment.id")), version=_seq(rec, "shipment"),
        carrier=_required(rec, "carrier", "shipment.carrier"),
        tracking_number=records.text(rec, "tracking_number", "shipment.tracking_number"),
        sscc=records.text(packages[0], "sscc", "shipment.packages[0].sscc") if packages else None,
        order_refs=tuple(order_ref(erp_system, str(o))
                         for o in records.items(rec, "order_refs", "shipment.order_refs", of=(str, int))),
        customer=customer_ref(erp_system, rec["customer_ref"]) if customer else None,
        ship_date=_when(rec["ship_date"], "shipment.ship_date").date() if rec.get("ship_date") else None,
        eta=_when(rec["eta"], "shipment.eta") if rec.get("eta") else None, packages=len(packages),
    )
