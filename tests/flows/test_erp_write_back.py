"""EDI orders written back to the ERP (the Odoo simulator): items by GTIN, the partner's item
crosswalk or internal reference; confirmation per partner profile; an amended order changes the
ERP's order while its state allows it and is a dead letter with Odoo's reason when it does not."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from sim import erp as erp_sim
from sim.faults import FaultRates, Faults
from tests.fixtures.sources import connect
from waybill.canonical.model import Batch, InboundMessage, Order, OrderLine, Ref
from waybill.flows import erp_sync
from waybill.flows.counts import FlowCounts
from waybill.store import outbox, tables
from waybill.store.reads import edi as edi_reads
from waybill.store.store import Store

pytestmark = pytest.mark.e2e

PROFILE_ERP = """
[hub.erp]
confirm = true
[hub.erp.items]
"ACME-CRATE" = "SKU-00002"
"""


@pytest.fixture
def sim(erp_for_partners: Callable[[str], erp_sim.ErpSim]) -> erp_sim.ErpSim:
    return erp_for_partners(PROFILE_ERP)


def send(store: Store, po: str, version: str, *lines: OrderLine) -> None:
    order = Order(ref=Ref("edi:acme", po), customer=Ref("erp", "res.partner/4"), version=version,
                  order_date=dt.date(2026, 3, 1), currency="EUR", po_number=po, lines=lines)
    store.apply(Batch("edi:acme", "orders", [InboundMessage(f"850 {po} {version}".encode(), f"ic-{po}-{version}",
                                                             [order])]))


def push(store: Store) -> FlowCounts:
    return erp_sync.push_orders(store, erp_sync.connector.ErpConnector.from_connection())


def erp_order(sim: erp_sim.ErpSim, po: str) -> tuple[str, list[tuple[int, float, float]]]:
    [order] = [o for o in sim.models["sale.order"].rows.values() if o["client_order_ref"] == po]
    lines = sorted((ln["sequence"], ln["id"], ln["product_id"][0], ln["product_uom_qty"], ln["price_unit"])
                   for ln in sim.models["sale.order.line"].rows.values() if ln["order_id"][0] == order["id"])
    return order["state"], [ln[2:] for ln in lines]


def test_items_resolve_by_gtin_then_crosswalk_then_reference_and_the_profile_confirms(store: Store, sim) -> None:
    gtin = sim.models["product.product"].rows[3]["barcode"]
    send(store, "PO-ITEMS", "1", OrderLine(1, Decimal(1), sku="THEIRS-1", gtin=gtin, unit_price=Decimal(5)),
         OrderLine(2, Decimal(2), sku="ACME-CRATE", unit_price=Decimal(6)),
         OrderLine(3, Decimal(3), sku="SKU-00004", unit_price=Decimal(7)))
    assert push(store) == FlowCounts(published=1)
    assert erp_order(sim, "PO-ITEMS") == ("sale", [(3, 1.0, 5.0), (2, 2.0, 6.0), (4, 3.0, 7.0)])


def test_an_amended_order_changes_the_erps_order_while_odoo_allows_it(store: Store, sim) -> None:
    send(store, "PO-AMEND", "1", OrderLine(1, Decimal(2), sku="SKU-00004", unit_price=Decimal("9.50")),
         OrderLine(2, Decimal(1), sku="SKU-00005", unit_price=Decimal(3)))
    assert push(store) == FlowCounts(published=1)
    # a new price and a new line (the 850 sent again, changed): a confirmed order takes them
    send(store, "PO-AMEND", "2", OrderLine(1, Decimal(2), sku="SKU-00004", unit_price=Decimal("8.75")),
         OrderLine(2, Decimal(1), sku="SKU-00005", unit_price=Decimal(3)),
         OrderLine(3, Decimal(4), sku="SKU-00006", unit_price=Decimal(1)))
    assert push(store) == FlowCounts(published=1)
    assert erp_order(sim, "PO-AMEND") == ("sale", [(4, 2.0, 8.75), (5, 1.0, 3.0), (6, 4.0, 1.0)])
    # a line removed: Odoo keeps the lines of a confirmed order, so the change is a dead letter with its reason
    send(store, "PO-AMEND", "3", OrderLine(1, Decimal(2), sku="SKU-00004", unit_price=Decimal("8.75")))
    assert push(store) == FlowCounts(dead=1)
    with store.engine.connect() as c:
        [dead] = [r for r in outbox.rows(c, "erp") if r.state == "dead"]
    assert dead.reason is not None and dead.reason.startswith("erp refused order PO-AMEND: Once a sales order is "
                                                              "confirmed, you can't remove one of its lines")
    assert len(erp_order(sim, "PO-AMEND")[1]) == 3


def test_the_erps_order_of_a_written_back_order_is_the_same_hub_order(store: Store, sim) -> None:
    send(store, "PO-ONE", "1", OrderLine(1, Decimal(2), sku="SKU-00004", unit_price=Decimal("9.50")))
    assert push(store) == FlowCounts(published=1)
    [order] = [o for o in sim.models["sale.order"].rows.values() if o["client_order_ref"] == "PO-ONE"]
    line = next(ln for ln in sim.models["sale.order.line"].rows.values() if ln["order_id"][0] == order["id"])
    sim.write("sale.order.line", line["id"], {"qty_delivered": 2.0})  # delivered in the ERP
    move_id = sim.invoice(order["id"], "INV/2026/09999", day="2026-03-05", due="2026-04-04")
    erp_sync.run(store, streams=("orders", "invoices"), push=False)

    with store.engine.connect() as c:
        hub_orders = [r for r in tables.rows(c, "orders") if r.po_number == "PO-ONE"]
        [invoice] = [r for r in tables.rows(c, "invoice") if r.external_id == f"account.move/{move_id}"]
        queued = {r.item.entity_id for r in outbox.rows(c, "edi") if r.item.entity == "invoice"}
        document = edi_reads.invoice_view(c, store.cipher, invoice.id)
    # one hub order: the partner's, now with the ERP's state; the ERP's invoice bills it, for the partner's 810
    assert [(r.system, r.external_id, r.status) for r in hub_orders] == [("edi:acme", "PO-ONE", "shipped")]
    assert invoice.order_id == hub_orders[0].id and invoice.id in queued
    assert document is not None and document.order is not None and document.order.ref == Ref("edi:acme", "PO-ONE")


def test_a_create_that_times_out_after_the_erp_made_the_order_is_not_sent_again(
        store: Store, sim, data, serve, sim_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the ERP answers the create only after the client gave up (it made the order all the same)
    slow = serve(erp_sim, sim_folder / "slow", data,
                 faults=Faults({"sale.order/create": FaultRates(slow=1.0, slow_seconds=0.4)}))
    connect(monkeypatch, "waybill_erp", slow, read_timeout=0.2, max_attempts=4)
    erp_sync.run(store, streams=("customers",), push=False)
    send(store, "PO-SLOW", "1", OrderLine(1, Decimal(2), sku="SKU-00004", unit_price=Decimal(3)))

    first = push(store)
    slow.faults = Faults()
    time.sleep(0.5)  # the ERP has finished the create the client gave up on
    second = push(store)

    made = [o for o in slow.handler.models["sale.order"].rows.values() if o["client_order_ref"] == "PO-SLOW"]
    assert len(made) == 1
    assert first.published + second.published + second.unchanged == 1 and second.retry == 0
    with store.engine.connect() as conn:
        assert [r.state for r in outbox.rows(conn, "erp")] == ["delivered"]


def test_the_erps_order_read_before_the_write_back_recorded_it_is_the_same_hub_order(
        store: Store, sim, monkeypatch: pytest.MonkeyPatch) -> None:
    """The run that created the ERP's order died before it recorded the alias (or an overlapping run
    pulled first): the pull meets the ERP's order of the partner's purchase order and takes it as
    the partner's hub order, as the write-back itself finds it (purchase order number and customer),
    never as a second order for the CRM and the partner's invoices."""
    send(store, "PO-EARLY", "1", OrderLine(1, Decimal(2), sku="SKU-00004", unit_price=Decimal("9.50")))

    def die(*_a, **_k):  # the worker dies after the ERP made the order, before the hub recorded it
        raise KeyboardInterrupt("worker killed")

    real = erp_sync._settle
    monkeypatch.setattr(erp_sync, "_settle", die)
    with pytest.raises(KeyboardInterrupt):
        push(store)
    monkeypatch.setattr(erp_sync, "_settle", real)
    [order] = [o for o in sim.models["sale.order"].rows.values() if o["client_order_ref"] == "PO-EARLY"]
    move_id = sim.invoice(order["id"], "INV/2026/09998", day="2026-03-05", due="2026-04-04")
    erp_sync.run(store, streams=("orders", "invoices"), push=False)  # the pull before the next push
    assert push(store) == FlowCounts(unchanged=1)  # found in the ERP as it is: not made again

    with store.engine.connect() as c:
        hub_orders = [r for r in tables.rows(c, "orders") if r.po_number == "PO-EARLY"]
        [invoice] = [r for r in tables.rows(c, "invoice") if r.external_id == f"account.move/{move_id}"]
    assert [(r.system, r.external_id) for r in hub_orders] == [("edi:acme", "PO-EARLY")]
    assert invoice.order_id == hub_orders[0].id
