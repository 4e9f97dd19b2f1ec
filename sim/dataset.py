"""The back office's seeded dataset: one generator for the ERP, WMS and TMS simulators.

`generate(seed, customers, orders)` builds, deterministically (same arguments, same data):
- ERP (Odoo shapes, as `search_read` returns them): res.partner companies whose revenue follows a
  Pareto curve (order counts drawn by Pareto weights), product.product, sale.order with 1-6
  sale.order.line each (partial deliveries through qty_delivered), account.move customer invoices
  with part payments and overdue receivables, credit notes for returns, and account.payment;
- WMS: stock per item and location across three warehouses, and outbound shipments (packages with
  SSCCs, carrier, tracking number) for every delivered quantity, some orders split in two;
- TMS: at least six status events per parcel, with event ids increasing in time order; some
  parcels hit an exception or go back to the sender.

Rows share write_dates the way Odoo's second-precision timestamps make them: orders are confirmed
in bursts, and a final "price list recompute" touches `shared_burst` orders with one timestamp.
A few records are deliberately bad, as real data has: `bad_orders` in an unknown currency and
`bad_events` with an undocumented status code, which the hub must dead-letter while the rest goes on.

The simulators keep this dataset in memory and persist only what changes afterwards (`Journal`).
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EPOCH = dt.datetime(2026, 1, 5, 8, 0, 0)
CURRENCY = [1, "EUR"]
WAREHOUSES = ("WH1", "WH2", "WH3")
CARRIERS = ("DHL", "UPS", "DPD", "FEDEX")
TERMS = ((1, "15 Days", 15), (2, "30 Days", 30), (3, "60 Days", 60))
INDUSTRIES = ((1, "Retail"), (2, "Wholesale"), (3, "Manufacturing"), (4, "Food"), (5, "Pharma"))
COUNTRIES = (("DE", "Berlin", "10115"), ("FR", "Lyon", "69001"), ("NL", "Utrecht", "3511"),
             ("BE", "Gent", "9000"), ("AT", "Graz", "8010"), ("PL", "Poznan", "61-001"))
WORDS_A = ("Nordic", "Alpine", "Baltic", "Rhine", "Atlas", "Delta", "Summit", "Harbor", "Crown", "Vertex",
           "Orion", "Linden", "Falcon", "Meridian", "Pioneer", "Cobalt")
WORDS_B = ("Foods", "Retail", "Trading", "Pharma", "Supplies", "Logistics", "Markets", "Industries", "Stores")
FORMS = ("GmbH", "SA", "BV", "AG", "Sp. z o.o.", "SRL")
PRODUCTS = ("Pallet wrap", "Carton 40x30", "Label roll", "Hand scanner", "Tape 50mm", "Crate", "Strap kit",
            "Cooler box", "Divider set", "Drum liner")
#: TMS status codes of the story lines below (mappings/tms.py maps them to canonical statuses).
STORIES = (
    ("CRT", "PUP", "DEP", "ARR", "DEP", "OFD", "DLV"),
    ("CRT", "PUP", "DEP", "ARR", "DEP", "ARR", "OFD", "DLV"),
    ("CRT", "PUP", "DEP", "ARR", "OFD", "EXC", "OFD", "DLV"),
    ("CRT", "PUP", "DEP", "ARR", "EXC", "RTS"),
    ("CRT", "PUP", "DEP", "ARR", "DEP", "ARR"),  # still on its way
)
HUBS = ("Hamburg", "Leipzig", "Venlo", "Lille", "Linz", "Wroclaw")


def fmt(t: dt.datetime) -> str:
    """Odoo's write_date form: naive UTC, second precision."""
    return t.isoformat(sep=" ", timespec="seconds")


def parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def check_digit(digits: str) -> str:
    """GS1 mod-10 check digit (GTIN, GLN, SSCC)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


@dataclass
class Dataset:
    """Records per model/stream, each a list of dicts in the owning system's own JSON shape."""

    seed: int
    erp: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    stock: list[dict[str, Any]] = field(default_factory=list)
    shipments: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def generate(seed: int = 1, customers: int = 60, orders: int = 400, products: int = 120,
             shared_burst: int = 25, bad_orders: int = 1, bad_events: int = 1, logistics: bool = True) -> Dataset:
    """The dataset for `seed` and these sizes (see the module doc); `logistics=False` leaves out
    stock, shipments and events (the ERP benchmark does not need them)."""
    rng = random.Random(seed)
    ds = Dataset(seed)
    span_days = min(365, max(30, orders // 6))
    partners = _partners(rng, customers, span_days)
    catalogue = _products(rng, products)
    ds.erp["res.partner"] = partners
    ds.erp["product.product"] = catalogue
    sales, lines = _orders(rng, partners, catalogue, orders, span_days, shared_burst, bad_orders)
    ds.erp["sale.order"], ds.erp["sale.order.line"] = sales, lines
    moves, payments = _invoices(rng, partners, sales, lines)
    ds.erp["account.move"], ds.erp["account.payment"] = moves, payments
    if logistics:
        ds.stock = _stock(rng, catalogue)
        ds.shipments = _shipments(rng, sales, lines)
        ds.events = _events(rng, ds.shipments, bad_events)
    # after everything random: the logistics data stays as it was
    ds.erp["account.move.line"] = _move_lines(ds.erp)
    _odoo_shapes(ds.erp)
    ds.erp["uom.uom"] = [{"id": i, "name": n, "relative_uom_id": [ref, next(u[1] for u in UOMS if u[0] == ref)]
                          if ref else False, "relative_factor": f, "write_date": fmt(EPOCH)} for i, n, ref, f in UOMS]
    return ds


def _partners(rng: random.Random, n: int, span_days: int) -> list[dict[str, Any]]:
    out = []
    for i in range(1, n + 1):
        country, city, zip_code = rng.choice(COUNTRIES)
        term = rng.choice(TERMS)
        name = f"{rng.choice(WORDS_A)} {rng.choice(WORDS_B)} {rng.choice(FORMS)} {i:03d}"
        gln_body = f"40{rng.randrange(10**10):010d}"
        out.append({
            "id": i, "name": name, "display_name": name, "is_company": True, "customer_rank": 1,
            "parent_id": False, "commercial_partner_id": [i, name],
            "ref": f"C{i:05d}", "vat": f"{country}{rng.randrange(10**8, 10**9)}",
            "barcode": gln_body + check_digit(gln_body) if rng.random() < 0.4 else False,
            "email": f"orders@customer{i}.example", "phone": f"+49 30 {rng.randrange(10**6, 10**7)}",
            "street": f"{rng.choice(WORDS_A)}strasse {rng.randrange(1, 120)}", "city": city, "zip": zip_code,
            "country_code": country, "industry_id": list(rng.choice(INDUSTRIES)),
            "credit_limit": float(rng.choice((5000, 10000, 25000, 50000, 100000))),
            "property_payment_term_id": [term[0], term[1]], "active": rng.random() > 0.03,
            # customers are imported in batches: several share a write_date
            "write_date": fmt(EPOCH + dt.timedelta(days=(i // 7) * span_days / max(1, n // 7))),
            "_weight": rng.paretovariate(1.16), "_term_days": term[2],
        })
    return out


def _products(rng: random.Random, n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(1, n + 1):
        body = f"400638{i:06d}"
        out.append({"id": i, "default_code": f"SKU-{i:05d}", "name": f"{rng.choice(PRODUCTS)} {i}",
                    "barcode": body + check_digit(body), "list_price": round(rng.uniform(2, 400), 2),
                    "write_date": fmt(EPOCH)})
    return out


def _orders(rng: random.Random, partners: list[dict], catalogue: list[dict], n: int, span_days: int,
            shared_burst: int, bad_orders: int) -> tuple[list[dict], list[dict]]:
    cum = list(itertools.accumulate(p["_weight"] for p in partners))
    total = cum[-1]
    sales: list[dict] = []
    lines: list[dict] = []
    line_id = 0
    span = span_days * 86400
    end = EPOCH + dt.timedelta(seconds=span)
    # Confirmation bursts: orders are written in groups that share a second.
    times = sorted(rng.randrange(span) for _ in range(n))
    for i in range(1, n + 1):
        partner = partners[bisect.bisect(cum, rng.random() * total)]
        ordered = EPOCH + dt.timedelta(seconds=times[i - 1])
        age_days = (end - ordered).days
        roll = rng.random()
        state = "cancel" if roll < 0.04 else "draft" if roll < 0.08 or age_days < 1 else "sale"
        ids, untaxed = [], 0.0
        for seq in range(1, rng.randint(1, 6) + 1):
            product = catalogue[rng.randrange(len(catalogue))]
            qty = float(rng.randint(1, 40))
            if state != "sale" or age_days < 3:
                delivered = 0.0
            else:
                r = rng.random()
                delivered = qty if r < 0.82 else float(rng.randint(0, int(qty) - 1)) if r < 0.97 else 0.0
            line_id += 1
            price = product["list_price"]
            subtotal = round(qty * price, 2)
            untaxed += subtotal
            ids.append(line_id)
            lines.append({"id": line_id, "order_id": [i, f"S{i:05d}"], "sequence": seq * 10,
                          "product_id": [product["id"], f"[{product['default_code']}] {product['name']}"],
                          "name": product["name"], "product_uom_qty": qty, "qty_delivered": delivered,
                          "price_unit": price, "price_subtotal": subtotal, "product_uom_id": [1, "Units"],
                          "display_type": False})
        untaxed = round(untaxed, 2)
        written = ordered + dt.timedelta(seconds=rng.choice((0, 0, 5, 60, 3600)))
        sales.append({
            "id": i, "name": f"S{i:05d}", "partner_id": [partner["id"], partner["name"]],
            "partner_shipping_id": [partner["id"], partner["name"]],
            "client_order_ref": f"PO-{rng.randrange(10**5, 10**6)}" if rng.random() < 0.7 else False,
            "date_order": fmt(ordered), "commitment_date": fmt(ordered + dt.timedelta(days=rng.randint(2, 14))),
            "state": state, "currency_id": CURRENCY, "amount_untaxed": untaxed,
            "amount_tax": round(untaxed * 0.19, 2), "amount_total": round(untaxed * 1.19, 2),
            "order_line": ids, "write_date": fmt(written.replace(second=written.second // 20 * 20)),
        })
    burst = fmt(end + dt.timedelta(hours=1))
    for o in rng.sample(sales, min(shared_burst, n)):
        o["write_date"] = burst
    for o in rng.sample(sales, min(bad_orders, n)):
        o["currency_id"] = [99, "XXX"]  # an unknown currency: the hub must dead-letter this order
    by_id = {ln["id"]: ln for ln in lines}
    for o in sales:
        for lid in o["order_line"]:
            by_id[lid]["write_date"] = o["write_date"]
    return sales, lines


def _invoices(rng: random.Random, partners: list[dict], sales: list[dict],
              lines: list[dict]) -> tuple[list[dict], list[dict]]:
    terms = {p["id"]: p["_term_days"] for p in partners}
    lines_of: dict[int, list[dict]] = {}
    for ln in lines:
        lines_of.setdefault(ln["order_id"][0], []).append(ln)
    today = max(parse(o["date_order"]) for o in sales) + dt.timedelta(days=1)
    moves: list[dict] = []
    payments: list[dict] = []
    for o in sales:
        if o["currency_id"] != CURRENCY:
            continue
        delivered = round(sum(ln["qty_delivered"] * ln["price_unit"] for ln in lines_of[o["id"]]), 2)
        if o["state"] != "sale" or delivered <= 0:
            continue
        day = parse(o["date_order"]) + dt.timedelta(days=rng.randint(1, 5))
        if day >= today:
            continue
        due = day + dt.timedelta(days=terms[o["partner_id"][0]])
        total = round(delivered * 1.19, 2)
        move = _move(len(moves) + 1, "out_invoice", o, day, due, total)
        moves.append(move)
        overdue = due < today
        r = rng.random()
        paid_share = 1.0 if (r < 0.7 and (overdue or r < 0.3)) else 0.4 if r < 0.85 else 0.0
        paid = round(total * paid_share, 2)
        # part payments: a paid invoice is sometimes settled in two instalments
        half = round(paid / 2, 2)
        instalments = [paid] if paid_share < 1 or rng.random() < 0.75 else [half, round(paid - half, 2)]
        for k, amount in enumerate(a for a in instalments if a > 0):
            when = min(today - dt.timedelta(seconds=1), day + dt.timedelta(days=3 + 9 * k + rng.randint(0, 20)))
            payments.append({"id": len(payments) + 1, "name": f"PBNK1/{len(payments) + 1:05d}",
                             "partner_id": o["partner_id"], "amount": amount, "currency_id": CURRENCY,
                             "date": when.date().isoformat(), "payment_type": "inbound", "state": "paid",
                             "reconciled_invoice_ids": [move["id"]], "write_date": fmt(when)})
            move["write_date"] = max(move["write_date"], fmt(when))
        move["amount_residual"] = round(total - paid, 2)
        move["payment_state"] = "paid" if paid >= total else "partial" if paid > 0 else "not_paid"
        if rng.random() < 0.03:  # a return: a credit note for part of the invoice
            refund = _move(len(moves) + 1, "out_refund", o, day + dt.timedelta(days=7), day + dt.timedelta(days=7),
                           round(total * 0.3, 2))
            refund["reversed_entry_id"] = [move["id"], move["name"]]
            refund["payment_state"], refund["amount_residual"] = "paid", 0.0
            moves.append(refund)
    return moves, payments


def _move(mid: int, kind: str, o: dict, day: dt.datetime, due: dt.datetime, total: float) -> dict:
    prefix = "INV" if kind == "out_invoice" else "RINV"
    return {"id": mid, "name": f"{prefix}/{day.year}/{mid:05d}", "move_type": kind, "state": "posted",
            "partner_id": o["partner_id"], "invoice_date": day.date().isoformat(),
            "invoice_date_due": due.date().isoformat(), "currency_id": CURRENCY, "invoice_origin": o["name"],
            "amount_untaxed": round(total / 1.19, 2), "amount_total": total, "amount_residual": total,
            "payment_state": "not_paid", "reversed_entry_id": False, "write_date": fmt(day)}


def _move_lines(erp: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The product lines (account.move.line) of the invoices: what was delivered of each order line;
    a credit note has one line for its untaxed amount."""
    lines_of: dict[str, list[dict[str, Any]]] = {}
    for ln in erp["sale.order.line"]:
        lines_of.setdefault(ln["order_id"][1], []).append(ln)
    out: list[dict[str, Any]] = []
    for move in erp["account.move"]:
        ref = [move["id"], move["name"]]
        base = {"move_id": ref, "display_type": "product", "write_date": move["write_date"]}
        if move["move_type"] == "out_refund":
            amount = move["amount_untaxed"]
            out.append({**base, "id": len(out) + 1, "sequence": 10, "product_id": False, "name": "Return",
                        "quantity": 1.0, "price_unit": amount, "price_subtotal": amount})
            continue
        for ln in lines_of.get(move["invoice_origin"], []):
            if ln["qty_delivered"] > 0:
                out.append({**base, "id": len(out) + 1, "sequence": ln["sequence"], "product_id": ln["product_id"],
                            "name": ln["name"], "quantity": ln["qty_delivered"], "price_unit": ln["price_unit"],
                            "price_subtotal": round(ln["qty_delivered"] * ln["price_unit"], 2)})
    return out


def _odoo_shapes(erp: dict[str, list[dict[str, Any]]]) -> None:
    """Records every real Odoo has and the generator does not make: a contact person (rank 0) of a
    company ordering for it, with a section, a note, a product without internal reference and one
    sold in packs of 6; a draft invoice; a draft and a cancelled payment. No random draws: the rest
    of the dataset stays as it was."""
    company, product = erp["res.partner"][0], erp["product.product"][0]
    contact_id = len(erp["res.partner"]) + 1
    contact = {**company, "id": contact_id, "name": f"{company['name']}, Erika Muster", "is_company": False,
               "customer_rank": 0, "parent_id": [company["id"], company["name"]],
               "commercial_partner_id": [company["id"], company["name"]], "email": "erika@customer.example",
               "barcode": False, "write_date": company["write_date"]}
    erp["res.partner"].append(contact)
    bare_id = len(erp["product.product"]) + 1
    erp["product.product"].append({"id": bare_id, "default_code": False, "name": "Custom crate",
                                   "barcode": False, "list_price": 12.5, "write_date": product["write_date"]})
    last = erp["sale.order"][-1]
    oid, name, when = len(erp["sale.order"]) + 1, f"S{len(erp['sale.order']) + 1:05d}", last["write_date"]
    first_line = max(ln["id"] for ln in erp["sale.order.line"]) + 1
    base = {"order_id": [oid, name], "qty_delivered": 0.0, "write_date": when, "display_type": False,
            "product_uom_id": [1, "Units"]}
    lines = [
        {**base, "sequence": 1, "display_type": "line_section", "product_id": False, "name": "Crates",
         "product_uom_qty": 0.0, "price_unit": 0.0, "price_subtotal": 0.0, "product_uom_id": False},
        {**base, "sequence": 2, "product_id": [bare_id, "Custom crate"], "name": "Custom crate",
         "product_uom_qty": 4.0, "price_unit": 12.5, "price_subtotal": 50.0},
        {**base, "sequence": 3, "product_id": [product["id"], f"[{product['default_code']}] {product['name']}"],
         "name": product["name"], "product_uom_qty": 2.0, "price_unit": 60.0, "price_subtotal": 120.0,
         "product_uom_id": [UOM_PACK6, "Pack of 6"]},
        {**base, "sequence": 4, "display_type": "line_note", "product_id": False, "name": "Stack two high",
         "product_uom_qty": 0.0, "price_unit": 0.0, "price_subtotal": 0.0, "product_uom_id": False},
    ]
    for k, ln in enumerate(lines):
        ln["id"] = first_line + k
    erp["sale.order.line"].extend(lines)
    erp["sale.order"].append({
        "id": oid, "name": name, "partner_id": [contact_id, contact["name"]],
        "partner_shipping_id": [contact_id, contact["name"]], "client_order_ref": "PO-CONTACT-1",
        "date_order": last["date_order"], "commitment_date": False, "state": "sale", "currency_id": CURRENCY,
        "amount_untaxed": 170.0, "amount_tax": 32.3, "amount_total": 202.3, "order_line": [ln["id"] for ln in lines],
        "write_date": when})
    moves = erp["account.move"]
    draft = {**moves[-1], "id": len(moves) + 1, "name": False, "state": "draft", "invoice_date": False,
             "invoice_date_due": False, "invoice_origin": name, "partner_id": [contact_id, contact["name"]],
             "payment_state": "not_paid", "reversed_entry_id": False}
    moves.append(draft)
    payments = erp["account.payment"]
    for state in ("draft", "canceled"):
        payments.append({**payments[-1], "id": len(payments) + 1, "name": f"PBNK1/{len(payments) + 1:05d}",
                         "state": state, "reconciled_invoice_ids": []})


#: Odoo 19's units of measure (uom.uom, demo data): name, the unit it is defined from, its factor
UOMS = [(1, "Units", None, 1.0), (2, "Pack of 6", 1, 6.0), (3, "Dozens", 1, 12.0), (4, "Hours", None, 1.0),
        (5, "Days", 4, 8.0), (15, "g", None, 1.0), (16, "kg", 15, 1000.0), (17, "oz", 15, 28.3495),
        (18, "lb", 17, 16.0), (12, "ml", None, 1.0), (13, "L", 12, 1000.0), (30, "Bale", None, 1.0)]
UOM_PACK6 = 2


def _stock(rng: random.Random, catalogue: list[dict]) -> list[dict]:
    out = []
    seq = 0
    for p in catalogue:
        for wh in rng.sample(WAREHOUSES, rng.randint(1, 3)):
            seq += 1
            on_hand = rng.randint(0, 800)
            out.append({"sku": p["default_code"], "gtin": p["barcode"], "warehouse": wh,
                        "location": f"{wh}/{rng.choice('ABCD')}-{rng.randint(1, 30):02d}-{rng.randint(1, 5)}",
                        "on_hand": on_hand, "allocated": rng.randint(0, on_hand), "seq": seq,
                        "updated_at": fmt(EPOCH + dt.timedelta(minutes=seq))})
    return out


def _shipments(rng: random.Random, sales: list[dict], lines: list[dict]) -> list[dict]:
    shipped: dict[int, float] = {}
    for ln in lines:
        shipped[ln["order_id"][0]] = shipped.get(ln["order_id"][0], 0) + ln["qty_delivered"]
    out = []
    for o in sales:
        if shipped.get(o["id"], 0) <= 0:
            continue
        parts = 2 if rng.random() < 0.15 else 1
        for _ in range(parts):
            n = len(out) + 1
            carrier = rng.choice(CARRIERS)
            when = parse(o["date_order"]) + dt.timedelta(days=rng.randint(1, 3), hours=2)
            packages = []
            for _ in range(rng.randint(1, 3)):
                body = f"34006380{rng.randrange(10**9):09d}"
                packages.append({"sscc": body + check_digit(body), "weight_kg": round(rng.uniform(0.5, 30), 1)})
            out.append({"id": f"SHP{n:06d}", "order_refs": [o["name"]], "customer_ref": o["partner_id"][0],
                        "carrier": carrier, "service": "standard", "tracking_number": _tracking(rng, carrier),
                        "packages": packages, "ship_date": when.date().isoformat(), "seq": n,
                        "eta": fmt(when + dt.timedelta(days=rng.randint(1, 4))), "updated_at": fmt(when)})
    return out


def _tracking(rng: random.Random, carrier: str) -> str:
    if carrier == "UPS":
        return f"1Z{rng.randrange(16**16):016X}"
    if carrier == "DHL":
        return f"{rng.randrange(10**10):010d}"
    return f"{rng.randrange(10**11, 10**12)}" if carrier == "FEDEX" else f"0{rng.randrange(10**13):013d}"


def _events(rng: random.Random, shipments: list[dict], bad_events: int) -> list[dict]:
    pending = []
    for s in shipments:
        story = rng.choice(STORIES)
        when = parse(s["ship_date"]) + dt.timedelta(hours=7)
        route = rng.sample(HUBS, 3)
        # a fifth of the parcels are scanned by the carrier, whose feed knows only the tracking number
        sid = s["id"] if rng.random() >= 0.2 else None
        for i, code in enumerate(story):
            when += dt.timedelta(hours=rng.randint(1, 14), minutes=rng.randint(0, 59))
            pending.append((when, sid or "", i, code, route[min(i // 2, 2)], s["tracking_number"]))
    pending.sort()
    events = [{"id": n, "shipment_ref": sid or None, "tracking_number": number, "code": code,
               "occurred_at": fmt(when), "location": place, "recorded_at": fmt(when)}
              for n, (when, sid, _, code, place, number) in enumerate(pending, start=1)]
    for e in rng.sample(events, min(bad_events, len(events))):
        e["code"] = "X9"  # a code the TMS vendor added without telling anyone: dead-lettered, not guessed
    return events


class Journal:
    """Changes made to a simulator after generation, persisted to `<folder>/<name>.json`.

    Each entry is a JSON object the simulator knows how to apply; on start the simulator
    regenerates its dataset from the seed and applies the journal in order, so its state survives
    a restart without writing the whole dataset to disk.
    """

    def __init__(self, folder: Path, name: str, seed: int) -> None:
        self.path = Path(folder) / f"{name}.json"
        self.seed = seed
        self._lock = threading.Lock()
        self.entries: list[dict[str, Any]] = []
        if self.path.exists():
            data = json.loads(self.path.read_text())
            if data.get("seed") == seed:
                self.entries = data["entries"]

    def append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.entries.append(entry)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"seed": self.seed, "entries": self.entries}))
            tmp.replace(self.path)
