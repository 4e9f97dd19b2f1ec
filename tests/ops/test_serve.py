"""`waybill demo --serve`: the simulators under `airflow standalone`; a run triggered in Airflow
succeeds, and Ctrl-C (SIGINT) stops every process it started."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.ops.test_celery import free_port

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
DAG_ID = "customer_insights"


def processes_with(marker: str) -> list[int]:
    """Ids of the live processes whose environment holds `marker` (this test's unique home)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def wait_for(what: str, check, timeout: float):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except (requests.RequestException, OSError, ValueError, KeyError):
            value = None
        if value:
            return value
        time.sleep(1)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def test_serve_runs_dags_in_standalone_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    home = tmp_path / ".waybill"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "WAYBILL_DB_URL"))}
    env.update(WAYBILL_HOME=str(home), AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
               AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(free_port()))
    waybill = str(Path(sys.executable).with_name("waybill"))
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([waybill, "demo", "--serve", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    api = f"http://127.0.0.1:{port}"
    try:
        wait_for("the api-server", lambda: requests.get(f"{api}/api/v2/monitor/health", timeout=5).ok, 150)
        passwords = home / "airflow" / "simple_auth_manager_passwords.json.generated"
        password = json.loads(passwords.read_text())["admin"]
        token = requests.post(f"{api}/auth/token", json={"username": "admin", "password": password},
                              timeout=10).json()["access_token"]
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {token}"
        dag = wait_for(f"{DAG_ID} parsed", lambda: s.get(f"{api}/api/v2/dags/{DAG_ID}", timeout=5).json()
                       if s.get(f"{api}/api/v2/dags/{DAG_ID}", timeout=5).ok else None, 90)
        assert dag["is_paused"] is False
        def trigger() -> str | None:
            # SQLite under airflow standalone answers 5xx ("database is locked") now and then under load
            created = s.post(f"{api}/api/v2/dags/{DAG_ID}/dagRuns", json={"logical_date": None}, timeout=10)
            if not created.ok:
                print(f"triggering {DAG_ID}: HTTP {created.status_code} {created.text[:500]}")
            return str(created.json()["dag_run_id"]) if created.ok else None

        run_id = wait_for(f"a run of {DAG_ID} triggered", trigger, 60)

        def finished() -> str | None:
            state = s.get(f"{api}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}", timeout=5).json()["state"]
            return state if state in ("success", "failed") else None

        assert wait_for(f"run {run_id}", finished, 120) == "success"

        proc.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal does
        assert proc.wait(120) is not None
        wait_for("every started process to end", lambda: not processes_with(str(home)), 30)
    finally:
        log.close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in processes_with(str(home)):  # only ours: they carry this test's home
            os.kill(pid, signal.SIGKILL)
