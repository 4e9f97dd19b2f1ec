"""The WMS profile "odoo": stock levels (stock.quant) and deliveries (stock.picking) read from Odoo
19's Inventory, incrementally, into the hub beside the ERP's orders. One suite over the simulator
and a real Odoo 19, so the simulator cannot drift from Odoo's models."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sim import erp as erp_sim
from tests.fixtures.sources import FAST
from waybill.connectors.connection import parse
from waybill.connectors.erp import ErpConnector
from waybill.flows import erp_sync, wms_stock
from waybill.store import tables
from waybill.store.reads import logistics
from waybill.store.store import Store

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["sim", pytest.param("odoo", marks=pytest.mark.odoo)])
def erp_conn(request: pytest.FixtureRequest, serve, data, tmp_path: Path) -> dict[str, Any]:
    """The waybill_erp Connection (JSON-2) of the simulator or of a real Odoo 19."""
    if request.param == "odoo":
        server = request.getfixturevalue("odoo")
        conn: dict[str, Any] = server.connection("json2", read_timeout=60, timezone="America/Los_Angeles")
        return conn
    sim = serve(erp_sim, tmp_path / "sim", data)
    return {"conn_type": "http", "host": "127.0.0.1", "port": sim.port, "login": "admin",
            "password": sim.handler.api_key, "extra": {**FAST, "db": sim.handler.db, "protocol": "json2"}}


def connect(monkeypatch: pytest.MonkeyPatch, erp: dict[str, Any]) -> ErpConnector:
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
def test_stock_and_deliveries_from_odoo_inventory(store: Store, erp_conn: dict[str, Any],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    erp = connect(monkeypatch, erp_conn)
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
    # a delivery's moves: its products and quantities, as Odoo 19 names them
    [picking], _ = erp.call("stock.picking", "search_read", [[("picking_type_code", "=", "outgoing"),
                                                              ("move_ids", "!=", False)], ["name", "move_ids"]],
                            {"limit": 1})
    moves, _ = erp.call("stock.move", "read", [picking["move_ids"], ["picking_id", "product_id", "product_uom_qty",
                                                                     "quantity", "state"]])
    assert moves and all(m["picking_id"] == [picking["id"], picking["name"]] and isinstance(m["product_id"], list)
                         and isinstance(m["product_uom_qty"], float) for m in moves)
    # with the delivery module (the simulator has it), a shipment carries its carrier and tracking reference
    known, _ = erp.call("stock.picking", "fields_get", [], {"attributes": ["type"]})
    if known.get("carrier_id", {}).get("type") == "many2one":
        tracked, _ = erp.call("stock.picking", "search_read", [[("carrier_tracking_ref", "!=", False)],
                                                               ["name", "carrier_id", "carrier_tracking_ref"]])
        assert tracked
        hub = {r.external_id: (r.carrier, r.tracking_number) for r in shipments}
        assert all(hub[p["name"]] == (p["carrier_id"][1], p["carrier_tracking_ref"]) for p in tracked)

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
