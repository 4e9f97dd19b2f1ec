"""DAG integrity: every Waybill DAG parses, carries its wiring and imports fast."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from waybill.ops.airflow_home import DAGS_FOLDER, POOLS
from waybill.ops.alerts import on_dag_failure, on_dag_success
from waybill.ops.callbacks import on_failure, on_success

#: DAG id -> the Connection ids its doc must name
EXPECTED = {
    "erp_sync": ["waybill_erp"],
    "wms_stock": ["waybill_wms"],
    "tms_delivery": ["waybill_tms"],
    "carrier_tracking": ["waybill_carrier_fedex", "waybill_carrier_ups", "waybill_carrier_dhl"],
    "edi_inbound": ["waybill_partner_<id>"],
    "edi_outbound": ["waybill_partner_<id>"],
    "crm_publish": ["waybill_crm"],
    "finance_receivables": ["waybill_finance"],
    "customer_insights": [],
    "delivery_exceptions": [],
    "privacy_purge": [],
}
# Imports each DAG file in a child forked from a process that already imported airflow.sdk, as the
# dag-processor does, and reports whether any flow module came along (the flows pull in the
# connectors, lxml, zeep...: that is what makes a DAG file slow to parse) and the time it took
# (best of 3), printed for the reader: a time limit would only measure how loaded the machine is.
_TIMER = r"""
import json, os, sys, time
import airflow.sdk
folder = sys.argv[1]
sys.path.append(folder)
result = {}

