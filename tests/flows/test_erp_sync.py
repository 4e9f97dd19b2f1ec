"""ERP -> hub end to end: the Odoo simulator over sockets, the connector, the mappings, the store."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from sim import erp as erp_sim
from sim.faults import FaultRates, Faults
from tests.fixtures.sources import connect
from waybill.canonical.model import Batch, InboundMessage, Order, OrderLine, Ref
from waybill.flows import erp_sync
from waybill.flows.counts import FlowCounts
from waybill.store import identity, message_log, outbox
from waybill.store.reads import crm as crm_reads
from waybill.store.reads import erp as erp_reads
from waybill.store.store import Store

pytestmark = pytest.mark.e2e


#: units the simulator's lines use beside Units: how many units one of them is
PACKS = {"Pack of 6": 6}


def erp_truth(sim: erp_sim.ErpSim) -> dict[str, dict]:
    """What the hub must hold, read from the simulator's current state: customers are the commercial
    partners, orders leave out section and note lines and count packs in units, draft invoices and
    payments are not there yet, a cancelled payment pays nothing."""
    m = sim.models
    lines_of: dict[int, list[dict]] = {}
    for ln in m["sale.order.line"].rows.values():
        if not ln.get("display_type"):
            factor = PACKS.get(ln["product_uom_id"][1], 1) if ln.get("product_uom_id") else 1
            lines_of.setdefault(ln["order_id"][0], []).append({**ln, "qty_delivered": ln["qty_delivered"] * factor})
    return {
        "customers": {f"res.partner/{p['id']}": p["name"] for p in m["res.partner"].rows.values()
                      if p["commercial_partner_id"][0] == p["id"]},
        "orders": {f"sale.order/{o['name']}": (round(o["amount_total"], 2), len(lines_of.get(o["id"], [])),
                                               round(sum(ln["qty_delivered"] for ln in lines_of.get(o["id"], [])), 3))
                   for o in m["sale.order"].rows.values() if o["currency_id"][1] == "EUR"},
        "invoices": {f"account.move/{i['id']}": (round(i["amount_total"], 2), round(i["amount_residual"], 2))
                     for i in m["account.move"].rows.values() if i["state"] != "draft"},
        "payments": {f"account.payment/{p['id']}": 0.0 if p["state"] == "canceled" else round(p["amount"], 2)
                     for p in m["account.payment"].rows.values() if p["state"] != "draft"},
    }


def hub_state(store: Store) -> dict[str, dict]:
    with store.engine.connect() as c:
        partners = identity.customers_of(c, "erp")
        accounts = crm_reads.accounts(c, sorted(set(partners.values())))
        orders = [erp_reads.order(c, o.id) for o in crm_reads.orders(c).values() if o.ref.system == "erp"]
        return {
            "customers": {ext: accounts[cid].name for ext, cid in partners.items()},
            "orders": {o.order.ref.external_id: (round(float(o.order.amount_total), 2), len(o.lines),
                                                 round(float(sum(ln.quantity_shipped for ln in o.lines)), 3))
                       for o in orders},
            "invoices": {i.ref.external_id: (round(float(i.amount_total), 2), round(float(i.amount_open), 2))
                         for i in erp_reads.invoices(c)},
            "payments": {p.ref.external_id: round(float(p.amount), 2) for p in erp_reads.payments(c)},
        }


def message_count(store: Store) -> int:
    return sum(store.status()["messages"].values())


def test_full_then_incremental_sync_lands_exactly_the_erp(store: Store, data, serve, sim_folder: Path,
                                                          monkeypatch: pytest.MonkeyPatch, pages) -> None:
    server = serve(erp_sim, sim_folder, data)
    connect(monkeypatch, "waybill_erp", server, page_size=50)
    sim: erp_sim.ErpSim = server.handler

    first = erp_sync.run(store, push=False)
    assert hub_state(store) == erp_truth(sim)
    # every record read once; the contact person (rank 0) comes with its order, as its company
    assert first.received == sum(len(sim.models[m].rows) for m in
                                 ("res.partner", "sale.order", "account.move", "account.payment")) - 1
    # the one order in an unknown currency is dead-lettered with its reason; everything else landed
    assert first.dead == 1
    with store.engine.connect() as c:
        [dead] = message_log.find(c, state="dead", system="erp")
    assert dead.stream == "orders" and "unknown currency 'XXX'" in dead.reason and dead.field_path == "order.currency"

    # the ERP moves on: a renamed customer, a delivery, a part payment, a new order by the API
    sim.write("res.partner", 3, {"name": "Renamed Customer AG"})
    line = next(iter(sim.models["sale.order.line"].rows.values()))
    sim.write("sale.order.line", line["id"], {"qty_delivered": line["product_uom_qty"]})  # the order is not touched
    inv = next(i for i in sim.models["account.move"].rows.values() if i["payment_state"] == "not_paid")
    sim.write("account.move", inv["id"],
              {"amount_residual": round(inv["amount_total"] / 2, 2), "payment_state": "partial"})
    sim.execute("sale.order", "create", [{"partner_id": 5, "client_order_ref": "API-1",
                                          "order_line": [[0, 0, {"product_id": 4, "product_uom_qty": 3}]]}], {})
    second = erp_sync.run(store, push=False)
    assert hub_state(store) == erp_truth(sim)
    assert second.received == 4 and second.stored == 4 and second.dead == 0

    # nothing changed: every stream answers one empty page (orders two: orders, then lines), nothing is written
    before = message_count(store)
    pages()
    third = erp_sync.run(store, push=False)
    assert pages() == len(erp_sync.STREAMS) + 1 and third.received == 0 and third.queued == 0
    assert message_count(store) == before


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # many small pages: the database is not the point
def test_rows_sharing_a_write_date_across_pages_and_late_commits(store: Store, data, serve, sim_folder: Path,
                                                                  monkeypatch: pytest.MonkeyPatch, pages) -> None:
    server = serve(erp_sim, sim_folder, data)
    connect(monkeypatch, "waybill_erp", server, page_size=7)  # the 25-order burst spans four pages
    sim: erp_sim.ErpSim = server.handler
    stamps = [o["write_date"] for o in sim.models["sale.order"].rows.values()]
    assert max(stamps.count(s) for s in stamps) >= 25

    erp_sync.run(store, streams=("customers", "orders"), push=False)
    assert pages() > 60
    assert hub_state(store)["orders"] == erp_truth(sim)["orders"]

    # a transaction that started earlier commits now: its write_date is behind the cursor
    cursor = store.get_cursor("erp", "orders")
    assert cursor is not None
    late = sim.models["sale.order"].rows[11]
    sim.write("sale.order", 11, {"amount_total": late["amount_total"] + 1}, write_date=sim.clock[:-2] + "00")
    again = erp_sync.run(store, streams=("orders",), push=False)
    assert again.received == 1 and again.stored == 1
    assert hub_state(store)["orders"] == erp_truth(sim)["orders"]
    assert erp_sync.run(store, streams=("orders",), push=False).received == 0


@pytest.mark.reliability
@pytest.mark.slow
def test_thirty_percent_transient_faults_give_the_same_hub(store: Store, data, serve, sim_folder: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    faults = Faults({"*": FaultRates.transient(0.3, retry_after=0, slow_seconds=0.8)}, seed=5)
    server = serve(erp_sim, sim_folder, data, faults)
    connect(monkeypatch, "waybill_erp", server, page_size=100)
    erp_sync.run(store, push=False)
    assert hub_state(store) == erp_truth(server.handler)
    assert faults.total() >= 5 and {k for _, k in faults.injected} == {"throttle", "error", "slow", "drop"}


def test_json2_protocol(store: Store, data, serve, sim_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = serve(erp_sim, sim_folder, data)
    connect(monkeypatch, "waybill_erp", server, protocol="json2", page_size=200)
    erp_sync.run(store, streams=("customers", "orders"), push=False)
    state, truth = hub_state(store), erp_truth(server.handler)
    assert state["customers"] == truth["customers"] and state["orders"] == truth["orders"]


def test_wrong_credentials_fail_the_run_with_context(store: Store, data, serve, sim_folder: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    server = serve(erp_sim, sim_folder, data)
    server.handler.password = server.handler.api_key = "rotated"
    connect(monkeypatch, "waybill_erp", server)
    with pytest.raises(erp_sync.connector.ErpError, match="login 'admin' on database 'waybill' was refused"):
        erp_sync.run(store, push=False)
    connect(monkeypatch, "waybill_erp", server, protocol="json2")
    with pytest.raises(erp_sync.connector.ErpError, match="Unauthorized: Invalid apikey"):
        erp_sync.run(store, push=False)


def test_write_back_of_edi_orders_is_idempotent_and_unknown_items_wait(
        store: Store, data, serve, sim_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = serve(erp_sim, sim_folder, data)
    connect(monkeypatch, "waybill_erp", server)
    sim: erp_sim.ErpSim = server.handler
    erp_sync.run(store, streams=("customers",), push=False)

    def edi_order(po: str, sku: str) -> Order:
        return Order(ref=Ref("edi:ACME", po), customer=Ref("erp", "res.partner/4"), version="1",
                     order_date=dt.date(2026, 3, 1), currency="EUR", po_number=po,
                     lines=(OrderLine(1, Decimal(5), sku=sku, unit_price=Decimal("9.50")),))

    store.apply(Batch("edi:ACME", "orders", [InboundMessage(b"850 #1", "ic-1", [edi_order("PO-OK", "SKU-00003"),
                                                                                 edi_order("PO-BAD", "NOPE-1")])]))
    orders_before = len(sim.models["sale.order"].rows)
    pushed = erp_sync.push_orders(store, erp_sync.connector.ErpConnector.from_connection())
    assert pushed == FlowCounts(published=1, retry=1)
    created = [o for o in sim.models["sale.order"].rows.values() if o["client_order_ref"] == "PO-OK"]
    assert len(created) == 1 and len(sim.models["sale.order"].rows) == orders_before + 1
    # an order whose item the ERP does not have waits, with its reason visible
    with store.engine.connect() as c:
        rows = {r.state: r.reason for r in outbox.rows(c, "erp")}
    assert rows["pending"] == ("erp order PO-BAD waits: item 'NOPE-1' is not a product in the ERP (by barcode, the "
                               "partner's item crosswalk or internal reference) at order.lines[0].sku")

    # a redelivery (e.g. the task ran twice) finds the order by its client_order_ref and partner
    with store.begin() as c:
        for r in outbox.rows(c, "erp"):
            if r.state == "delivered":
                outbox.mark_failed(c, r.item.id, "delivered again", dead=False)  # back to pending
    again = erp_sync.push_orders(store, erp_sync.connector.ErpConnector.from_connection())
    assert again == FlowCounts(unchanged=1, retry=1)
    assert len(sim.models["sale.order"].rows) == orders_before + 1

    # the product appears in the ERP: the waiting order goes out
    sim.create("product.product", {"default_code": "NOPE-1", "name": "Late product", "barcode": False,
                                    "list_price": 3.0})
    assert erp_sync.push_orders(store, erp_sync.connector.ErpConnector.from_connection()) == FlowCounts(published=1)
    assert len(sim.models["sale.order"].rows) == orders_before + 2


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_an_invoice_for_several_orders_links_to_every_one(store: Store, data, serve, sim_folder: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    server = serve(erp_sim, sim_folder, data)
    connect(monkeypatch, "waybill_erp", server)
    sim: erp_sim.ErpSim = server.handler
    first, second = [o for o in sim.models["sale.order"].rows.values()
                     if o["state"] == "sale" and o["currency_id"][1] == "EUR"][:2]
    move_id = sim.create("account.move", {
        "name": "INV/2026/09998", "move_type": "out_invoice", "state": "posted", "partner_id": first["partner_id"],
        "invoice_date": "2026-03-05", "invoice_date_due": "2026-04-04", "currency_id": [1, "EUR"],
        "invoice_origin": f"{second['name']}, {first['name']}", "amount_untaxed": 10.0, "amount_total": 11.9,
        "amount_residual": 11.9, "payment_state": "not_paid", "reversed_entry_id": False})
    erp_sync.run(store, push=False)
    with store.engine.connect() as c:
        links = erp_reads.invoice_orders(c)
    assert links[Ref("erp", f"account.move/{move_id}")] == [Ref("erp", f"sale.order/{second['name']}"),
                                                            Ref("erp", f"sale.order/{first['name']}")]
    one = next(i for i in sim.models["account.move"].rows.values() if i["invoice_origin"] == first["name"])
    assert links[Ref("erp", f"account.move/{one['id']}")] == [Ref("erp", f"sale.order/{first['name']}")]


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_orders_of_a_contact_person_belong_to_its_company_on_every_page(
        store: Store, data, serve, sim_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = serve(erp_sim, sim_folder, data)
    connect(monkeypatch, "waybill_erp", server, page_size=50)
    sim: erp_sim.ErpSim = server.handler
    erp_sync.run(store, push=False)
    contact = next(p for p in sim.models["res.partner"].rows.values() if p["parent_id"])
    company = contact["parent_id"][0]
    for po in ("C-1", "C-2"):
        sim.execute("sale.order", "create", [{"partner_id": contact["id"], "client_order_ref": po,
                                              "order_line": [[0, 0, {"product_id": 4, "product_uom_qty": 1}]]}], {})
    connect(monkeypatch, "waybill_erp", server, page_size=1)  # one order a page: the partners come with the first
    erp_sync.run(store, streams=("orders",), push=False)
    with store.engine.connect() as c:
        partners = identity.customers_of(c, "erp")
        customers = {o.po_number: o.customer_id for o in crm_reads.orders(c).values() if o.po_number in ("C-1", "C-2")}
    assert customers == {"C-1": partners[f"res.partner/{company}"], "C-2": partners[f"res.partner/{company}"]}
    assert f"res.partner/{contact['id']}" not in partners


def test_two_overlapping_write_backs_create_each_order_once(
        store: Store, data, serve, sim_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A retry of the task starts while the first try still runs: each EDI order is created once
    (without claims: 11 and 10 sale orders for 8)."""
    import threading

    server = serve(erp_sim, sim_folder, data)
    connect(monkeypatch, "waybill_erp", server)
    sim: erp_sim.ErpSim = server.handler
    erp_sync.run(store, streams=("customers",), push=False)
    pos = [f"PO-RACE-{i}" for i in range(8)]
    orders = [Order(ref=Ref("edi:ACME", po), customer=Ref("erp", "res.partner/4"), version="1",
                    order_date=dt.date(2026, 3, 1), currency="EUR", po_number=po,
                    lines=(OrderLine(1, Decimal(5), sku="SKU-00003", unit_price=Decimal("9.50")),)) for po in pos]
    store.apply(Batch("edi:ACME", "orders", [InboundMessage(b"850 race", "ic-9", orders)]))
    results: list[FlowCounts] = []

    def push() -> None:
        results.append(erp_sync.push_orders(store, erp_sync.connector.ErpConnector.from_connection()))

    workers = [threading.Thread(target=push) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    created = [o for o in sim.models["sale.order"].rows.values() if o["client_order_ref"] in pos]
    assert len(created) == 8 and sorted(o["client_order_ref"] for o in created) == pos
    assert sum(r.published for r in results) == 8 and sum(r.dead for r in results) == 0
