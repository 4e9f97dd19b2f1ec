"""End to end against a real Odoo 19: a full sync, changes made in Odoo through its API, an
incremental sync after which the hub equals Odoo; then a partner's 850 written back, confirmed,
delivered and invoiced in Odoo, and the partner gets one 856 and one 810 for it."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.odoo import OdooServer
from waybill.canonical.model import Ref
from waybill.connectors.connection import parse
from waybill.connectors.erp import ErpConnector
from waybill.flows import edi_inbound, edi_outbound, erp_sync, wms_stock
from waybill.flows.partners import partners_dir
from waybill.store import identity
from waybill.store.reads import crm as crm_reads
from waybill.store.reads import erp as erp_reads
from waybill.store.reads import logistics
from waybill.store.store import Store

pytestmark = [pytest.mark.odoo, pytest.mark.e2e, pytest.mark.sftp, pytest.mark.slow]

DATA = Path(__file__).resolve().parents[1] / "data" / "partners"
X12_850 = "bots_x12_850_fixed_x12_850tofixed_850_850-004010-01.x12"
AZURE = 15  # Azure Interior in Odoo's demo data: the partner's account in the ERP
#: the 850's buyer catalog numbers -> Odoo internal references (products in stock)
ITEMS = {"17920108": "E-COM07", "17920207": "E-COM07", "17930107": "FURN_7800", "17930206": "FURN_7800",
         "17940106": "DESK0005", "17940205": "DESK0005", "17950105": "DESK0006", "17950204": "DESK0006"}
NO_SMS = {"context": {"skip_sms": True, "skip_backorder": True, "picking_ids_not_to_backorder": []}}


class Odoo:
    """Odoo through its API (JSON-2, as admin): what a user does in its screens."""

    def __init__(self, erp: ErpConnector) -> None:
        self.erp = erp

    def __call__(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.erp.call(model, method, list(args), kwargs)[0]

    def order(self, partner: int, ref: str, lines: list[tuple[str, float]]) -> int:
        products = {p["default_code"]: p["id"] for p in self("product.product", "search_read",
                                                              [("default_code", "in", [c for c, _ in lines])],
                                                              ["default_code"])}
        order_id, _ = self.erp.new_order({"partner_id": partner, "client_order_ref": ref, "order_line": [
            [0, 0, {"product_id": products[code], "product_uom_qty": qty}] for code, qty in lines]}, confirm=True)
        return order_id

    def deliver(self, order_id: int, share: float = 1.0) -> None:
        """Validate the order's open delivery with `share` of each move (a backorder for the rest)."""
        [picking] = self("stock.picking", "search", [("sale_id", "=", order_id),
                                                     ("state", "not in", ["done", "cancel"])])
        for move in self("stock.move", "search_read", [("picking_id", "=", picking)], ["product_uom_qty"]):
            self("stock.move", "write", [move["id"]], {"quantity": move["product_uom_qty"] * share, "picked": True})
        self.erp.call("stock.picking", "button_validate", [[picking]], NO_SMS)

    def invoice(self, *order_ids: int) -> int:
        """One posted invoice for what was delivered of `order_ids`."""
        context = {"context": {"active_model": "sale.order", "active_ids": list(order_ids)}}
        wizard = self.erp.call("sale.advance.payment.inv", "create", [[{"advance_payment_method": "delivered"}]],
                               context)[0]
        self.erp.call("sale.advance.payment.inv", "create_invoices", [wizard], context)
        [move] = self("account.move", "search", [("line_ids.sale_line_ids.order_id", "in", list(order_ids)),
                                                 ("state", "=", "draft")])
        self("account.move", "action_post", [move])
        return int(move)

    def pay(self, move: int) -> int:
        context = {"context": {"active_model": "account.move", "active_ids": [move]}}
        wizard = self.erp.call("account.payment.register", "create", [[{}]], context)[0]
        self.erp.call("account.payment.register", "action_create_payments", [wizard], context)
        [payment] = self("account.payment", "search", [("reconciled_invoice_ids", "in", [move])])
        return int(payment)