def measure(name):
    r, w = os.pipe()
    if os.fork() == 0:
        t = time.perf_counter()
        __import__(name)
        took = time.perf_counter() - t
        flows = sorted(m for m in sys.modules if m.startswith("waybill.flows."))
        os.write(w, json.dumps([took, flows]).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        out = json.loads(f.read())
    os.wait()
    return out

for name in sorted(f[:-3] for f in os.listdir(folder) if f.endswith(".py") and not f.startswith("_")):
    result[name] = min((measure(name) for _ in range(3)), key=lambda m: m[0])
print(json.dumps(result))
"""


def test_no_import_errors_and_every_flow_has_its_dag(dagbag) -> None:  # type: ignore[no-untyped-def]
    assert dagbag.import_errors == {}
    assert sorted(dagbag.dag_ids) == sorted(EXPECTED)


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_dag_carries_docs_owner_tags_retries_pools_callbacks(dagbag, dag_id: str) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags[dag_id]
    assert dag.doc_md and "From:" in dag.doc_md and "To:" in dag.doc_md
    for conn_id in EXPECTED[dag_id]:
        assert f"`{conn_id}`" in dag.doc_md, f"{dag_id}: doc_md does not name {conn_id}"
    assert "waybill" in dag.tags and len(dag.tags) >= 2
    assert dag.max_active_runs == 1 and not dag.catchup
    assert on_dag_failure in _callbacks(dag.on_failure_callback)
    assert on_dag_success in _callbacks(dag.on_success_callback)
    for t in dag.tasks:
        assert t.owner == "integration"
        assert t.retries >= 1 and t.retry_policy is not None
        assert t.pool in POOLS, f"{dag_id}.{t.task_id}: pool {t.pool!r} not in waybill.ops.airflow_home.POOLS"
        assert on_failure in _callbacks(t.on_failure_callback)
        assert on_success in _callbacks(t.on_success_callback)


def test_every_consumed_asset_is_produced_by_some_dag(dagbag) -> None:  # type: ignore[no-untyped-def]
    # a task updates an Asset through an alias named after it (dags/_wiring.updates)
    produced = {o.name.removesuffix("_changed") for d in dagbag.dags.values() for t in d.tasks for o in t.outlets}
    produced |= {"partner_inboxes"}  # updated by its watcher (waybill.ops.triggers), not by a DAG
    consumers = {d.dag_id: _asset_names(getattr(d.timetable, "asset_condition", None))
                 for d in dagbag.dags.values()}
    for dag_id, names in consumers.items():
        assert names <= produced, f"{dag_id} waits on assets nobody updates: {names - produced}"
    # the publish flows are triggered by what the inbound flows store
    assert consumers["crm_publish"] >= {"hub_customers", "hub_orders", "hub_shipments", "hub_customer_facts"}
    assert "hub_invoices" in consumers["finance_receivables"]


def test_edi_inbound_maps_one_task_per_file(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["edi_inbound"]
    process = dag.get_task("process_file")
    assert process.is_mapped
    assert [u.task_id for u in process.upstream_list] == ["list_files"]


def test_each_dag_file_parses_without_loading_its_flow() -> None:
    out = subprocess.run([sys.executable, "-c", _TIMER, str(DAGS_FOLDER)], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    timings = json.loads(out.strip().splitlines()[-1])
    assert sorted(timings) == sorted(EXPECTED)
    slowest = sorted(timings.items(), key=lambda kv: -kv[1][0])
    print("DAG file import times (s): " + ", ".join(f"{n} {t:.3f}" for n, (t, _) in slowest))
    for name, (_took, flows) in timings.items():
        assert flows == [], f"{name} imports flow modules at parse time: {flows}"


def _callbacks(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _asset_names(condition: object) -> set[str]:
    """Names of the Assets in a schedule condition (Asset, AssetAny, AssetAll, nested)."""
    if condition is None:
        return set()
    if hasattr(condition, "objects"):
        return set().union(*(_asset_names(o) for o in condition.objects))
    return {condition.name}  # type: ignore[attr-defined]


class Events:
    """outlet_events as a task sees it: what was added to which alias."""

    def __init__(self) -> None:
        self.added: list[tuple[str, str, dict]] = []

    def __getitem__(self, alias):  # type: ignore[no-untyped-def]
        return SimpleNamespace(add=lambda asset, extra: self.added.append((alias.name, asset.name, extra)))


def test_asset_events_carry_counts_and_only_a_run_that_changed_something_emits_them(dagbag, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.syspath_prepend(str(DAGS_FOLDER))
    import _wiring

    from waybill.flows.counts import FlowCounts

    events = Events()
    monkeypatch.setattr(_wiring, "get_current_context", lambda: {"outlet_events": events})
    nothing = _wiring.xcom_counts(FlowCounts(received=40, unchanged=40), _wiring.ORDERS)
    assert nothing["received"] == 40 and events.added == []
    counts = _wiring.xcom_counts(FlowCounts(received=40, stored=3, unchanged=37), _wiring.ORDERS,
                                  _wiring.INVOICES)
    assert events.added == [("hub_orders_changed", "hub_orders", counts),
                            ("hub_invoices_changed", "hub_invoices", counts)]
    assert counts["stored"] == 3
    erp = dagbag.dags["erp_sync"].get_task("sync")
    assert sorted(o.name for o in erp.outlets) == [
        "hub_customers_changed", "hub_invoices_changed", "hub_orders_changed"]


def test_pulling_dags_take_streams_full_refresh_since_and_dry_run_as_params(dagbag, monkeypatch):  # type: ignore[no-untyped-def]
    from waybill.flows import erp_sync, wms_stock

    erp = dagbag.dags["erp_sync"].params
    assert erp["streams"] == list(erp_sync.STREAMS) and erp["full_refresh"] is False
    assert erp["since"] is None and erp["dry_run"] is False
    assert dagbag.dags["wms_stock"].params["streams"] == list(wms_stock.STREAMS)
    assert dagbag.dags["wms_stock"].params["since"] is None
    assert set(dagbag.dags["tms_delivery"].params) == {"full_refresh", "since", "dry_run"}
    monkeypatch.syspath_prepend(str(DAGS_FOLDER))
    import _wiring

    monkeypatch.setattr(_wiring, "get_current_context", lambda: {"params": {
        "streams": ["orders"], "full_refresh": True, "since": "2026-03-01T08:00:00+00:00", "dry_run": False}})
    options = _wiring.run_options()
    assert options["streams"] == ("orders",) and options["full_refresh"] is True and options["dry_run"] is False
    assert options["since"].isoformat() == "2026-03-01T08:00:00+00:00"
