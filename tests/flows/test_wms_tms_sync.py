"""WMS and TMS -> hub end to end: stock, shipments and delivery events over sockets."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from sim import dataset as gen
from sim import erp as erp_sim
from sim import tms as tms_sim
from sim import wms as wms_sim
from sim.faults import FaultRates, Faults
from sim.http_server import SimServer
from tests.fixtures.sources import connect
from waybill.flows import erp_sync, replay, tms_delivery, wms_stock
from waybill.flows.counts import FlowCounts
from waybill.mappings.tms import STATUS
from waybill.store import identity, message_log
from waybill.store.reads import crm as crm_reads
from waybill.store.reads import logistics
from waybill.store.store import Store

pytestmark = pytest.mark.e2e


@pytest.fixture
def systems(store: Store, data: gen.Dataset, serve: Callable[..., SimServer], sim_folder: Path,
            monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[wms_sim.WmsSim, tms_sim.TmsSim]]:
    """Start the three simulators (no faults) and sync the ERP's customers, which shipments name."""

    def start(faults: Faults | None = None, page_size: int = 100,
              customers_first: bool = True) -> tuple[wms_sim.WmsSim, tms_sim.TmsSim]:
        erp = serve(erp_sim, sim_folder, data)
        wms = serve(wms_sim, sim_folder, data, faults)
        tms = serve(tms_sim, sim_folder, data, faults)
        connect(monkeypatch, "waybill_erp", erp)
        connect(monkeypatch, "waybill_wms", wms, page_size=page_size)
        connect(monkeypatch, "waybill_tms", tms, page_size=page_size * 3)
        if customers_first:
            erp_sync.run(store, streams=("customers",), push=False)
        return wms.handler, tms.handler

    return start


def expected_status(events: list[dict], number_of: dict[str, str]) -> dict[str, str]:
    """Each shipment's status (by tracking number) after its latest valid event (the generated
    stories never go back)."""
    by_number: dict[str, tuple[str, str]] = {}
    for e in events:
        number = e["tracking_number"] or number_of[e["shipment_ref"]]
        if e["code"] in STATUS and (number not in by_number or e["occurred_at"] >= by_number[number][0]):
            by_number[number] = (e["occurred_at"], STATUS[e["code"]])
    return {number: status for number, (_, status) in by_number.items()}


def truth(wms: wms_sim.WmsSim, tms: tms_sim.TmsSim) -> dict[str, dict]:
    return {
        "stock": {f"{r['sku']}@{r['location']}": (float(r["on_hand"]), float(r["allocated"]))
                  for r in wms.feeds["stock"].rows.values()},
        "shipments": {r["id"]: (r["carrier"], r["tracking_number"], r["packages"][0]["sscc"], len(r["packages"]),
                                f"res.partner/{r['customer_ref']}",
                                tuple(f"erp:sale.order/{o}" for o in r["order_refs"]))
                      for r in wms.feeds["shipments"].rows.values()},
        "status": expected_status(tms.events,
                                  {r["id"]: r["tracking_number"] for r in wms.feeds["shipments"].rows.values()}),
        "events": {str(e["id"]) for e in tms.events if e["code"] in STATUS},
    }


def hub_state(store: Store) -> dict[str, dict]:
    with store.engine.connect() as c:
        partner = {cid: ext for ext, cid in identity.customers_of(c, "erp").items()}
        ships = list(crm_reads.shipments(c).values())
        return {
            "stock": {s.ref.external_id: (float(s.on_hand), float(s.allocated)) for s in logistics.stock_levels(c)},
            "shipments": {s.ref.external_id: (s.carrier, s.tracking_number, s.sscc, s.packages,
                                              partner[s.customer_id], tuple(map(str, s.order_refs))) for s in ships},
            "status": {s.tracking_number: s.status for s in ships if s.status_at is not None},
            "events": {e.event_id for e in logistics.delivery_events(c)},
        }


def sync_all(store: Store) -> list[FlowCounts]:
    return [wms_stock.run(store), tms_delivery.run(store)]