def odoo_state(odoo: Odoo) -> dict[str, Any]:
    """What the hub must hold, read from Odoo now."""
    orders = odoo("sale.order", "search_read", [], ["name", "amount_total", "state"])
    lines = odoo("sale.order.line", "search_read", [("display_type", "=", False)], ["order_id", "qty_delivered"])
    moves = odoo("account.move", "search_read", [("move_type", "in", ["out_invoice", "out_refund"]),
                                                 ("state", "!=", "draft")], ["amount_total", "amount_residual"])
    invoice_lines = odoo("account.move.line", "search_read", [("move_id", "in", [m["id"] for m in moves]),
                                                              ("display_type", "=", "product")], ["move_id"])
    payments = odoo("account.payment", "search_read", [("payment_type", "=", "inbound"), ("state", "!=", "draft")],
                    ["amount", "state"])
    quants = odoo("stock.quant", "search_read", [("location_id.usage", "=", "internal")],
                  ["product_id", "location_id", "quantity"])
    stock: dict[tuple[int, int], Decimal] = {}
    for q in quants:
        key = (q["product_id"][0], q["location_id"][0])
        stock[key] = stock.get(key, Decimal(0)) + Decimal(str(q["quantity"]))
    per_order: dict[int, list[float]] = {}
    for ln in lines:
        per_order.setdefault(ln["order_id"][0], []).append(ln["qty_delivered"])
    lines_of: dict[int, int] = {}
    for ln in invoice_lines:
        lines_of[ln["move_id"][0]] = lines_of.get(ln["move_id"][0], 0) + 1
    return {
        "orders": {f"sale.order/{o['name']}": (round(o["amount_total"], 2), len(per_order.get(o["id"], [])),
                                               round(sum(per_order.get(o["id"], [])), 2)) for o in orders},
        "invoices": {f"account.move/{m['id']}": (round(m["amount_total"], 2), round(m["amount_residual"], 2),
                                                 lines_of.get(m["id"], 0)) for m in moves},
        "payments": {f"account.payment/{p['id']}": 0.0 if p["state"] == "canceled" else round(p["amount"], 2)
                     for p in payments},
        "stock": sorted(stock.values()),
    }


def hub_state(store: Store) -> dict[str, Any]:
    with store.engine.connect() as c:
        orders = [erp_reads.order(c, o.id) for o in crm_reads.orders(c).values() if o.ref.system == "erp"]
        invoices = {i.ref.external_id: i for i in erp_reads.invoices(c)}
        lines = {ref: len(erp_reads.invoice_lines(c, i.id)) for ref, i in invoices.items()}
        return {
            "orders": {o.order.ref.external_id: (round(float(o.order.amount_total or 0), 2), len(o.lines),
                                                 round(float(sum(ln.quantity_shipped for ln in o.lines)), 2))
                       for o in orders},
            "invoices": {ref: (round(float(i.amount_total), 2), round(float(i.amount_open), 2), lines[ref])
                         for ref, i in invoices.items()},
            "payments": {p.ref.external_id: round(float(p.amount), 2) for p in erp_reads.payments(c)},
            "stock": sorted(lv.on_hand for lv in logistics.stock_levels(c, "wms")),
        }


