"""The same DAGs on CeleryExecutor: PostgreSQL metadata DB, Redis broker, and the scheduler,
dag-processor, api-server and a Celery worker as separate processes. A customer_insights run is
triggered through the REST API and awaited; the worker's success callback records it in the hub.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import redis
import requests
from sqlalchemy import create_engine, text

from tests.fixtures.parts import missing, require_postgres
from tests.fixtures.provider import provider_path
from tests.ops.test_provider import TYPES
from waybill.ops.airflow_home import REPO, airflow_bin, environment
from waybill.store.store import Store

pytestmark = [pytest.mark.airflow, pytest.mark.postgres, pytest.mark.slow]

PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
REDIS = "redis://127.0.0.1:6379"
DAG_ID = "customer_insights"
STOP_WAIT_S = 30
COMPONENTS = {
    "api-server": ["api-server"],
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
    "worker": ["celery", "worker", "--skip-serve-logs", "--concurrency", "2"],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def metadata_db() -> Iterator[str]:
    """A PostgreSQL database of this test's own, dropped afterwards."""
    require_postgres(PG_ADMIN)
    name = f"waybill_airflow_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def broker() -> Iterator[str]:
    """An empty Redis database number of this test's own, emptied afterwards."""
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=3).ping()
    except redis.ConnectionError as err:
        missing(f"Redis is not reachable at {REDIS} ({err}); start it or deselect with -m 'not airflow'")
    for db in secrets.SystemRandom().sample(range(8, 16), 8):
        client = redis.Redis.from_url(f"{REDIS}/{db}")
        if client.dbsize() == 0:
            break
    else:
        pytest.fail("no empty Redis database among 8-15")
    try:
        yield f"{REDIS}/{db}"
    finally:
        client.flushdb()
        client.close()


def cluster_env(home: Path, db_url: str, broker_url: str, api_port: int) -> dict[str, str]:
    """What every component shares: metadata DB, broker, API address and the same secrets."""
    venv_bin = str(Path(sys.executable).parent)
    provider = provider_path(home.parent / "provider-metadata")  # Waybill's connection types and hooks
    return {
        **os.environ,
        **environment(home),
        "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}",
        "PYTHONPATH": os.pathsep.join(str(p) for p in (provider, REPO) if p),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + db_url,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
    }


def start(stack: ExitStack, args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a component in its own process group; stopped with SIGINT (then SIGKILL) on exit."""
    out = stack.enter_context(log.open("wb"))
    proc = subprocess.Popen(args, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    stack.callback(stop, proc)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def wait_for(what: str, check, timeout: float, procs: list[subprocess.Popen[bytes]]):  # type: ignore[no-untyped-def]
    """Poll `check()` until it returns a truthy value; fail early if a component died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = [p.args[3:5] for p in procs if p.poll() is not None]
        assert not dead, f"component(s) exited while waiting for {what}: {dead}"
        try:
            value = check()
        except requests.RequestException:
            value = None
        if value:
            return value
        time.sleep(1)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def test_a_dag_run_triggered_through_the_api_succeeds_on_celery(tmp_path: Path, metadata_db: str,
                                                                 broker: str) -> None:
    t0 = time.monotonic()
    Store.open(create_key=True).upgrade()  # the hub store the worker's task and callback use
    api_port = free_port()
    env = cluster_env(tmp_path / "airflow", metadata_db, broker, api_port)
    (tmp_path / "airflow").mkdir()
    airflow = [airflow_bin()]
    migrate = subprocess.run([airflow_bin(), "db", "migrate"], env=env, capture_output=True, timeout=180, check=False)
    assert migrate.returncode == 0, migrate.stdout[-2000:]
    subprocess.run([sys.executable, "-m", "waybill.ops.airflow_home"], env=env, check=True, capture_output=True,
                   timeout=60)

    api = f"http://127.0.0.1:{api_port}"
    with ExitStack() as stack:
        procs = [start(stack, [*airflow, *cmd], env, tmp_path / f"{name}.log") for name, cmd in COMPONENTS.items()]
        wait_for("the api-server", lambda: requests.get(f"{api}/api/v2/monitor/health", timeout=5).ok, 90, procs)
        token = requests.get(f"{api}/auth/token", timeout=10).json()["access_token"]
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {token}"
        # The UI's connection form offers Waybill's connection types, each with its own fields.
        hook_meta = {h["connection_type"]: h for h in s.get(f"{api}/ui/connections/hook_meta", timeout=30).json()}
        assert set(hook_meta) >= TYPES, sorted(hook_meta)
        assert "host_key" in json.dumps(hook_meta["waybill_sftp"]["extra_fields"])
        wait_for(f"{DAG_ID} to be parsed", lambda: s.get(f"{api}/api/v2/dags/{DAG_ID}", timeout=5).ok, 90, procs)
        s.patch(f"{api}/api/v2/dags/{DAG_ID}", json={"is_paused": False}, timeout=10).raise_for_status()
        created = s.post(f"{api}/api/v2/dags/{DAG_ID}/dagRuns", json={"logical_date": None}, timeout=10)
        created.raise_for_status()
        run_id = created.json()["dag_run_id"]

        def finished() -> str | None:
            state = s.get(f"{api}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}", timeout=5).json()["state"]
            return state if state in ("success", "failed") else None

        state = wait_for(f"run {run_id}", finished, 150, procs)
        tis = s.get(f"{api}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", timeout=10).json()
    print(f"Celery run {run_id}: {state} in {time.monotonic() - t0:.1f} s (incl. migrate and start-up)")
    assert state == "success", _tails(tmp_path)
    [ti] = tis["task_instances"]
    assert ti["state"] == "success" and ti["hostname"]
    assert "Executing workload in Celery" in (tmp_path / "worker.log").read_text(errors="replace")
    recorded = [r for r in Store.open().status()["flow_runs"] if r["run_id"] == run_id]
    assert [(r["flow"], r["state"]) for r in recorded] == [(DAG_ID, "success")]
    assert all(p.poll() is not None for p in procs)


def _tails(folder: Path) -> str:
    return "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-1500:] for p in sorted(folder.glob("*.log")))