def test_full_then_incremental_sync_lands_exactly_the_wms_and_tms(store: Store, systems: Callable, pages) -> None:
    wms, tms = systems()
    wms_counts, tms_counts = sync_all(store)
    assert hub_state(store) == truth(wms, tms)
    assert wms_counts.received == len(wms.feeds["stock"].rows) + len(wms.feeds["shipments"].rows)
    assert wms_counts.dead == 0
    # the one event with an undocumented code is dead-lettered with its reason; all others landed
    assert tms_counts.dead == 1
    with store.engine.connect() as c:
        [dead] = message_log.find(c, state="dead", system="tms")
    assert json.loads(store.raw_of(dead.id))["code"] == "X9"
    assert dead.reason == "unknown status code 'X9'" and dead.field_path == "event.code"

    # the warehouse moves on: a stock count, a new shipment; the TMS scans it six times, by
    # shipment id and (carrier scans) by tracking number only
    sku, location = next(iter(wms.feeds["stock"].rows))
    wms.update("stock", (sku, location), {"on_hand": 7, "allocated": 2}, "2026-04-01 10:00:00")
    new = {"id": "SHP900001", "order_refs": ["S00010"], "customer_ref": 4, "carrier": "DPD", "service": "express",
           "tracking_number": "09999999999991", "packages": [{"sscc": "340063800000000017", "weight_kg": 3.0}],
           "ship_date": "2026-04-01", "eta": "2026-04-03 12:00:00"}
    wms.update("shipments", ("SHP900001",), new, "2026-04-01 10:05:00")
    for i, code in enumerate(("CRT", "PUP", "DEP", "ARR", "OFD")):
        tms.scan(code, f"2026-04-0{1 + i // 3} 1{i}:00:00", shipment_ref="SHP900001", location="Venlo")
    tms.scan("DLV", "2026-04-03 09:30:00", tracking_number="09999999999991", location="Utrecht")
    wms_counts, tms_counts = sync_all(store)
    assert (wms_counts.received, wms_counts.stored) == (2, 2)
    assert (tms_counts.received, tms_counts.stored, tms_counts.dead) == (6, 7, 0)  # 6 events + 1 shipment
    assert hub_state(store) == truth(wms, tms)
    assert hub_state(store)["status"]["09999999999991"] == "delivered"

    # a late scan of an earlier status does not undo the delivery
    tms.scan("OFD", "2026-04-02 08:00:00", shipment_ref="SHP900001")
    tms_delivery.run(store)
    assert hub_state(store)["status"]["09999999999991"] == "delivered"

    # nothing changed: one empty page per stream, nothing written
    pages()
    wms_counts = wms_stock.run(store)
    assert (pages(), wms_counts.received) == (2, 0)
    tms_counts = tms_delivery.run(store)
    assert (pages(), tms_counts.received) == (1, 0)


def test_events_and_shipments_before_the_customers_wait_and_land_when_they_come(store: Store,
                                                                                systems: Callable) -> None:
    """The ERP sync failed its first try: the TMS and WMS run first. Nothing is dead-lettered but
    the planted bad event; the ERP's customers bring everything in."""
    wms, tms = systems(customers_first=False)
    tms_counts = tms_delivery.run(store)
    wms_counts = wms_stock.run(store)
    assert (tms_counts.dead, wms_counts.dead) == (1, 0)
    assert tms_counts.retry == len(tms.events) - 1 and wms_counts.retry == len(wms.feeds["shipments"].rows)
    erp_counts = erp_sync.run(store, streams=("customers",), push=False)
    assert erp_counts.dead == 0
    assert hub_state(store) == truth(wms, tms)
    with store.engine.connect() as c:
        assert message_log.find(c, state="parked") == []
        assert len(message_log.find(c, state="dead")) == 1


@pytest.mark.reliability
@pytest.mark.slow
@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_thirty_percent_transient_faults_give_the_same_hub(store: Store, systems: Callable) -> None:
    faults = Faults({"*": FaultRates.transient(0.3, retry_after=0, slow_seconds=0.8)}, seed=9)
    wms, tms = systems(faults, page_size=150)
    sync_all(store)
    assert hub_state(store) == truth(wms, tms)
    assert faults.total() >= 3


def test_replay_after_the_mapping_learns_a_code(store: Store, systems: Callable,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _, tms = systems()
    sync_all(store)
    with store.engine.connect() as c:
        [dead] = message_log.find(c, state="dead", system="tms")
    monkeypatch.setitem(STATUS, "X9", "in_transit")  # the fix: the vendor documented the code
    replay.replay(store, dead.id)
    with store.engine.connect() as c:
        assert message_log.find(c, state="dead", system="tms") == []
        assert message_log.get(c, dead.id).state == "replayed"
    assert len(hub_state(store)["events"]) == len(tms.events)
