"""The callbacks record into the hub what `waybill status` shows, and never raise."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from waybill.flows.counts import FlowCounts
from waybill.ops.callbacks import DETAIL_MAX, on_failure, on_success
from waybill.store.store import Store


@dataclass
class TaskInstance:
    """The attributes of Airflow's RuntimeTaskInstance that the callbacks read."""

    dag_id: str = "erp_sync"
    task_id: str = "sync"
    map_index: int = -1
    try_number: int = 3
    returned: object = None  # the task's XCom return value

    def xcom_pull(self, task_ids: str, map_indexes: int | None) -> object:
        return self.returned


def test_failure_is_recorded_with_task_try_and_error() -> None:
    store = Store.open()
    store.upgrade()
    on_failure({"ti": TaskInstance(map_index=4), "run_id": "manual__1",
                "exception": ValueError("orders page 3: bad date at /order_date")})
    [run] = store.status()["flow_runs"]
    assert (run["flow"], run["run_id"], run["state"]) == ("erp_sync", "manual__1", "failed")
    assert run["detail"] == "sync[4] try 3: ValueError: orders page 3: bad date at /order_date"


def test_success_is_recorded_with_the_counts_the_task_returned() -> None:
    store = Store.open()
    store.upgrade()
    counts = FlowCounts(received=3, stored=2, queued=2).as_dict()
    on_success({"ti": TaskInstance(returned=counts), "run_id": "scheduled__1"})
    [run] = store.status()["flow_runs"]
    assert (run["state"], run["detail"], run["counts"]) == ("success", "sync try 3", counts)


def test_long_errors_are_cut_and_the_full_text_stays_in_the_task_log() -> None:
    store = Store.open()
    store.upgrade()
    on_failure({"ti": TaskInstance(), "run_id": "r", "exception": RuntimeError("x" * 5000)})
    assert len(store.status()["flow_runs"][0]["detail"]) == DETAIL_MAX


def test_an_unreachable_hub_does_not_change_the_task_outcome(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("WAYBILL_DB_URL", f"sqlite:///{tmp_path / 'missing' / 'dir' / 'hub.db'}")
    caplog.set_level("INFO", logger="waybill.airflow")
    on_failure({"ti": TaskInstance(), "run_id": "r", "exception": OSError("down")})
    [line] = [r.getMessage() for r in caplog.records if "flow_run_not_recorded" in r.getMessage()]
    assert json.loads(line.split(" ", 1)[1])["state"] == "failed"
