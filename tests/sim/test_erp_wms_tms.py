"""The back-office simulators: deterministic realistic data, persistent state, their HTTP contracts."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from sim import dataset as gen
from sim import erp as erp_sim
from sim import tms as tms_sim
from sim import wms as wms_sim
from sim.erp import compile_domain
from sim.http_server import SimServer


def test_same_seed_same_data_and_realistic_shape(data: gen.Dataset) -> None:
    again = gen.generate(7)
    assert again == data and gen.generate(8) != data
    orders = data.erp["sale.order"]
    lines = data.erp["sale.order.line"]
    # revenue follows a Pareto curve: the top fifth of the customers bring most of it
    revenue = Counter()
    for o in orders:
        revenue[o["partner_id"][0]] += o["amount_total"]
    ranked = sorted(revenue.values(), reverse=True)
    assert sum(ranked[: len(ranked) // 5]) > 0.5 * sum(ranked)
    assert len(lines) / len(orders) > 2.5  # several lines per order
    assert any(0 < ln["qty_delivered"] < ln["product_uom_qty"] for ln in lines)  # partial shipments
    moves = data.erp["account.move"]
    assert {m["payment_state"] for m in moves} >= {"paid", "partial", "not_paid"}
    assert any(m["move_type"] == "out_refund" for m in moves)  # returns
    assert any(m["amount_residual"] > 0 and m["invoice_date_due"] < "2026-02-01" for m in moves)  # overdue
    assert len({s["warehouse"] for s in data.stock}) == 3
    per_parcel = Counter(e["tracking_number"] for e in data.events)
    assert min(per_parcel.values()) >= 6
    assert {s["tracking_number"] for s in data.shipments} == set(per_parcel)  # the TMS knows the WMS's parcels
    assert [e["id"] for e in data.events] == sorted(e["id"] for e in data.events)


def test_domains() -> None:
    rows = [{"id": i, "write_date": f"2026-01-01 10:00:0{i % 3}", "partner_id": [i % 2, "x"]} for i in range(6)]
    pred, bound = compile_domain(["|", ("write_date", ">", "2026-01-01 10:00:01"),
                                  "&", ("write_date", "=", "2026-01-01 10:00:01"), ("id", ">", 1)])
    assert [r["id"] for r in rows if pred(r)] == [2, 4, 5] and bound == "2026-01-01 10:00:01"
    pred, bound = compile_domain([("partner_id", "=", 1), ("id", "not in", [1])])
    assert [r["id"] for r in rows if pred(r)] == [3, 5] and bound is None
    with pytest.raises(erp_sim.OdooError, match="operator"):
        compile_domain([("id", "~", 1)])


def test_state_survives_a_restart(data: gen.Dataset, tmp_path: Path) -> None:
    erp = erp_sim.ErpSim(tmp_path, 7, data)
    erp.write("res.partner", 2, {"name": "Kept"})
    new_id = erp.execute("sale.order", "create", [{"partner_id": 2, "order_line": [[0, 0, {"product_id": 1}]]}], {})
    wms = wms_sim.WmsSim(tmp_path, 7, data)
    key = next(iter(wms.feeds["stock"].rows))
    wms.update("stock", key, {"on_hand": 1}, "2026-05-01 00:00:00")
    tms = tms_sim.TmsSim(tmp_path, 7, data)
    tms.scan("DLV", "2026-05-01 00:00:00", tracking_number="123")

    erp2 = erp_sim.ErpSim(tmp_path, 7, data)
    wms2, tms2 = wms_sim.WmsSim(tmp_path, 7, data), tms_sim.TmsSim(tmp_path, 7, data)
    assert erp2.models["res.partner"].rows[2]["name"] == "Kept"
    assert erp2.models["sale.order"].rows[new_id]["order_line"] == erp.models["sale.order"].rows[new_id]["order_line"]
    assert wms2.feeds["stock"].rows[key]["on_hand"] == 1 and wms2.feeds["stock"].seq == wms.feeds["stock"].seq
    assert tms2.events[-1]["tracking_number"] == "123"
    # another seed is another dataset: the journal of the old one does not apply
    assert "Kept" not in {p["name"] for p in erp_sim.ErpSim(tmp_path, 8).models["res.partner"].rows.values()}


@pytest.mark.e2e
def test_rest_contracts_auth_and_paging(data: gen.Dataset, serve: Callable[..., SimServer], sim_folder: Path) -> None:
    wms = serve(wms_sim, sim_folder, data)
    tms = serve(tms_sim, sim_folder, data)
    auth = {"Authorization": "Bearer wb-token"}
    assert requests.get(wms.url + "/api/v1/stock", timeout=5).status_code == 401
    seen, cursor = [], ""
    while True:
        page = requests.get(wms.url + "/api/v1/shipments", params={"cursor": cursor, "limit": 150}, headers=auth,
                            timeout=5).json()
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == [s["id"] for s in data.shipments]
    bad = requests.get(wms.url + "/api/v1/stock", params={"limit": "x"}, headers=auth, timeout=5)
    assert bad.status_code == 400 and bad.json()["param"] == "cursor/limit"
    last = data.events[-1]["id"]
    tail = requests.get(tms.url + "/api/v1/events", params={"after": last - 2}, headers=auth, timeout=5).json()
    assert [e["id"] for e in tail["events"]] == [last - 1, last] and tail["last_id"] == last
    assert not tail["has_more"]


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["erp", "wms", "tms"])
def test_runs_from_the_command_line(name: str, tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", f"sim.{name}", "--port", "0", "--state", str(tmp_path),
                             "--orders", "40", "--customers", "10"],
                            cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split(" on ")[1].split()[0]
        if name == "erp":
            r = requests.post(url + "/jsonrpc", json={"jsonrpc": "2.0", "id": 1, "method": "call", "params": {
                "service": "common", "method": "authenticate", "args": ["waybill", "admin", "admin", {}]}}, timeout=5)
            assert r.json()["result"] == 2
        else:
            path = "/api/v1/stock" if name == "wms" else "/api/v1/events"
            r = requests.get(url + path, headers={"Authorization": "Bearer wb-token"}, timeout=5)
            assert r.status_code == 200 and r.json()[("items" if name == "wms" else "events")]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