def hub_customer_names(store: Store) -> dict[str, str]:
    with store.engine.connect() as c:
        partners = identity.customers_of(c, "erp")
        accounts = crm_reads.accounts(c, sorted(set(partners.values())))
    return {ext: accounts[cid].name for ext, cid in partners.items()}


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_odoo_to_hub_and_back_to_the_partner(store: Store, odoo: OdooServer, sshd, partner_root: Path,
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    erp_conn = odoo.connection("json2", read_timeout=120, timezone="America/Los_Angeles")
    monkeypatch.setenv("AIRFLOW_CONN_WAYBILL_ERP", json.dumps(erp_conn))
    monkeypatch.setenv("AIRFLOW_CONN_WAYBILL_WMS", json.dumps({**erp_conn, "extra": {**erp_conn["extra"],
                                                                                     "profile": "odoo"}}))
    monkeypatch.setenv("AIRFLOW_CONN_WAYBILL_PARTNER_ACME", sshd.connection())
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    profile = (partners_dir() / "acme.toml").read_text().replace("erp:res.partner/1", f"erp:res.partner/{AZURE}")
    crosswalk = "\n".join(f'"{theirs}" = "{ours}"' for theirs, ours in ITEMS.items())
    (profiles / "acme.toml").write_text(f"{profile}\n[hub.erp]\nconfirm = true\n[hub.erp.items]\n{crosswalk}\n")
    monkeypatch.setenv("WAYBILL_PARTNERS", str(profiles))
    erp = ErpConnector(parse("waybill_erp", json.dumps(erp_conn)))
    odoo_api = Odoo(erp)

    # a full sync
    assert erp_sync.run(store, push=False).dead == 0
    assert wms_stock.run(store).dead == 0

    # Odoo moves on: a renamed partner, a quotation confirmed, a partial delivery, two orders invoiced
    # at once, a payment registered and cancelled
    odoo_api("res.partner", "write", [AZURE], {"name": "Azure Interior Renamed"})
    [quotation] = odoo_api("sale.order", "search", [("state", "=", "draft")], limit=1)
    odoo_api("sale.order", "action_confirm", [quotation])
    first = odoo_api.order(AZURE, "E2E-1", [("E-COM07", 4.0)])
    second = odoo_api.order(AZURE, "E2E-2", [("FURN_7800", 3.0)])
    odoo_api.deliver(first, 0.5)
    odoo_api.deliver(second)
    both = odoo_api.invoice(first, second)
    payment = odoo_api.pay(both)
    odoo_api("account.payment", "action_draft", [payment])
    odoo_api("account.payment", "action_cancel", [payment])

    # an incremental sync: the hub equals Odoo
    assert erp_sync.run(store, push=False).dead == 0
    assert wms_stock.run(store).dead == 0
    assert hub_state(store) == odoo_state(odoo_api)
    names = hub_customer_names(store)
    assert names[f"res.partner/{AZURE}"] == "Azure Interior Renamed"
    for ref, name in names.items():
        [partner] = odoo_api("res.partner", "read", [int(ref.split("/")[1])], ["name"])
        assert partner["name"] == name
    with store.engine.connect() as c:
        billed = erp_reads.invoice_orders(c)[Ref("erp", f"account.move/{both}")]
    assert len(billed) == 2

    # a partner's 850: in, written back (confirmed, as its profile says), delivered and invoiced in Odoo
    (partner_root / "inbox" / "po.x12").write_bytes((DATA / X12_850).read_bytes())
    assert edi_inbound.run(store, partner="acme").dead == 0
    assert erp_sync.push_orders(store, erp).published == 1
    [edi_order] = odoo_api("sale.order", "search_read", [("client_order_ref", "=", "91393058")], ["state"])
    assert edi_order["state"] == "sale"
    odoo_api.deliver(edi_order["id"])
    odoo_api.invoice(edi_order["id"])
    erp_sync.run(store)
    wms_stock.run(store)
    edi_outbound.run(store)
    sent = sorted(p.name.split("_")[0] for p in (partner_root / "outbox").iterdir())
    # the 997 of its 850, the 855 answering it, then one 856 (Odoo's delivery) and one 810 (Odoo's invoice)
    assert sent == ["810", "855", "856", "ack"]
    with store.engine.connect() as c:
        orders = [o for o in crm_reads.orders(c).values() if o.po_number == "91393058"]
    assert len(orders) == 1  # one order across the partner, the hub and the ERP
