"""A real scheduled run: Airflow's components as `waybill demo --serve` starts them (api-server,
scheduler, DAG processor, triggerer; LocalExecutor), the simulators, the DAGs unpaused on short
schedules (WAYBILL_SCHEDULE_SECONDS) until every flow has run at least twice in whatever order the
scheduler chose, the last time after every flow's first run had ended; then the hub is compared
with every simulator the demo starts:

- reconciliation over every system (waybill.flows.reconcile): the ERP's customers, orders, invoices
  and payments, the WMS's stock and shipments, the TMS's delivery events, each carrier's latest scan
  of the open shipments, the CRM's Accounts, Orders, Shipments and Cases, and finance's feed file
  against the hub's open items of its cut-off; no difference but the records the hub parked or
  dead-lettered, and nothing left out for want of a Connection;
- each partner's SFTP folders: no file left in the inbox, no unfinished upload (.part) anywhere,
  every file picked up acknowledged once (997/CONTRL) and nothing else acknowledged, every
  interchange the hub recorded as sent in the outbox once and no document there twice;
- the dead letters: only the ones planted in the simulators' data."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import re
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures import partner_folders
from tests.ops.test_celery import free_port
from waybill.edi.profiles import load_profile
from waybill.flows import reconcile
from waybill.flows.partners import partners_dir
from waybill.ops import airflow_home, demo
from waybill.ops import serve as airflow_serve
from waybill.store import flow_runs, message_log, tables
from waybill.store.store import Store

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

#: seconds between two runs of each DAG (the asset-fed ones also run on their Assets)
EVERY_S = 30
#: how many finished runs of each flow the comparison waits for, at most WAIT_S seconds
CYCLES = 2
WAIT_S = 480


def finished_runs(store: Store, since: dt.datetime) -> dict[str, dict[str, dict[str, dt.datetime]]]:
    """flow -> task state -> run id -> when the run's last task in that state was recorded, as the
    tasks' callbacks recorded them."""
    runs: dict[str, dict[str, dict[str, dt.datetime]]] = defaultdict(lambda: defaultdict(dict))
    with store.engine.connect() as conn:
        for r in flow_runs.since(conn, since):
            runs[r.flow][r.state][r.run_id] = r.at
    return runs


def settled(runs: dict[str, dict[str, dict[str, dt.datetime]]]) -> bool:
    """Every flow ran CYCLES times, and its last run started after every flow's first run had ended
    (its second-to-last one ended after that: a DAG's runs do not overlap), so that run saw what the
    others brought: the carriers are asked about the shipments the WMS sync brought, and so on."""
    ends = {f: sorted(runs[f]["success"].values()) for f in demo.FLOWS}
    if any(len(e) < CYCLES for e in ends.values()):
        return False
    first_round = max(e[0] for e in ends.values())
    return all(e[-2] >= first_round for e in ends.values())


def leftovers(folder: Path) -> list[str]:
    """The files under `folder` still under an upload's temporary name (.part, .tmp, .filepart): an
    upload that never finished."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.is_file() and p.name.endswith((".part", ".tmp", ".filepart")))


def compare_partner_folders(store: Store, sftp: Path) -> dict[str, dict[str, Any]]:
    """Per partner (each SFTP simulator's root under `sftp`): no file left in the inbox (unread,
    or claimed and never finished), none half uploaded; every file picked up (archived)
    acknowledged once in the outbox and by nothing else; every interchange the hub recorded as
    sent to the partner in the outbox once, and no document in it twice."""
    with store.engine.connect() as conn:
        ledger = Counter((r.receiver, r.control_number) for r in tables.rows(conn, "interchange")
                         if r.direction == "out" and r.level == "interchange")
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(partners_dir().glob("*.toml")):
        profile = load_profile(path)
        root = sftp / profile.id / "root"
        problems: list[str] = []
        unread = sorted(p.name for p in (root / "inbox").iterdir())
        if unread:
            problems.append(f"left in the inbox: {unread}")
        if partial := leftovers(root):
            problems.append(f"unfinished uploads: {partial}")
        owed = Counter(key for p in sorted((root / "archive").iterdir()) for key in
                       partner_folders.owed(p.read_bytes()))
        sent = partner_folders.outbox(root / "outbox")
        if (missing := sorted(owed.keys() - sent.acks.keys())):
            problems.append(f"not acknowledged: {missing}")
        if (twice := sorted(k for k, n in sent.acks.items() if n > 1)):
            problems.append(f"acknowledged more than once: {twice}")
        if (stray := sorted(sent.acks.keys() - owed.keys())):
            problems.append(f"acknowledgments of no file picked up: {stray}")
        recorded = Counter({n: k for (to, n), k in ledger.items() if to == profile.partner.id})
        if recorded != sent.interchanges:
            problems.append(f"sent per the hub {dict(recorded)}, in the outbox {dict(sent.interchanges)}")
        if (again := sorted(kind for (kind, _), n in sent.documents.items() if n > 1)):
            problems.append(f"documents more than once: {again}")
        found[profile.id] = {"read": sum(owed.values()), "acks": sum(sent.acks.values()),
                             "documents": sum(sent.documents.values()), "problems": problems}
    return found


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
                if settled(runs):
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
        assert settled(runs), (cycles, log_path.read_text()[-3000:])
        assert failed == {}

        # the simulators are still up: compare every system the demo configures with the hub
        report = reconcile.run(store)
        assert report.skipped == {}
        print({(c.entity, c.left, c.right): (c.counts, c.in_flight) for c in report.checks})
        print("held back:", [(c.entity, c.left, c.right, d.key, d.known) for c in report.checks
                             for d in c.differences if d.known is not None])
        drift = [(c.entity, c.left, c.right, [(d.key, d.problem) for d in c.differences if d.known is None][:5])
                 for c in report.checks if c.drift]
        assert drift == []
        checked = {(c.left, c.right) for c in report.checks}
        carriers = {c.left for c in report.checks if c.entity == "tracking_status"}
        assert {("erp", "hub"), ("wms", "hub"), ("tms", "hub"), ("hub", "crm"), ("hub", "finance")} <= checked
        assert carriers, checked
        counts = {(c.entity, c.left): c.counts for c in report.checks}
        for entity, source in [("customer", "erp"), ("order", "erp"), ("invoice", "erp"), ("stock", "wms"),
                               ("shipment", "wms"), ("delivery_event", "tms")]:
            assert counts[(entity, source)]["hub"] > 0, (entity, source, counts[(entity, source)])
        crm = [c for c in report.checks if c.right == "crm"]
        # every record the hub delivered is in the CRM as the hub holds it, and the CRM holds no other
        assert all(c.counts["crm"] == c.counts["hub"] for c in crm), [(c.entity, c.counts) for c in crm]
        assert sum(c.counts["hub"] for c in crm) > 0
        # finance's feed file holds exactly the hub's open items as of its cut-off
        fin = next(c for c in report.checks if c.right == "finance")
        assert fin.counts["finance"] == fin.counts["hub"] > 0, fin.counts
        assert leftovers(home / "sim" / "finance") == []

        # the partners' folders: every file read, acknowledged once, every document sent once
        partners = compare_partner_folders(store, home / "sim" / "sftp")
        print("partner folders:", partners)
        assert sum(p["read"] for p in partners.values()) > 0
        assert {pid: p["problems"] for pid, p in partners.items() if p["problems"]} == {}
    with store.engine.connect() as conn:
        dead = message_log.find(conn, state="dead")
    unplanted = [(d.system, d.key, d.reason) for d in dead if not re.search(demo.PLANTED, d.reason or "")]
    assert dead and unplanted == []
