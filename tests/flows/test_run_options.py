"""A flow's trigger-time options (the DAGs' Params): streams, full refresh, since, dry run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sim import erp as erp_sim
from sim import tms as tms_sim
from sim import wms as wms_sim
from tests.fixtures.sources import connect
from waybill.core.errors import ConfigError
from waybill.flows import erp_sync, tms_delivery, wms_stock
from waybill.store import tables
from waybill.store.store import Store

pytestmark = pytest.mark.e2e


def rows(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {t: tables.count(conn, t) for t in ("customer", "orders", "invoice", "message", "cursor", "outbox")}


def test_dry_run_streams_since_and_full_refresh(store: Store, data, serve, sim_folder: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    server = serve(erp_sim, sim_folder, data)
    connect(monkeypatch, "waybill_erp", server, page_size=100)
    sim: erp_sim.ErpSim = server.handler

    dry = erp_sync.run(store, streams=("customers",), dry_run=True)
    customers = [r for r in sim.models["res.partner"].rows.values() if r.get("customer_rank", 0) > 0]
    assert dry.received == len(customers) and dry.stored == dry.received
    assert set(rows(store).values()) == {0}  # nothing written, no cursor moved, no message logged

    only = erp_sync.run(store, streams=("customers",), push=False)
    assert only.stored == dry.stored and rows(store)["orders"] == 0
    assert store.get_cursor("erp", "customers") is not None and store.get_cursor("erp", "orders") is None

    again = erp_sync.run(store, streams=("customers",), push=False)
    assert again.received == 0  # from the cursor: nothing new
    full = erp_sync.run(store, streams=("customers",), push=False, full_refresh=True)
    assert full.received == only.received and full.stored == 0  # read again, found as it is

    stamp = sim.tick()  # the ERP's clock: a change written now is the only one since now
    sim.write("res.partner", 3, {"name": "Renamed Since AG"})
    since = erp_sync.run(store, streams=("customers",), push=False,
                         since=dt.datetime.fromisoformat(stamp))
    assert since.stored == 1 and since.received < only.received

    with pytest.raises(ConfigError, match="no stream shipments"):
        erp_sync.run(store, streams=("shipments",))


def test_wms_and_tms_read_from_a_time_instead_of_their_cursors(store: Store, data, serve, sim_folder: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    wms = serve(wms_sim, sim_folder, data)
    tms = serve(tms_sim, sim_folder, data)
    connect(monkeypatch, "waybill_wms", wms, page_size=50)
    connect(monkeypatch, "waybill_tms", tms, page_size=200)
    first = wms_stock.run(store, streams=("stock",))
    assert wms_stock.run(store, streams=("stock",)).received == 0  # from the cursor: nothing new

    stock = sorted(data.stock, key=lambda r: r["seq"])
    since = dt.datetime.fromisoformat(stock[-12]["updated_at"])  # the last 12 changes were at this time or later
    again = wms_stock.run(store, streams=("stock",), since=since)
    assert (again.received, again.stored) == (12, 0)  # read again, found as they are
    assert first.received == len(stock)
    assert wms_stock.run(store, streams=("stock",), since=since.replace(tzinfo=dt.UTC)).received == 12
    late = wms_stock.run(store, streams=("stock",), since=dt.datetime(2099, 1, 1))
    assert late.received == 0 and store.get_cursor("wms", "stock") == str(stock[-1]["seq"])  # the feed's head

    events = tms.handler.events
    at = dt.datetime.fromisoformat(events[len(events) // 2]["recorded_at"])
    expected = sum(1 for e in events if dt.datetime.fromisoformat(e["recorded_at"]) >= at)
    tms_delivery.run(store)
    assert tms_delivery.run(store).received == 0
    assert tms_delivery.run(store, since=at).received == expected < len(events)
    assert tms_delivery.run(store).received == 0  # the since run left the cursor at the feed's end
