"""Back-office fixtures: the seeded dataset, simulators on loopback and Connections pointing at them."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from sim import dataset as gen
from sim.faults import Faults
from sim.http_server import SimServer

SEED = 7
#: A client policy for tests: short timeouts (the simulators' slow answers take longer), quick retries.
FAST = {"connect_timeout": 1, "read_timeout": 0.5, "max_attempts": 12, "backoff_initial": 0.01,
        "backoff_max": 0.05, "max_total_seconds": 60}


@pytest.fixture(scope="session")
def data() -> gen.Dataset:
    """The default small dataset (60 customers, 400 orders), the truth tests compare the hub with."""
    return gen.generate(SEED)


def connect(monkeypatch: pytest.MonkeyPatch, conn_id: str, server: SimServer, **extra: object) -> None:
    """Point Connection `conn_id` at a simulator (JSON form of AIRFLOW_CONN_<ID>)."""
    value = {"conn_type": "http", "host": "127.0.0.1", "port": server.port, "extra": {**FAST, **extra}}
    if conn_id == "waybill_erp":  # JSON-2 authenticates with the API key, JSON-RPC with login and password
        value.update(login="admin", password="waybill-api-key" if extra.get("protocol") == "json2" else "admin")
        value["extra"].setdefault("db", "waybill")
    else:
        value["password"] = "wb-token"
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(value))


@pytest.fixture
def sim_folder(tmp_path: Path) -> Path:
    return tmp_path / "sim"


@pytest.fixture
def serve() -> Iterator[Callable[..., SimServer]]:
    """Start simulators (module.start(folder, data=..., faults=...)); all are shut down at the end."""
    running: list[SimServer] = []

    def start(module: ModuleType, folder: Path, data: gen.Dataset, faults: Faults | None = None,
              **options: object) -> SimServer:
        server = module.start(folder, SEED, data=data, faults=faults, **options)
        running.append(server)
        return server

    yield start
    for server in running:
        server.shutdown()


@pytest.fixture
def pages(caplog: pytest.LogCaptureFixture) -> Callable[[], int]:
    """Pages the pull loop read since the last call, as its "pulled" events report them."""
    caplog.set_level(logging.INFO, logger="waybill.flows.sync")

    def read() -> int:
        lines = [r.getMessage() for r in caplog.records if r.name == "waybill.flows.sync"]
        caplog.clear()
        return sum(json.loads(line.split(" ", 1)[1])["pages"] for line in lines if line.startswith("pulled "))

    return read
