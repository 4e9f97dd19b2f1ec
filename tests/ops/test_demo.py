"""`waybill demo --json` on a fresh working folder: every DAG runs once through Airflow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from waybill.ops.demo import FLOWS, STARTERS
from waybill.store import db, flow_runs, message_log, tables

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
BUDGET_S = 300


def test_demo_runs_every_flow_and_summarises_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "WAYBILL_DB_URL"))}
    env["WAYBILL_HOME"] = str(tmp_path / ".waybill")
    waybill = Path(sys.executable).with_name("waybill")
    t0 = time.monotonic()
    done = subprocess.run([str(waybill), "demo", "--json"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=BUDGET_S, check=False)
    took = time.monotonic() - t0
    print(f"waybill demo took {took:.1f} s; progress:\n{done.stderr}")
    summary = json.loads(done.stdout)

    assert list(summary["flows"]) == list(FLOWS)
    failed = {f: r.get("errors") for f, r in summary["flows"].items() if r["state"] != "success"}
    assert failed == {} and done.returncode == 0
    assert set(summary["simulators"]) == set(STARTERS)
    # simulators' data reached the hub; delivery problems became cases
    for flow in ("erp_sync", "wms_stock", "tms_delivery", "carrier_tracking", "edi_inbound", "delivery_exceptions"):
        assert summary["flows"][flow]["stored"] > 0, flow
    assert summary["flows"]["crm_publish"]["published"] > 0

    # the summary's counts are the ones the success callbacks recorded in the hub
    engine = db.make_engine(summary["store"])
    with engine.connect() as conn:
        runs = flow_runs.recent(conn, limit=None)
        tracked = {c: len(message_log.find(conn, system=f"carrier:{c}", stream="track"))
                   for c in ("fedex", "ups", "dhl")}
        problems = {r.problem for r in tables.rows(conn, "delivery_case")}
    engine.dispose()
    assert all(tracked.values()), tracked  # parcels of all three REST carriers
    assert {"failed_delivery", "late"} <= problems
    assert {r.flow for r in runs} == set(FLOWS)
    for flow in FLOWS:
        recorded = [r.counts for r in runs if r.flow == flow and r.state == "success" and r.counts]
        assert recorded, flow
        assert summary["flows"][flow]["received"] == sum(c.get("received", 0) for c in recorded)
    assert took < BUDGET_S
