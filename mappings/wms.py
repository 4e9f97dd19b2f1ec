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
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from waybill.canonical import model
from waybill.canonical.model import Ref
from waybill.core.errors import RecordRejected
from waybill.mappings import records
from waybill.mappings.erp import OdooContext, customer_ref, order_names, order_ref, version_of_write

#: the carrier of a delivery Odoo names none for (no carrier set, or no delivery module)
NO_CARRIER = "unassigned"
#: a sale order's number in a picking's origin (other origins are free text: "outgoing shipment")
_ORDER_NAME = re.compile(r"^[A-Z]+\d+$")


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


# --- Odoo Inventory (the "odoo" profile) -----------------------------------------------------------


def odoo_item(ctx: OdooContext, product: Any, path: str) -> tuple[str, str | None]:
    """A product's item id and GTIN, as the ERP's order lines name it: internal reference, else
    barcode, else "product.product/<id>"."""
    if not (isinstance(product, list) and len(product) == 2 and isinstance(product[0], int)):
        raise RecordRejected(f"expected [id, name], got {product!r}", path)
    code, barcode = ctx.products.get(product[0], (None, None))
    return code or barcode or f"product.product/{product[0]}", barcode


def odoo_stock_key(rec: dict[str, Any]) -> str:
    return f"stock.quant/{rec.get('id')}"


def odoo_stock(system: str, rec: dict[str, Any], ctx: OdooContext,
               quants: Sequence[dict[str, Any]] = ()) -> model.StockLevel:
    """The stock level of a stock.quant's product at its location (e.g. "WH/Stock"): the sum of the
    quants there (`quants`, the page's related ones; the quant alone when none are given)."""
    item, gtin = odoo_item(ctx, rec.get("product_id"), "stock.product_id")
    location = rec.get("location_id")
    if not (isinstance(location, list) and len(location) == 2):
        raise RecordRejected(f"expected [id, name], got {location!r}", "stock.location_id")
    here = [q for q in quants if q.get("product_id") == rec["product_id"] and q.get("location_id") == location]
    here = here or [rec]
    latest = max(here, key=lambda q: str(q.get("write_date")))
    return model.StockLevel(
        ref=Ref(system, f"{item}@{location[1]}"), item=item, location=str(location[1]),
        on_hand=sum((_qty(q.get("quantity"), "stock.quantity") for q in here), Decimal(0)),
        allocated=sum((_qty(q.get("reserved_quantity"), "stock.reserved_quantity") for q in here), Decimal(0)),
        as_of=_when(latest.get("write_date"), "stock.write_date"), version=version_of_write(latest, "stock"),
        gtin=gtin,
    )


def odoo_shipment(system: str, rec: dict[str, Any], ctx: OdooContext, erp_system: str = "erp"
                  ) -> list[model.Shipment]:
    """An outgoing stock.picking -> Shipment (a cancelled one is none): its sale order (or the
    orders its origin names), the commercial partner, carrier and tracking reference where Odoo has
    them (else NO_CARRIER), shipped on date_done once done."""
    if rec.get("state") == "cancel":
        return []
    sale = rec.get("sale_id")
    names = [str(sale[1])] if isinstance(sale, list) and len(sale) == 2 else order_names(rec.get("origin"))
    partner = rec.get("partner_id")
    carrier = rec.get("carrier_id")
    done = rec.get("state") == "done" and rec.get("date_done")
    return [model.Shipment(
        ref=Ref(system, str(rec.get("name"))), version=version_of_write(rec, "shipment"),
        carrier=str(carrier[1]) if isinstance(carrier, list) and len(carrier) == 2 else NO_CARRIER,
        tracking_number=rec.get("carrier_tracking_ref") or None,
        order_refs=tuple(order_ref(erp_system, n) for n in names if _ORDER_NAME.match(n)),
        customer=ctx.customer(erp_system, partner[0]) if isinstance(partner, list) and partner else None,
        ship_date=_when(rec["date_done"], "shipment.date_done").date() if done else None,
    )]
