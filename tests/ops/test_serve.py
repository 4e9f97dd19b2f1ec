"""`waybill demo --serve`: the simulators under Airflow's components; the DAGs are unpaused once
Airflow is healthy, every listener is on 127.0.0.1, a run triggered in Airflow succeeds, and
Ctrl-C (SIGINT) stops every process it started within 20 s."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.ops.test_celery import free_port

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
DAG_ID = "customer_insights"


def processes_in(session: int) -> list[int]:
    """Ids of the live processes of a session: everything `waybill demo --serve` started (its
    components run in their own process group but in its session). Their environment cannot tell:
    Airflow's setproctitle overwrites it."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[3]) == session and fields[0] != "Z":  # session id; zombies are gone already
                found.append(int(entry.name))
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


def listening(pids: list[int]) -> set[str]:
    """The local addresses (ip:port) on which the processes `pids` listen for TCP connections."""
    inodes = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                address, port = fields[1].split(":")
                ip = (socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1]) if table == "tcp"
                      else socket.inet_ntop(socket.AF_INET6, b"".join(
                          bytes.fromhex(address[i:i + 8])[::-1] for i in range(0, 32, 8))))
                found.add(f"{ip}:{int(port, 16)}")
    return found


def test_serve_runs_dags_and_stops_on_ctrl_c(tmp_path: Path) -> None:
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
        wait_for(f"{DAG_ID} parsed and unpaused", lambda: s.get(f"{api}/api/v2/dags/{DAG_ID}", timeout=5).json()
                 ["is_paused"] is False, 150)
        # serve says ready once every DAG is unpaused (through the airflow CLI: a few seconds after this one)
        wait_for("serve ready", lambda: "ready: UI on http://127.0.0.1" in (tmp_path / "serve.log").read_text(), 120)
        addresses = listening(processes_in(proc.pid))
        assert f"127.0.0.1:{port}" in addresses, sorted(addresses)
        assert {a.rsplit(":", 1)[0] for a in addresses} == {"127.0.0.1"}, addresses  # nothing on 0.0.0.0 or ::

        def trigger() -> str | None:
            # SQLite under Airflow answers 5xx ("database is locked") now and then under load
            created = s.post(f"{api}/api/v2/dags/{DAG_ID}/dagRuns", json={"logical_date": None}, timeout=10)
            if not created.ok:
                print(f"triggering {DAG_ID}: HTTP {created.status_code} {created.text[:500]}")
            return str(created.json()["dag_run_id"]) if created.ok else None

        run_id = wait_for(f"a run of {DAG_ID} triggered", trigger, 60)

        def finished() -> str | None:
            state = s.get(f"{api}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}", timeout=5).json()["state"]
            return state if state in ("success", "failed") else None

        assert wait_for(f"run {run_id}", finished, 120) == "success"

        stopping = time.monotonic()
        proc.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal does
        assert proc.wait(30) is not None
        wait_for("every started process to end", lambda: not processes_in(proc.pid), 30)
        took = time.monotonic() - stopping
        print(f"stopped in {took:.1f} s")
        assert took <= 21  # 20 s, and the 1 s poll of wait_for
    finally:
        log.close()
        for pid in processes_in(proc.pid):  # only ours: the session the test started
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
