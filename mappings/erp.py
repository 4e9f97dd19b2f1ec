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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from waybill.canonical import model
from waybill.canonical.model import Ref
from waybill.canonical.views import ErpOrderView
from waybill.core.errors import RecordRejected

_CODE = re.compile(r"^\[([^\]]+)\]")
#: Odoo unit names -> UN/ECE Rec. 20 codes (the canonical units); other units are resolved through the
#: unit they are defined from (uom.uom.relative_uom_id), see units_of.
UOM = {"Units": "EA", "Unit": "EA", "Dozens": "DZN", "kg": "KGM", "g": "GRM", "Ton": "TNE", "lb": "LBR",
       "oz": "ONZ", "L": "LTR", "ml": "MLT", "gal (US)": "GLL", "qt (US)": "QT", "m": "MTR", "cm": "CMT",
       "mm": "MMT", "km": "KMT", "in": "INH", "ft": "FOT", "m²": "MTK", "ft²": "FTK", "Hours": "HUR",
       "Days": "DAY", "Minutes": "MIN", "KWH": "KWH"}
VOID_PAYMENT_STATES = frozenset({"canceled", "cancel", "rejected"})
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


def version_of_write(rec: dict[str, Any], path: str) -> str:
    """The version of an Odoo record: its write_date (RecordRejected at `path`.write_date when not one)."""
    return _version(rec, path)


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


@dataclass(frozen=True)
class Unit:
    """How a uom.uom becomes a canonical unit: its code, and how many of that unit one Odoo unit is."""

    code: str
    factor: Decimal = Decimal(1)


#: canonical units by Odoo unit name, for records read without the unit table
UNIT_BY_NAME: dict[str, Unit | str] = {name: Unit(code) for name, code in UOM.items()}


@dataclass(frozen=True)
class OdooContext:
    """What a page's records need beside themselves (from Page.related): each partner's commercial
    partner (from the partners a page carries, or its "commercial" list of [id, commercial id]), the
    products' codes and barcodes, the units of measure and the company's timezone."""

    commercial: dict[int, int] = field(default_factory=dict)
    products: dict[int, tuple[str | None, str | None]] = field(default_factory=dict)
    units: dict[int, Unit | str] = field(default_factory=dict)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))

    def customer(self, system: str, partner: int) -> Ref:
        """The customer of a record on `partner`: its commercial partner (a contact's company)."""
        return customer_ref(system, self.commercial.get(partner, partner))


