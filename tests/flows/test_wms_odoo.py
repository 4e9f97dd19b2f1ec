"""The WMS profile "odoo": stock levels (stock.quant) and deliveries (stock.picking) read from a
real Odoo 19's Inventory, incrementally, into the hub beside the ERP's orders."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.fixtures.odoo import OdooServer
from waybill.connectors.connection import parse
from waybill.connectors.erp import ErpConnector
from waybill.flows import erp_sync, wms_stock
from waybill.store import tables
from waybill.store.reads import logistics
from waybill.store.store import Store

pytestmark = [pytest.mark.odoo, pytest.mark.e2e]


def connect(monkeypatch: pytest.MonkeyPatch, odoo: OdooServer) -> ErpConnector:
    erp = odoo.connection("json2", read_timeout=60, timezone="America/Los_Angeles")
    monkeypatch.setenv("AIRFLOW_CONN_WAYBILL_ERP", json.dumps(erp))
    wms = {**erp, "extra": {**erp["extra"], "profile": "odoo"}}
    monkeypatch.setenv("AIRFLOW_CONN_WAYBILL_WMS", json.dumps(wms))
    return ErpConnector(parse("waybill_erp", json.dumps(erp)))


def odoo_stock(erp: ErpConnector) -> dict[tuple[int, int], tuple[Decimal, Decimal]]:
    """On hand and reserved per product and internal location, summed over their quants."""
    quants, _ = erp.call("stock.quant", "search_read", [[("location_id.usage", "=", "internal")],
                                                        ["product_id", "location_id", "quantity", "reserved_quantity"]])
    out: dict[tuple[int, int], tuple[Decimal, Decimal]] = {}
    for q in quants:
        key = (q["product_id"][0], q["location_id"][0])
        on_hand, reserved = out.get(key, (Decimal(0), Decimal(0)))
        out[key] = (on_hand + Decimal(str(q["quantity"])), reserved + Decimal(str(q["reserved_quantity"])))
    return out


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_stock_and_deliveries_from_odoo_inventory(store: Store, odoo: OdooServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    erp = connect(monkeypatch, odoo)
    erp_sync.run(store, push=False)
    first = wms_stock.run(store)
    assert first.dead == 0
    truth = odoo_stock(erp)
    with store.engine.connect() as c:
        levels = logistics.stock_levels(c, "wms")
        shipments = [r for r in tables.rows(c, "shipment") if r.system == "wms"]
    assert len(levels) == len(truth)  # one level per product and location, whatever its quants
    assert sorted((lv.on_hand, lv.allocated) for lv in levels) == sorted(truth.values())
    pickings, _ = erp.call("stock.picking", "search_read", [[("picking_type_code", "=", "outgoing"),
                                                             ("state", "!=", "cancel")], ["name"]])
    assert sorted(r.external_id for r in shipments) == sorted(p["name"] for p in pickings)

    # a count in the warehouse: only that level is read again
    domain = [("location_id.usage", "=", "internal"), ("reserved_quantity", "=", 0)]
    [quant], _ = erp.call("stock.quant", "search_read", [domain, ["product_id", "location_id"]], {"limit": 1})
    erp.call("stock.quant", "write", [[quant["id"]], {"inventory_quantity": 7.0}])
    erp.call("stock.quant", "action_apply_inventory", [[quant["id"]]])
    second = wms_stock.run(store, streams=("stock",))
    with store.engine.connect() as c:
        levels = logistics.stock_levels(c, "wms")
    assert second.stored == 1
    assert sorted((lv.on_hand, lv.allocated) for lv in levels) == sorted(odoo_stock(erp).values())
