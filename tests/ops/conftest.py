"""Fixtures of the operations tests: the parsed DAG folder, a private Airflow home, a seeded hub."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from sim import crm as crm_sim
from sim import erp as erp_sim
from sim import tms as tms_sim
from sim import wms as wms_sim
from waybill.store.store import Store

# Airflow reads its configuration once, on first import: give this test process a throwaway home
# before anything imports it (the tests that run DAGs use child processes with their own home).
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="waybill-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

from waybill.ops.airflow_home import DAGS_FOLDER


@pytest.fixture(scope="session")
def dagbag():  # type: ignore[no-untyped-def]
    """Every DAG in dags/, parsed the way the dag-processor does (the folder on sys.path)."""
    from airflow.dag_processing.dagbag import BundleDagBag

    return BundleDagBag(str(DAGS_FOLDER), bundle_path=Path(DAGS_FOLDER))


@dataclass
class SeededHub:
    """A hub filled by the real flows from the ERP simulator and published to the CRM simulator."""

    store: Store
    erp: erp_sim.ErpSim
    crm: crm_sim.CrmSim
    finance: Path  # the folder finance receives its AR feed in


#: the reason the ERP gives for the EDI order the seeded hub could not write back
REFUSED = "erp refused order edi:acme/PO-1: SKU 'SKU-7499' is not a product in the ERP"


@pytest.fixture
def hub(data, serve, sim_folder: Path, monkeypatch: pytest.MonkeyPatch, crm: crm_sim.CrmSim) -> SeededHub:
    """The default store (WAYBILL_HOME) migrated and seeded: the ERP's data pulled by erp_sync (one
    order in an unknown currency is dead-lettered), published to the CRM by crm_publish; an EDI
    order whose write-back the ERP refused (a dead outbox row); yesterday's AR feed delivered to a
    finance folder; an interchange sent to partner acme
    awaiting its acknowledgment; a cursor per ERP stream; two recorded flow runs."""
    from tests.fixtures.factories import order
    from tests.fixtures.sources import connect
    from waybill.canonical import model
    from waybill.edi.hooks import OutboundKey
    from waybill.flows import crm_publish, erp_sync, finance_receivables
    from waybill.flows.partners import load_partner
    from waybill.store import outbox
    from waybill.store.edi_state import StoreLedger

    store = Store.open()
    store.upgrade()
    server = serve(erp_sim, sim_folder, data)
    connect(monkeypatch, "waybill_erp", server, page_size=100)
    counts = erp_sync.run(store, push=False)
    assert counts.dead == 1
    crm_publish.run(store)
    finance = sim_folder / "finance"
    monkeypatch.setenv("AIRFLOW_CONN_WAYBILL_FINANCE", json.dumps({"conn_type": "fs", "extra": {"path": str(finance)}}))
    assert finance_receivables.run(store).published == 3  # open items, their invoice lines, the control file
    po = order("PO-1", "res.partner/1", system="edi:acme")
    store.apply(model.Batch("edi:acme", "orders", [model.InboundMessage(b"ISA*...PO-1", "po-1.x12", [po])]))
    with store.begin() as conn:
        (erp_row,) = outbox.pending(conn, "erp")
        outbox.mark_failed(conn, erp_row.id, REFUSED, dead=True)
    acme = load_partner("acme").profile
    StoreLedger(store).expect(OutboundKey(acme.standard, acme.us.id, acme.partner.id, "interchange", "000000042"),
                              ["0001"])
    store.record_flow_run("erp_sync", "manual__1", "success", detail="sync try 1", counts=counts.as_dict())
    store.record_flow_run("crm_publish", "manual__1", "failed", detail="publish try 1: ConnectionError: refused")
    return SeededHub(store, server.handler, crm, finance)


@pytest.fixture
def logistics(hub: SeededHub, serve, sim_folder, data, monkeypatch) -> tuple[wms_sim.WmsSim, tms_sim.TmsSim]:
    """The seeded hub with the WMS's stock and shipments and the TMS's events pulled in."""
    from tests.fixtures.sources import connect
    from waybill.flows import tms_delivery, wms_stock

    wms = serve(wms_sim, sim_folder, data)
    tms = serve(tms_sim, sim_folder, data)
    connect(monkeypatch, "waybill_wms", wms, page_size=200)
    connect(monkeypatch, "waybill_tms", tms, page_size=500)
    wms_stock.run(hub.store)
    assert tms_delivery.run(hub.store).dead == 1  # the dataset's event with a code nobody told us about
    return wms.handler, tms.handler
