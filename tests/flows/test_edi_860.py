"""X12 860 (purchase order change) from a partner: the hub's order of the same PO changes like a
resent, changed 850 (lines, quantities, prices; BCH01 01 cancels) and the change reaches the ERP's
order through the write-back while Odoo allows it; when it does not, a dead letter says why."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from sim import erp as erp_sim
from waybill.canonical.model import Batch, Customer, InboundMessage, Order, Ref
from waybill.edi.envelope import read_interchanges
from waybill.edi.validator import Hook
from waybill.flows import erp_sync
from waybill.flows.counts import FlowCounts
from waybill.flows.edi_inbound import read_file
from waybill.flows.partners import load_partner
from waybill.store import outbox, tables
from waybill.store.reads import edi as reads
from waybill.store.store import Store

DATA = Path(__file__).resolve().parents[1] / "data" / "edi"
PO_850 = (DATA / "acme-850-PO-CHG-1.x12").read_bytes()
PO_860 = (DATA / "acme-860-PO-CHG-1.x12").read_bytes()
PO_860_DELETE = (DATA / "acme-860-PO-CHG-1-delete.x12").read_bytes()
REF = Ref("edi:acme", "850/PO-CHG-1")


def receive(store: Store, raw: bytes) -> None:
    """Read a partner file as the inbound flow does (the hub's orders for its 860s) and store it."""
    inbound = read_file(raw, load_partner("acme"), customers=store).inbound
    store.apply(Batch("edi:acme", "edi", [inbound]))


def hub_orders(store: Store) -> list[Order]:
    with store.engine.connect() as c:
        return [o for o in reads.orders_from(c, store.cipher, "edi:acme") if o.po_number == "PO-CHG-1"]


def lines(order: Order) -> list[tuple[int, str | None, Decimal, Decimal | None]]:
    return [(ln.line_no, ln.sku, ln.quantity, ln.unit_price) for ln in order.lines]


def test_the_860_files_are_valid_x12_004010() -> None:
    profile = load_partner("acme").profile
    for raw in (PO_850, PO_860, PO_860_DELETE):
        [ic] = read_interchanges(io.BytesIO(raw), on_message=Hook(profile.validation))
        assert not ic.issues and [(m.type, m.issues) for m in ic.messages] == [(ic.messages[0].type, [])]


def test_an_860_changes_the_order_of_the_same_file_or_of_the_hub(store: Store) -> None:
    # in one file: the 850, then its change
    both = read_file(PO_850 + PO_860, load_partner("acme")).inbound
    first, changed = both.entities
    assert isinstance(first, Order) and isinstance(changed, Order) and changed.ref == first.ref == REF
    assert changed.version > first.version and not both.rejects
    assert lines(changed) == [(1, "SKU-00004", 2, Decimal("8.75")), (2, "SKU-00005", 5, 3),
                              (3, "SKU-00006", 4, 1)]
    assert changed.lines[2].description == "Pallet wrap" and changed.requested_date == dt.date(2026, 11, 30)
    assert changed.amount_untaxed == Decimal("36.50") and changed.customer == first.customer
    # without its 850 the change is refused with the reason, naming the field
    alone = read_file(PO_860, load_partner("acme")).inbound
    [reject] = alone.rejects
    assert "no purchase order 'PO-CHG-1' from partner edi:acme to change" in reject.reason
    assert reject.field_path == "860/0001/BCH[1]/BCH03"
    # BCH01 01 cancels the order the hub holds
    store.apply(Batch("erp", "customers", [InboundMessage(b"c", entities=[
        Customer(Ref("erp", "res.partner/1"), "ACME Retail", "1")])]))
    receive(store, PO_850)
    receive(store, PO_860.replace(b"BCH*04*", b"BCH*01*"))
    [order] = hub_orders(store)
    assert order.status == "cancelled" and lines(order)[2] == (3, "SKU-00006", 4, 1)


def test_a_change_code_the_mapping_does_not_know_is_refused() -> None:
    raw = PO_850 + PO_860.replace(b"POC*2*QI*", b"POC*2*RE*")
    [reject] = read_file(raw, load_partner("acme")).inbound.rejects
    assert "unsupported change code 'RE'" in reject.reason and reject.field_path.endswith("POC[2]/POC02")


PROFILE_ERP = """
[hub.erp]
confirm = true
"""


@pytest.fixture
def erp(erp_for_partners: Callable[[str], erp_sim.ErpSim]) -> erp_sim.ErpSim:
    return erp_for_partners(PROFILE_ERP)


def push(store: Store) -> FlowCounts:
    return erp_sync.push_orders(store, erp_sync.connector.ErpConnector.from_connection())


def erp_lines(sim: erp_sim.ErpSim) -> tuple[str, list[tuple[str, float, float]]]:
    [order] = [o for o in sim.models["sale.order"].rows.values() if o["client_order_ref"] == "PO-CHG-1"]
    products = sim.models["product.product"].rows
    found = sorted((ln["sequence"], ln["id"], products[ln["product_id"][0]]["default_code"], ln["product_uom_qty"],
                    ln["price_unit"])
                   for ln in sim.models["sale.order.line"].rows.values() if ln["order_id"][0] == order["id"])
    return order["state"], [ln[2:] for ln in found]


@pytest.mark.e2e
def test_850_then_860_is_one_hub_order_and_the_erps_order_follows(store: Store, erp: erp_sim.ErpSim) -> None:
    receive(store, PO_850)
    assert push(store) == FlowCounts(published=1)
    assert erp_lines(erp) == ("sale", [("SKU-00004", 2.0, 9.5), ("SKU-00005", 1.0, 3.0)])

    receive(store, PO_860)
    [order] = hub_orders(store)
    assert lines(order) == [(1, "SKU-00004", 2, Decimal("8.75")), (2, "SKU-00005", 5, 3), (3, "SKU-00006", 4, 1)]
    assert push(store) == FlowCounts(published=1)
    assert erp_lines(erp) == ("sale", [("SKU-00004", 2.0, 8.75), ("SKU-00005", 5.0, 3.0), ("SKU-00006", 4.0, 1.0)])
    with store.engine.connect() as c:
        assert len([r for r in tables.rows(c, "orders") if r.po_number == "PO-CHG-1"]) == 1

    # Odoo keeps the lines of a confirmed order: deleting one is a dead letter with Odoo's reason
    receive(store, PO_860_DELETE)
    assert push(store) == FlowCounts(dead=1)
    with store.engine.connect() as c:
        [dead] = [r for r in outbox.rows(c, "erp") if r.state == "dead"]
    assert dead.reason is not None and dead.reason.startswith(
        "erp refused order 850/PO-CHG-1: Once a sales order is confirmed, you can't remove one of its lines")
    assert len(erp_lines(erp)[1]) == 3
