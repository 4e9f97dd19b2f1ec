"""OpenLineage: each flow task's outcome goes out as a run event with the flow's inputs and outputs,
through the OpenLineage provider, captured here with its file transport."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.providers.openlineage import conf

from tests.fixtures.provider import REPO, provider_path
from waybill.ops import callbacks, lineage


def clear_provider_config() -> None:
    """The provider reads its configuration once per process (functools.cache)."""
    for function in vars(conf).values():
        if hasattr(function, "cache_clear"):
            function.cache_clear()


@pytest.fixture
def captured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    events = tmp_path / "openlineage.jsonl"
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__TRANSPORT",
                       json.dumps({"type": "file", "log_file_path": str(events), "append": True}))
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__NAMESPACE", "waybill-test")
    clear_provider_config()

    def read() -> list[dict[str, Any]]:
        return [json.loads(line) for line in events.read_text().splitlines()] if events.exists() else []

    yield read
    monkeypatch.delenv("AIRFLOW__OPENLINEAGE__TRANSPORT")
    clear_provider_config()


def context(dag_id: str, counts: dict[str, int] | None = None, error: Exception | None = None) -> dict[str, Any]:
    ti = SimpleNamespace(dag_id=dag_id, task_id="run", map_index=-1, try_number=1,
                         xcom_pull=lambda **_: counts)
    return {"ti": ti, "run_id": "manual__2026-12-01", "exception": error}


def names(datasets: list[dict[str, Any]]) -> set[str]:
    return {f"{d['namespace']}/{d['name']}" for d in datasets}


def test_a_flow_run_reports_its_inputs_outputs_and_counts(captured: Any) -> None:
    callbacks.on_success(context("erp_sync", {"received": 12, "stored": 10, "dead": 1}))
    [complete] = captured()
    assert complete["eventType"] == "COMPLETE"
    assert complete["job"] == {"namespace": "waybill-test", "name": "erp_sync", "facets": {}}
    assert names(complete["inputs"]) == {"waybill://erp/customers", "waybill://erp/orders",
                                         "waybill://erp/invoices", "waybill://erp/payments"}
    assert names(complete["outputs"]) == {"waybill://hub/customers", "waybill://hub/orders",
                                          "waybill://hub/invoices"}
    assert complete["run"]["facets"]["waybill_counts"]["counts"] == {"received": 12, "stored": 10, "dead": 1}

    callbacks.on_failure(context("crm_publish", error=TimeoutError("crm did not answer")))
    failed = captured()[-1]
    assert failed["eventType"] == "FAIL" and failed["job"]["name"] == "crm_publish"
    assert names(failed["outputs"]) == {"waybill://crm/records"}
    assert "waybill://hub/customer_facts" in names(failed["inputs"])
    assert failed["run"]["runId"] != complete["run"]["runId"]


def test_every_dag_has_its_lineage() -> None:
    from tests.ops.test_dag_integrity import EXPECTED

    assert set(lineage.FLOWS) == set(EXPECTED)
    for flow, io in lineage.FLOWS.items():
        assert io.inputs and io.outputs, flow


def test_nothing_is_sent_while_the_provider_has_no_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AIRFLOW__OPENLINEAGE__TRANSPORT", "OPENLINEAGE_URL", "OPENLINEAGE_CONFIG"):
        monkeypatch.delenv(key, raising=False)
    clear_provider_config()
    assert lineage.emit("erp_sync", "r1", "run try 1", state="success", counts=None) is False


def test_hub_assets_are_openlineage_datasets_in_the_providers_own_events(tmp_path: Path) -> None:
    """The OpenLineage provider translates the DAGs' waybill:// Assets with Waybill's converter."""
    check = ("from airflow.sdk import Asset\n"
             "from airflow.providers.openlineage.utils.utils import translate_airflow_asset\n"
             "d = translate_airflow_asset(Asset(name='hub_orders', uri='waybill://hub/orders'), None)\n"
             "print(d.namespace, d.name)\n")
    extra = provider_path(tmp_path / "meta")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in (extra, REPO) if p)}
    done = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True, timeout=120,
                          check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "waybill://hub orders"
