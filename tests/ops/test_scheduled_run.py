"""A real scheduled run: Airflow's components as `waybill demo --serve` starts them (api-server,
scheduler, DAG processor, triggerer; LocalExecutor), the simulators, the DAGs unpaused on short
schedules (WAYBILL_SCHEDULE_SECONDS) until every flow has run at least twice in whatever order the
scheduler chose; then the hub is compared with the simulators: the ERP's customers and orders, the
CRM's records, and the dead letters (only the ones planted in the simulators' data)."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import re
import time
from collections import defaultdict
from pathlib import Path

import pytest

from tests.ops.test_celery import free_port
from waybill.flows import reconcile
from waybill.ops import airflow_home, demo
from waybill.ops import serve as airflow_serve
from waybill.store import flow_runs, message_log
from waybill.store.store import Store

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

#: seconds between two runs of each DAG (the asset-fed ones also run on their Assets)
EVERY_S = 30
#: how many finished runs of each flow the comparison waits for, at most WAIT_S seconds
CYCLES = 2
WAIT_S = 480


def finished_runs(store: Store, since: dt.datetime) -> dict[str, dict[str, set[str]]]:
    """flow -> task state -> the run ids with a task in that state, as the tasks' callbacks recorded them."""
    runs: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    with store.engine.connect() as conn:
        for r in flow_runs.since(conn, since):
            runs[r.flow][r.state].add(r.run_id)
    return runs


def test_dags_on_short_schedules_keep_the_hub_equal_to_the_simulators(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / ".waybill"
    for name in list(os.environ):
        if name.startswith(("AIRFLOW", "WAYBILL_")):
            monkeypatch.delenv(name)
    af_home = home / "airflow"
    monkeypatch.setenv("WAYBILL_HOME", str(home))
    monkeypatch.setenv("WAYBILL_SCHEDULE_SECONDS", str(EVERY_S))
    monkeypatch.setenv("WAYBILL_ALERT_KNOWN", demo.PLANTED)
    # On a loaded machine the Execution API answers slowly: a task must not be killed for that
    for name, value in {**airflow_home.environment(af_home), "AIRFLOW__CORE__PARALLELISM": "3",
                        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
                        "AIRFLOW__WORKERS__MAX_FAILED_HEARTBEATS": "20",
                        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port())}.items():
        monkeypatch.setenv(name, value)
    store = Store.open(create_key=True)
    store.upgrade()
    port = free_port()
    log_path = af_home / "serve.log"
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with contextlib.ExitStack() as stack:
        demo.start_simulators(stack, home / "sim", demo.SEED, io.StringIO())
        for name in [n for n in os.environ if n.startswith("AIRFLOW_CONN_")]:
            monkeypatch.setenv(name, os.environ.pop(name))  # the simulators' Connections: gone after the test
        airflow_home.migrate(dict(os.environ), log_path)
        airflow_home.ensure_pools()
        log = stack.enter_context(log_path.open("ab"))
        running = airflow_serve.Components(airflow_serve.environment(dict(os.environ), port),
                                           airflow_serve.components("127.0.0.1", port), log)
        try:
            airflow_serve.wait_healthy(running, port)
            assert airflow_serve.unpause_when_parsed(demo.FLOWS, running) == []
            deadline = time.monotonic() + WAIT_S
            while time.monotonic() < deadline:
                runs = finished_runs(store, started)
                if all(len(runs[f]["success"]) >= CYCLES for f in demo.FLOWS):
                    break
                assert not running.exited(), running.exited()
                print({f: len(runs[f]["success"]) for f in demo.FLOWS}, flush=True)
                time.sleep(10)
        finally:
            running.stop()
        runs = finished_runs(store, started)
        cycles = {f: len(runs[f]["success"]) for f in demo.FLOWS}
        failed = {f: sorted(runs[f]["failed"]) for f in demo.FLOWS if runs[f]["failed"]}
        print(f"runs per flow: {cycles}; failed: {failed}")
        assert all(n >= CYCLES for n in cycles.values()), (cycles, log_path.read_text()[-3000:])
        assert failed == {}

        # the simulators are still up: compare them with the hub
        report = reconcile.run(store, systems=["erp", "crm"])
        drift = [(c.entity, c.left, c.right, [(d.key, d.problem) for d in c.differences if d.known is None][:5])
                 for c in report.checks if c.drift]
        assert drift == []
        print({(c.entity, c.left, c.right): (c.counts, c.in_flight) for c in report.checks})
        erp = {c.entity: c.counts for c in report.checks if c.left == "erp"}
        assert erp["customer"]["hub"] > 0 and erp["order"]["hub"] > 0
        crm = [c for c in report.checks if c.right == "crm"]
        # every record the hub delivered is in the CRM as the hub holds it, and the CRM holds no other
        assert crm and all(c.counts["crm"] == c.counts["hub"] for c in crm), [(c.entity, c.counts) for c in crm]
        assert sum(c.counts["hub"] for c in crm) > 0
    with store.engine.connect() as conn:
        dead = message_log.find(conn, state="dead")
    unplanted = [(d.system, d.key, d.reason) for d in dead if not re.search(demo.PLANTED, d.reason or "")]
    assert dead and unplanted == []
