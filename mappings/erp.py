"""Odoo records <-> the canonical model. Pure: no I/O.

Hub ids of ERP records (Ref system "erp", or the system the flow names):
- customers:  "res.partner/<id>"      (the crosswalk id other systems quote: the WMS's customer_ref)
- orders:     "sale.order/<name>"     (the order number, e.g. S00042: what invoices quote as
                                       invoice_origin and the WMS as its shipments' order refs)
- invoices:   "account.move/<id>"     (customer invoices and credit notes)
- payments:   "account.payment/<id>"
Versions are the records' write_date (naive UTC, second precision). Odoo answers False for an
empty field; it becomes None. Many2one fields come as [id, display name].

Order status: cancel -> cancelled, draft/sent -> draft, otherwise by delivered quantities:
none -> confirmed, some -> partially_shipped, all -> shipped.
A field that cannot be read raises RecordRejected naming its path (e.g. order.lines[2].product_uom_qty).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from waybill.canonical import model
from waybill.canonical.model import Ref
from waybill.canonical.views import ErpOrderView
from waybill.core.errors import RecordRejected

_CODE = re.compile(r"^\[([^\]]+)\]")
UOM = {"Units": "EA", "Unit": "EA", "kg": "KGM", "g": "GRM", "L": "LTR", "m": "MTR", "Dozens": "DZN"}
INVOICE_STATUS = {"paid": "paid", "in_payment": "paid", "partial": "partially_paid", "not_paid": "posted",
                  "reversed": "reversed"}


def customer_ref(system: str, partner_id: int) -> Ref:
    return Ref(system, f"res.partner/{partner_id}")


def order_ref(system: str, name: str) -> Ref:
    return Ref(system, f"sale.order/{name}")


def invoice_ref(system: str, move_id: int) -> Ref:
    return Ref(system, f"account.move/{move_id}")


def key_of(model_name: str) -> Callable[[dict[str, Any]], str]:
    """The dead-letter key of a raw record of `model_name`."""
    return lambda rec: f"{model_name}/{rec.get('name') if model_name == 'sale.order' else rec.get('id')}"


# --- field readers (each names its path on failure) ----------------------------------------------


def _s(v: Any) -> str | None:
    return None if v is False or v is None or v == "" else str(v)


def _dec(v: Any, path: str) -> Decimal:
    if v is False or v is None:
        raise RecordRejected("missing mandatory field", path)
    try:
        return Decimal(str(v))
    except (InvalidOperation, ValueError):
        raise RecordRejected(f"not a number: {v!r}", path) from None


def _m2o(v: Any, path: str) -> tuple[int, str]:
    if not (isinstance(v, list) and len(v) == 2 and isinstance(v[0], int)):
        raise RecordRejected(f"expected [id, name], got {v!r}", path)
    return v[0], str(v[1])


def _date(v: Any, path: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(v)[:10])
    except ValueError:
        raise RecordRejected(f"not a date: {v!r}", path) from None


def _version(rec: dict[str, Any], path: str) -> str:
    """write_date as a version (model.version_of's form); Odoo's usual form is cut, not reformatted."""
    try:
        stamp = rec["write_date"]
        when = dt.datetime.fromisoformat(str(stamp))  # validates
    except (KeyError, ValueError):
        raise RecordRejected(f"not a timestamp: {rec.get('write_date')!r}", f"{path}.write_date") from None
    if len(stamp) == 19 and stamp[10] == " ":
        return f"{stamp[:10]}T{stamp[11:]}.000000"
    return model.version_of(when)


# --- inbound -------------------------------------------------------------------------------------


def to_customer(system: str, rec: dict[str, Any]) -> model.Customer:
    """res.partner -> Customer (one contact from the company's own e-mail and phone)."""
    name = _s(rec.get("name"))
    contact = () if not (rec.get("email") or rec.get("phone")) else (
        model.Contact(name=name or "", email=_s(rec.get("email")), phone=_s(rec.get("phone")), role="main"),)
    barcode = _s(rec.get("barcode"))
    term = rec.get("property_payment_term_id")
    industry = rec.get("industry_id")
    return model.Customer(
        ref=customer_ref(system, rec["id"]), name=name or "", version=_version(rec, "customer"),
        tax_id=_s(rec.get("vat")), gln=barcode if barcode and len(barcode) == 13 and barcode.isdigit() else None,
        industry=_m2o(industry, "customer.industry_id")[1] if industry else None,
        credit_limit=_dec(rec["credit_limit"], "customer.credit_limit") if rec.get("credit_limit") else None,
        payment_terms=_m2o(term, "customer.property_payment_term_id")[1] if term else None,
        status="active" if rec.get("active", True) else "inactive",
        contacts=contact,
        addresses=(model.Address(kind="billing", street=_s(rec.get("street")), city=_s(rec.get("city")),
                                 postal_code=_s(rec.get("zip")), country=_s(rec.get("country_code")), name=name),),
    )


def to_order(system: str, rec: dict[str, Any], lines: Sequence[dict[str, Any]]) -> model.Order:
    """sale.order and its sale.order.line rows -> Order (line numbers by sequence, then id)."""
    partner_id, _ = _m2o(rec.get("partner_id"), "order.partner_id")
    ordered = sorted(lines, key=lambda ln: (ln.get("sequence") or 0, ln["id"]))
    out_lines = tuple(_line(i, ln) for i, ln in enumerate(ordered))
    shipping = rec.get("partner_shipping_id")
    # The delivery address is a partner of its own; only its name travels with the order, so it is
    # kept only when it differs from the customer.
    ship_to = _m2o(shipping, "order.partner_shipping_id")[1] if shipping and shipping != rec["partner_id"] else None
    return model.Order(
        ref=order_ref(system, str(rec["name"])), customer=customer_ref(system, partner_id),
        version=_version(rec, "order"), order_date=_date(rec.get("date_order"), "order.date_order"),
        currency=_m2o(rec.get("currency_id"), "order.currency_id")[1], kind="sale",
        status=_order_status(rec.get("state"), out_lines), po_number=_s(rec.get("client_order_ref")),
        requested_date=_date(rec["commitment_date"], "order.commitment_date") if rec.get("commitment_date") else None,
        amount_untaxed=_dec(rec.get("amount_untaxed"), "order.amount_untaxed"),
        amount_total=_dec(rec.get("amount_total"), "order.amount_total"),
        ship_to=model.Address(kind="shipping", name=ship_to) if ship_to else None,
        lines=out_lines,
    )


class _Memo(dict):  # type: ignore[type-arg]
    """A bounded memo of a pure conversion: quantities, prices and product names repeat a lot."""

    def __init__(self, convert: Callable[[Any], Any], size: int = 50_000) -> None:
        super().__init__()
        self.convert, self.size = convert, size

    def __missing__(self, key: Any) -> Any:
        if len(self) >= self.size:
            self.clear()
        value = self[key] = self.convert(key)
        return value


# Keyed by the value's repr: 1, 1.0 and True hash alike but are not the same Decimal.
_DECIMAL = _Memo(Decimal)


def _sku(display_name: str) -> str | None:
    """The internal reference of a product's display name "[SKU-00042] Pallet wrap"."""
    code = _CODE.match(display_name)
    return code.group(1) if code else None


_SKU = _Memo(_sku)


def _line(i: int, ln: dict[str, Any]) -> model.OrderLine:
    # Hot path (every order line of every sync): memoised plain conversions; on any failure the
    # checked reading below names the field.
    try:
        uom = ln.get("product_uom")
        return model.OrderLine(
            line_no=i + 1, quantity=_DECIMAL[repr(ln["product_uom_qty"])], sku=_SKU[ln["product_id"][1]],
            description=ln.get("name") or None, uom=UOM.get(uom[1], "EA") if uom else "EA",
            unit_price=_DECIMAL[repr(ln["price_unit"])],
            quantity_shipped=_DECIMAL[repr(ln.get("qty_delivered") or 0)],
        )
    except (KeyError, IndexError, TypeError, ValueError, ArithmeticError):
        return _line_checked(i, ln)


def _line_checked(i: int, ln: dict[str, Any]) -> model.OrderLine:
    path = f"order.lines[{i}]"
    _, product = _m2o(ln.get("product_id"), f"{path}.product_id")
    uom = ln.get("product_uom")
    return model.OrderLine(
        line_no=i + 1, quantity=_dec(ln.get("product_uom_qty"), f"{path}.product_uom_qty"),
        sku=_sku(product), description=_s(ln.get("name")),
        uom=UOM.get(_m2o(uom, f"{path}.product_uom")[1], "EA") if uom else "EA",
        unit_price=_dec(ln.get("price_unit"), f"{path}.price_unit"),
        quantity_shipped=_dec(ln.get("qty_delivered") or 0, f"{path}.qty_delivered"),
    )


def _order_status(state: Any, lines: tuple[model.OrderLine, ...]) -> str:
    if state == "cancel":
        return "cancelled"
    if state in ("draft", "sent"):
        return "draft"
    shipped = sum(ln.quantity_shipped for ln in lines)
    if shipped <= 0:
        return "confirmed"
    return "shipped" if all(ln.quantity_shipped >= ln.quantity for ln in lines) else "partially_shipped"


def to_invoice(system: str, rec: dict[str, Any]) -> model.Invoice:
    """account.move (out_invoice or out_refund) -> Invoice; the order is found by invoice_origin."""
    partner_id, _ = _m2o(rec.get("partner_id"), "invoice.partner_id")
    kind = {"out_invoice": "invoice", "out_refund": "credit_note"}.get(rec.get("move_type", ""))
    if kind is None:
        raise RecordRejected(f"not a customer invoice or credit note: {rec.get('move_type')!r}", "invoice.move_type")
    origin = _s(rec.get("invoice_origin"))
    return model.Invoice(
        ref=invoice_ref(system, rec["id"]), customer=customer_ref(system, partner_id),
        version=_version(rec, "invoice"), number=str(rec.get("name") or ""),
        invoice_date=_date(rec.get("invoice_date"), "invoice.invoice_date"),
        due_date=_date(rec.get("invoice_date_due") or rec.get("invoice_date"), "invoice.invoice_date_due"),
        currency=_m2o(rec.get("currency_id"), "invoice.currency_id")[1],
        amount_total=_dec(rec.get("amount_total"), "invoice.amount_total"),
        amount_open=_dec(rec.get("amount_residual"), "invoice.amount_residual"),
        kind=kind, order=order_ref(system, origin) if origin else None,
        status=("cancelled" if rec.get("state") == "cancel"
                else INVOICE_STATUS.get(rec.get("payment_state", ""), "posted")),
    )


def to_payment(system: str, rec: dict[str, Any]) -> model.Payment:
    """account.payment -> Payment, linked to the first invoice it reconciles."""
    partner_id, _ = _m2o(rec.get("partner_id"), "payment.partner_id")
    invoices = rec.get("reconciled_invoice_ids") or []
    return model.Payment(
        ref=Ref(system, f"account.payment/{rec['id']}"), customer=customer_ref(system, partner_id),
        version=_version(rec, "payment"), payment_date=_date(rec.get("date"), "payment.date"),
        amount=_dec(rec.get("amount"), "payment.amount"),
        currency=_m2o(rec.get("currency_id"), "payment.currency_id")[1],
        invoice=invoice_ref(system, invoices[0]) if invoices else None,
    )


# --- outbound ------------------------------------------------------------------------------------


def partner_id(ref: Ref | None) -> int:
    """The res.partner id of a customer's ERP id (customer_ref's inverse): "res.partner/42" -> 42.

    RecordRejected when the customer has no ERP id or it is not a partner's."""
    if ref is None:
        raise RecordRejected("the customer has no ERP account (res.partner) in the crosswalk", "order.customer")
    model_name, _, record_id = ref.external_id.partition("/")
    if model_name != "res.partner" or not record_id.isdigit():
        raise RecordRejected(f"the customer's ERP id {ref.external_id!r} is not a res.partner", "order.customer")
    return int(record_id)


def to_sale_order(view: ErpOrderView, partner: int, product_ids: dict[str, int]) -> dict[str, Any]:
    """A hub order -> sale.order create values for res.partner `partner`; `product_ids` maps its
    lines' SKUs to product ids. An unknown SKU rejects the order."""
    commands = []
    for i, ln in enumerate(view.lines):
        product = product_ids.get(ln.sku or "")
        if product is None:
            raise RecordRejected(f"SKU {ln.sku!r} is not a product in the ERP", f"order.lines[{i}].sku")
        values: dict[str, Any] = {"product_id": product, "product_uom_qty": float(ln.quantity)}
        if ln.unit_price is not None:
            values["price_unit"] = float(ln.unit_price)
        commands.append([0, 0, values])
    if not commands:
        raise RecordRejected("an order needs at least one line", "order.lines")
    order = view.order
    return {
        "partner_id": partner,
        "client_order_ref": order.po_number or f"WB-{order.ref.external_id}",
        "date_order": f"{order.order_date.isoformat()} 00:00:00",
        "commitment_date": f"{order.requested_date.isoformat()} 00:00:00" if order.requested_date else False,
        "order_line": commands,
    }