def context_of(related: dict[str, list[dict[str, Any]]]) -> OdooContext:
    """The OdooContext of a page's related records (an empty one maps Odoo's defaults)."""
    commercial = {}
    for p in (*related.get("commercial", ()), *related.get("partners", ())):
        owner = p.get("commercial_partner_id")
        commercial[p["id"]] = owner[0] if isinstance(owner, list) and owner else p["id"]
    products = {p["id"]: (_s(p.get("default_code")), _s(p.get("barcode"))) for p in related.get("products", ())}
    settings = (related.get("settings") or [{}])[0]
    try:
        tz = ZoneInfo(str(settings.get("timezone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        raise RecordRejected(f"unknown timezone {settings.get('timezone')!r}", "connection.timezone") from None
    return OdooContext(commercial, products, units_of(related.get("uoms", ())), tz)


def units_of(uoms: Sequence[dict[str, Any]]) -> dict[int, Unit | str]:
    """uom.uom rows -> canonical units: by name through UOM, else by the unit it is defined from
    (Odoo 19's replacement of UoM categories: "Pack of 6" is 6 Units, so 6 EA); a unit with no known
    reference maps to the reason it cannot be used."""
    rows = {u["id"]: u for u in uoms}
    out: dict[int, Unit | str] = {}
    for uid, u in rows.items():
        name, factor, seen = str(u.get("name") or ""), Decimal(1), set()
        unit: Unit | str = f"unknown unit of measure {name!r}"
        current: dict[str, Any] | None = u
        while current is not None and current["id"] not in seen:
            seen.add(current["id"])
            code = UOM.get(str(current.get("name") or ""))
            if code:
                unit = Unit(code, factor)
                break
            factor *= Decimal(str(current.get("relative_factor") or 1))
            ref = current.get("relative_uom_id")
            current = rows.get(ref[0]) if isinstance(ref, list) and ref else None
        if isinstance(unit, Unit) and unit.factor != 1 and unit.code != "EA":
            unit = f"unit of measure {name!r} is {unit.factor} {unit.code}: only counted units are converted"
        out[uid] = unit
    return out


def is_commercial(partner: dict[str, Any]) -> bool:
    """A partner that is its own commercial partner (a company, or a person without a company)."""
    owner = partner.get("commercial_partner_id")
    return owner[0] == partner["id"] if isinstance(owner, list) and owner else not partner.get("parent_id")


def customers_of(system: str, partners: Sequence[dict[str, Any]]) -> list[model.Customer]:
    """The commercial partners among `partners` (a page's partners and their parents) as customers."""
    return [to_customer(system, p) for p in partners if is_commercial(p)]


def to_order(system: str, rec: dict[str, Any], lines: Sequence[dict[str, Any]],
             ctx: OdooContext = OdooContext()) -> model.Order:
    """sale.order and its sale.order.line rows -> Order (line numbers by sequence, then id; section
    and note lines, which carry no product, are left out)."""
    partner_id, _ = _m2o(rec.get("partner_id"), "order.partner_id")
    ordered = sorted((ln for ln in lines if not ln.get("display_type")),
                     key=lambda ln: (ln.get("sequence") or 0, ln["id"]))
    out_lines = tuple(_line(i, ln, ctx) for i, ln in enumerate(ordered))
    shipping = rec.get("partner_shipping_id")
    # The delivery address is a partner of its own; only its name travels with the order, so it is
    # kept only when it differs from the customer.
    ship_to = _m2o(shipping, "order.partner_shipping_id")[1] if shipping and shipping != rec["partner_id"] else None
    return model.Order(
        ref=order_ref(system, str(rec["name"])), customer=ctx.customer(system, partner_id),
        version=_version(rec, "order"), order_date=_local_date(rec.get("date_order"), ctx, "order.date_order"),
        currency=_m2o(rec.get("currency_id"), "order.currency_id")[1], kind="sale",
        status=_order_status(rec.get("state"), out_lines), po_number=_s(rec.get("client_order_ref")),
        requested_date=(_local_date(rec["commitment_date"], ctx, "order.commitment_date")
                        if rec.get("commitment_date") else None),
        amount_untaxed=_dec(rec.get("amount_untaxed"), "order.amount_untaxed"),
        amount_total=_dec(rec.get("amount_total"), "order.amount_total"),
        ship_to=model.Address(kind="shipping", name=ship_to) if ship_to else None,
        lines=out_lines,
    )


def _local_date(v: Any, ctx: OdooContext, path: str) -> dt.date:
    """The company's calendar day of an Odoo datetime (naive UTC); a plain date is taken as it is."""
    text = str(v)
    if len(text) <= 10:
        return _date(v, path)
    try:
        when = dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    except ValueError:
        raise RecordRejected(f"not a datetime: {v!r}", path) from None
    return when.astimezone(ctx.timezone).date()


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
_EA = Unit("EA")


def _line(i: int, ln: dict[str, Any], ctx: OdooContext) -> model.OrderLine:
    # Hot path (every order line of every sync): memoised plain conversions for a product with an
    # internal reference in a unit counted one to one; anything else takes the checked reading below,
    # which names the field that fails.
    try:
        uom = ln["product_uom_id"]
        unit = (ctx.units.get(uom[0]) if ctx.units else UNIT_BY_NAME.get(uom[1])) if uom else _EA
        product = ln["product_id"]
        code, barcode = ctx.products.get(product[0]) or (_SKU[product[1]], None)
        if code and isinstance(unit, Unit) and unit.factor == 1:
            return model.OrderLine(
                line_no=i + 1, quantity=_DECIMAL[repr(ln["product_uom_qty"])], sku=code, gtin=barcode,
                description=ln.get("name") or None, uom=unit.code, unit_price=_DECIMAL[repr(ln["price_unit"])],
                quantity_shipped=_DECIMAL[repr(ln.get("qty_delivered") or 0)],
            )
    except (KeyError, IndexError, TypeError, ValueError, ArithmeticError):
        pass
    return _line_checked(i, ln, ctx)


def _line_checked(i: int, ln: dict[str, Any], ctx: OdooContext) -> model.OrderLine:
    path = f"order.lines[{i}]"
    product_id, product = _m2o(ln.get("product_id"), f"{path}.product_id")
    code, barcode = ctx.products.get(product_id, (_sku(product), None))
    uom = ln.get("product_uom_id")
    if uom:
        uom_id, uom_name = _m2o(uom, f"{path}.product_uom_id")
        unit = ctx.units.get(uom_id) if ctx.units else UNIT_BY_NAME.get(uom_name)
        if unit is None:
            unit = f"unknown unit of measure {uom_name!r}"
    else:
        unit = _EA
    if isinstance(unit, str):
        raise RecordRejected(unit, f"{path}.product_uom_id")
    return model.OrderLine(
        line_no=i + 1, quantity=_dec(ln.get("product_uom_qty"), f"{path}.product_uom_qty") * unit.factor,
        # a product with neither internal reference nor barcode is known by its ERP id
        sku=code or (None if barcode else f"product.product/{product_id}"), gtin=barcode,
        description=_s(ln.get("name")), uom=unit.code,
        unit_price=_dec(ln.get("price_unit"), f"{path}.price_unit") / unit.factor,
        quantity_shipped=_dec(ln.get("qty_delivered") or 0, f"{path}.qty_delivered") * unit.factor,
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


def to_invoice(system: str, rec: dict[str, Any], ctx: OdooContext = OdooContext(),
               lines: Sequence[dict[str, Any]] = ()) -> list[model.Invoice]:
    """account.move (out_invoice or out_refund) and its product lines (account.move.line) -> Invoice;
    the order is found by invoice_origin. A draft is not a receivable yet (no number, no date): nothing."""
    if rec.get("state") == "draft":
        return []
    partner_id, _ = _m2o(rec.get("partner_id"), "invoice.partner_id")
    kind = {"out_invoice": "invoice", "out_refund": "credit_note"}.get(rec.get("move_type", ""))
    if kind is None:
        raise RecordRejected(f"not a customer invoice or credit note: {rec.get('move_type')!r}", "invoice.move_type")
    origins = order_names(rec.get("invoice_origin"))
    return [model.Invoice(
        ref=invoice_ref(system, rec["id"]), customer=ctx.customer(system, partner_id),
        version=_version(rec, "invoice"), number=str(rec.get("name") or ""),
        invoice_date=_date(rec.get("invoice_date"), "invoice.invoice_date"),
        due_date=_date(rec.get("invoice_date_due") or rec.get("invoice_date"), "invoice.invoice_date_due"),
        currency=_m2o(rec.get("currency_id"), "invoice.currency_id")[1],
        amount_total=_dec(rec.get("amount_total"), "invoice.amount_total"),
        amount_open=_dec(rec.get("amount_residual"), "invoice.amount_residual"),
        kind=kind, order=order_ref(system, origins[0]) if origins else None,
        orders=tuple(order_ref(system, name) for name in origins) if len(origins) > 1 else (),
        status=("cancelled" if rec.get("state") == "cancel"
                else INVOICE_STATUS.get(rec.get("payment_state", ""), "posted")),
        lines=tuple(_invoice_line(i, ln) for i, ln in enumerate(
            sorted(lines, key=lambda ln: (ln.get("sequence") or 0, ln["id"])))),
    )]


def _invoice_line(i: int, ln: dict[str, Any]) -> model.InvoiceLine:
    path = f"invoice.lines[{i}]"
    product = ln.get("product_id")
    return model.InvoiceLine(
        line_no=i + 1, quantity=_dec(ln.get("quantity"), f"{path}.quantity"),
        unit_price=_dec(ln.get("price_unit"), f"{path}.price_unit"),
        amount=_dec(ln.get("price_subtotal"), f"{path}.price_subtotal"),
        sku=_sku(_m2o(product, f"{path}.product_id")[1]) if product else None,
        # the first line of the label: Odoo appends the product's sales description below it
        description=(_s(ln.get("name")) or "").split("\n")[0][:300] or None,
    )


def order_names(origin: Any) -> list[str]:
    """The order numbers of an invoice_origin: "S00032, S00031" (an invoice for several orders)."""
    return [name.strip() for name in str(origin or "").split(",") if name.strip()]


def to_payment(system: str, rec: dict[str, Any], ctx: OdooContext = OdooContext()
               ) -> list[model.Payment]:
    """account.payment -> Payment, linked to the first invoice it reconciles. A draft pays nothing
    yet (nothing); a cancelled or rejected one is kept with amount 0, unlinked: it no longer pays."""
    state = rec.get("state")
    if state == "draft":
        return []
    void = state in VOID_PAYMENT_STATES
    partner_id, _ = _m2o(rec.get("partner_id"), "payment.partner_id")
    invoices = [] if void else rec.get("reconciled_invoice_ids") or []
    return [model.Payment(
        ref=Ref(system, f"account.payment/{rec['id']}"), customer=ctx.customer(system, partner_id),
        version=_version(rec, "payment"), payment_date=_date(rec.get("date"), "payment.date"),
        amount=Decimal(0) if void else _dec(rec.get("amount"), "payment.amount"),
        currency=_m2o(rec.get("currency_id"), "payment.currency_id")[1],
        invoice=invoice_ref(system, invoices[0]) if invoices else None,
    )]


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


class UnknownItem(RecordRejected):
    """An order line names an item the ERP does not have (yet): the order waits until it does."""


@dataclass(frozen=True)
class ErpProduct:
    """A product.product as the write-back finds it: its id, internal reference and barcode."""

    id: int
    code: str | None = None
    barcode: str | None = None


def resolve_items(lines: Sequence[model.OrderLine], products: Sequence[ErpProduct],
                  crosswalk: Mapping[str, str] | None = None) -> dict[int, int]:
    """The product id of each line (by line_no): by GTIN (the product's barcode), then by the
    partner's item crosswalk (its item id -> the ERP's internal reference), then by internal
    reference (a SKU "product.product/<id>" names the product itself). UnknownItem names the
    first line whose item the ERP does not have."""
    by_barcode = {p.barcode: p.id for p in products if p.barcode}
    by_code = {p.code: p.id for p in products if p.code}
    ids = {p.id for p in products}
    crosswalk = crosswalk or {}
    out: dict[int, int] = {}
    for i, ln in enumerate(lines):
        found = by_barcode.get(ln.gtin or "") or by_barcode.get((ln.gtin or "").lstrip("0") or "-")
        if found is None and ln.sku:
            found = by_code.get(crosswalk.get(ln.sku, ln.sku))
            if found is None and ln.sku.startswith("product.product/"):
                found = int(ln.sku.split("/", 1)[1]) if ln.sku.split("/", 1)[1] in {str(x) for x in ids} else None
        if found is None:
            raise UnknownItem(f"item {ln.sku or ln.gtin!r} is not a product in the ERP (by barcode, the partner's "
                              f"item crosswalk or internal reference)", f"order.lines[{i}].sku")
        out[ln.line_no] = found
    return out


def item_keys(lines: Sequence[model.OrderLine], crosswalk: Mapping[str, str] | None = None
              ) -> tuple[list[str], list[str], list[int]]:
    """What to look products up by: barcodes, internal references and product ids."""
    crosswalk = crosswalk or {}
    gtins = sorted({g for ln in lines if ln.gtin for g in (ln.gtin, ln.gtin.lstrip("0"))})
    codes = sorted({crosswalk.get(ln.sku, ln.sku) for ln in lines if ln.sku})
    ids = sorted({int(c.split("/", 1)[1]) for c in codes if c.startswith("product.product/")
                  and c.split("/", 1)[1].isdigit()})
    return gtins, [c for c in codes if not c.startswith("product.product/")], ids


def to_sale_order(view: ErpOrderView, partner: int, product_ids: dict[int, int],
                  timezone: ZoneInfo = ZoneInfo("UTC")) -> dict[str, Any]:  # noqa: B008 - immutable default
    """A hub order -> sale.order create values for res.partner `partner`; `product_ids` maps its
    lines (line_no) to product ids (resolve_items). Dates are the company's days (`timezone`),
    sent as the UTC time of their midnight, as Odoo stores them."""
    commands = []
    for i, ln in enumerate(view.lines):
        product = product_ids.get(ln.line_no)
        if product is None:
            raise UnknownItem(f"item {ln.sku or ln.gtin!r} is not a product in the ERP", f"order.lines[{i}].sku")
        commands.append([0, 0, sale_line(product, ln)])
    if not commands:
        raise RecordRejected("an order needs at least one line", "order.lines")
    order = view.order
    return {
        "partner_id": partner,
        "client_order_ref": order.po_number or f"WB-{order.ref.external_id}",
        "date_order": _utc_midnight(order.order_date, timezone),
        "commitment_date": _utc_midnight(order.requested_date, timezone) if order.requested_date else False,
        "order_line": commands,
    }


def sale_line(product: int, ln: model.OrderLine) -> dict[str, Any]:
    """The sale.order.line values of a hub order line."""
    values: dict[str, Any] = {"product_id": product, "product_uom_qty": float(ln.quantity)}
    if ln.unit_price is not None:
        values["price_unit"] = float(ln.unit_price)
    return values


def amendment(values: dict[str, Any], current: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """The order_line commands that turn an ERP order's product lines `current` (in sequence order)
    into the lines of `values` (to_sale_order's): change in place, add, remove (Odoo decides whether
    its state allows it). Empty when nothing differs."""
    wanted = [c[2] for c in values["order_line"]]
    commands: list[list[Any]] = []
    for i, new in enumerate(wanted):
        if i >= len(current):
            commands.append([0, 0, new])
            continue
        old = current[i]
        old_product = old["product_id"][0] if old.get("product_id") else None
        if (old_product, float(old["product_uom_qty"]), float(old["price_unit"])) != (
                new["product_id"], new["product_uom_qty"], new.get("price_unit", old["price_unit"])):
            commands.append([1, old["id"], new])
    commands += [[2, old["id"], 0] for old in current[len(wanted):]]
    return commands


def _utc_midnight(day: dt.date, timezone: ZoneInfo) -> str:
    """Odoo's UTC datetime of the start of `day` in `timezone`."""
    start = dt.datetime.combine(day, dt.time(), timezone).astimezone(dt.UTC)
    return start.strftime("%Y-%m-%d %H:%M:%S")
